// @ts-check
/**
 * WAL payloads of planned Remembers, for the in-process replay micro-benches
 * (replay-apply.mjs, decode-handback.mjs): a SYSTEM_START (384-d, buffer 100,
 * learned retention), then `count` Remembers of 40 random words, each with a
 * request id, planned and applied in order so every record is what the
 * service would log. Deterministic: the same count gives the same bytes.
 */
import { walV1 } from "@t4dm/proto";
import { embedText, encodeEntry, LearningState, planRemember } from "@t4dm/learning";

export const DIM = 384;
const WORDS = "alpha beta gamma delta rust go python deploy kubernetes cache latency memory budget invoice tax cat dog".split(" ");

/** @param {number} count @returns {Buffer[]} every record's payload, LSN 1 first */
export function plannedRememberPayloads(count) {
  const state = new LearningState();
  let lsn = 0, clock = Date.UTC(2026, 0, 1), ids = 0, seed = 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  /** @type {Buffer[]} */
  const payloads = [];
  /** @param {import("@t4dm/learning").Operation} op @param {Date} time */
  const push = (op, time) => {
    const encoded = encodeEntry(op, time);
    state.apply(++lsn, encoded.entry);
    payloads.push(encoded.payload);
  };
  push({ $case: "systemStart", value: { version: "t", recoveryMode: "cold", recoveredLsn: 0, seed: 7, embeddingDim: DIM, bufferCapacity: 100, defaultRetention: 2, learningScope: 0, maxScorerAdaptations: 0 } }, new Date(clock));
  for (let i = 0; i < count; i++) {
    const time = new Date((clock += 1000));
    const content = Array.from({ length: 40 }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" ");
    const input = { namespace: "bench", content, kind: walV1.MemoryKind.MEMORY_KIND_EPISODIC, metadata: { source: "bench", n: i }, importance: 0, embedding: embedText(content + i, DIM), always: true, requestId: `r${i}` };
    for (const op of planRemember(state, input, { now: time, newId: () => `id-${++ids}` }).operations) push(op, time);
  }
  return payloads;
}
