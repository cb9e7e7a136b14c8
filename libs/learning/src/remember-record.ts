import type { walV1 } from "@t4dm/proto";
import { requestBodyHash } from "./request-match.js";
import type { Operation } from "./wal-entries.js";

/**
 * One REMEMBER record holds what older WALs logged for one admitted Remember
 * as a sequence of records: BUFFER_PROMOTE / BUFFER_REMOVE for each item
 * leaving, CLUSTER_UPDATE, NOREPINEPHRINE_AROUSAL, ACETYLCHOLINE_ENCODING (when
 * it moved), BUFFER_ADD. Applying it is applying that sequence in that order,
 * so the state it reaches is the same; only the framing is shared.
 */

/** The planned steps of a Remember were not in the order one REMEMBER record holds. */
export class RememberShapeError extends Error {
  constructor(readonly cases: readonly string[]) {
    super(`a REMEMBER record holds [leaving…, clusterUpdate, norepinephrineArousal, acetylcholineEncoding?, bufferAdd], not [${cases.join(", ")}]`);
    this.name = "RememberShapeError";
  }
}

/** The one record for a Remember's planned steps, in the order listed above. */
export function packRemember(steps: readonly Operation[]): walV1.Remember {
  const fail = () => new RememberShapeError(steps.map((step) => step.$case));
  const leaving: walV1.BufferLeave[] = [];
  let at = 0;
  for (; at < steps.length; at++) {
    const step = steps[at]!;
    if (step.$case === "bufferPromote") leaving.push({ leave: { $case: "promote", value: step.value } });
    else if (step.$case === "bufferRemove") leaving.push({ leave: { $case: "remove", value: step.value } });
    else break;
  }
  const cluster = steps[at++];
  const arousal = steps[at++];
  let encoding = steps[at];
  if (encoding?.$case === "acetylcholineEncoding") at += 1;
  else encoding = undefined;
  const add = steps[at++];
  if (cluster?.$case !== "clusterUpdate" || arousal?.$case !== "norepinephrineArousal" || add?.$case !== "bufferAdd" || at !== steps.length) throw fail();
  return {
    leaving,
    clusterUpdate: cluster.value,
    arousal: arousal.value,
    encoding: encoding?.$case === "acetylcholineEncoding" ? encoding.value : undefined,
    memory: add.value.memory,
    // Hashed once here, so neither applying it (twice, live) nor replaying it hashes the body again.
    requestBodySha256: add.value.memory?.requestId ? requestBodyHash(add.value.memory) : new Uint8Array(0),
  };
}

/** The sequence of operations a REMEMBER record stands for, in application order. */
export function rememberSteps(record: walV1.Remember): Operation[] {
  const steps: Operation[] = [];
  for (const { leave } of record.leaving) {
    if (leave?.$case === "promote") steps.push({ $case: "bufferPromote", value: leave.value });
    else if (leave?.$case === "remove") steps.push({ $case: "bufferRemove", value: leave.value });
  }
  if (record.clusterUpdate) steps.push({ $case: "clusterUpdate", value: record.clusterUpdate });
  if (record.arousal) steps.push({ $case: "norepinephrineArousal", value: record.arousal });
  if (record.encoding) steps.push({ $case: "acetylcholineEncoding", value: record.encoding });
  if (record.memory) steps.push({ $case: "bufferAdd", value: { memory: record.memory } });
  return steps;
}

/**
 * The single-purpose operations an entry's operation stands for: a REMEMBER
 * record's steps, else the operation itself. For readers that look for one
 * kind of change (evictions, promotions) whichever format logged it.
 */
export function stepsOf(operation: Operation | undefined): Operation[] {
  if (!operation) return [];
  return operation.$case === "remember" ? rememberSteps(operation.value) : [operation];
}
