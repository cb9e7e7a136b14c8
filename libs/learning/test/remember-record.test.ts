/**
 * One REMEMBER record is exactly the sequence of records older code logged
 * for the same Remember: planned from the same state, applying it, applying
 * its steps as separate records, and applying those steps in the old format
 * (repeated floats) reach the same state (but for the LSN count and the
 * vectors' wire form, which the comparison puts aside).
 */
import { createHash } from "node:crypto";
import { stateV1, walV1 } from "@t4dm/proto";
import { describe, expect, it } from "vitest";
import {
  embedText,
  encodeEntry,
  LearningState,
  makeRoom,
  matchRequest,
  requestBodyHash,
  memoryEmbedding,
  noveltyOf,
  memoryGateFeatures,
  centroidOf,
  packFloat32,
  packRemember,
  planRecall,
  planReinforce,
  planRemember,
  queryTerms,
  rememberSteps,
  RememberShapeError,
  unpackFloat32,
  PackedFloatsError,
  type Operation,
} from "../src/index.js";
import { Driver, mulberry32 } from "./support/driver.js";

const DIM = 48;
const WORDS = "alpha beta gamma delta rust go python deploy kubernetes cache latency memory budget invoice tax cat dog".split(" ");

function text(random: () => number): string {
  return Array.from({ length: 3 + Math.floor(random() * 5) }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" ");
}

/** The operation as the code before packed vectors wrote it: repeated floats only. */
function legacyForm(operation: Operation): Operation {
  const unpackMemory = (memory: walV1.MemoryRecord): walV1.MemoryRecord => ({
    ...memory,
    embedding: Array.from(memoryEmbedding(memory)),
    embeddingF32: new Uint8Array(0),
    gateFeatures: Array.from(memoryGateFeatures(memory)),
    gateFeaturesF32: new Uint8Array(0),
  });
  if (operation.$case === "bufferAdd") return { $case: "bufferAdd", value: { memory: unpackMemory(operation.value.memory!) } };
  if (operation.$case === "clusterUpdate") return { $case: "clusterUpdate", value: { ...operation.value, centroid: Array.from(centroidOf(operation.value)), centroidF32: new Uint8Array(0) } };
  return operation;
}

/**
 * The records the code before REMEMBER logged for this Remember, planned
 * here from the same parts (not from the REMEMBER record): room made, the
 * cluster update, arousal, encoding, the memory.
 */
function oldSequence(state: LearningState, namespace: string, embedding: Float32Array, memory: walV1.MemoryRecord, now: Date): Operation[] {
  return [
    ...makeRoom(state, now, 1),
    { $case: "clusterUpdate", value: state.clusters.planAssign(namespace, embedding).record },
    state.neuromodulators.planNovelty(noveltyOf(state, namespace, embedding)),
    ...state.neuromodulators.planEncoding(),
    { $case: "bufferAdd", value: { memory } },
  ];
}

/** Applies operations as records the way replay does (decoded from their bytes), after the state's last LSN. */
function applyAll(state: LearningState, payloads: readonly Uint8Array[]): LearningState {
  for (const payload of payloads) state.apply(state.appliedLsn + 1, walV1.WalEntry.decode(payload));
  return state;
}

/**
 * The state's hash with what may differ between the formats put aside: the
 * LSN (one record vs several) and the wire form of buffered vectors.
 */
function logicalHash(state: LearningState): string {
  const snapshot = state.snapshot();
  const plain = (entry: stateV1.BufferedMemory): stateV1.BufferedMemory => {
    const memory = entry.memory!;
    return { ...entry, memory: { ...memory, embedding: Array.from(memoryEmbedding(memory)), embeddingF32: new Uint8Array(0), gateFeatures: Array.from(memoryGateFeatures(memory)), gateFeaturesF32: new Uint8Array(0) } };
  };
  const normalized = { ...snapshot, appliedLsn: 0, buffer: snapshot.buffer.map(plain), promoting: snapshot.promoting.map(plain) };
  return createHash("sha256").update(stateV1.LearningState.encode(normalized).finish()).digest("hex");
}

describe("REMEMBER: one record, the same state change as the sequence it replaces", () => {
  for (const { seed, retention } of [
    { seed: 3, retention: walV1.RetentionMode.RETENTION_MODE_LEARNED },
    { seed: 11, retention: walV1.RetentionMode.RETENTION_MODE_KEEP },
  ]) {
    it(`planned from the same state, all three ways agree (seed ${seed}, ${walV1.retentionModeToJSON(retention)})`, () => {
      const random = mulberry32(seed);
      const driver = new Driver(random);
      // A small buffer, so Remembers make room (promotions, and evictions under LEARNED).
      driver.start({ seed, embeddingDim: DIM, bufferCapacity: 5, defaultRetention: retention });
      const recalls: string[] = [];
      let compared = 0;
      let leaving = 0;
      for (let i = 0; i < 120; i++) {
        const time = driver.now();
        const namespace = random() < 0.7 ? "team-a" : "team-b";
        const roll = random();
        if (roll < 0.6) {
          const content = text(random);
          const input = { namespace, content, kind: walV1.MemoryKind.MEMORY_KIND_EPISODIC, metadata: { n: i }, importance: random(), embedding: embedText(content, DIM), always: random() < 0.3, requestId: random() < 0.2 ? `r-${i}` : "" };
          const plan = planRemember(driver.state, input, driver.context(time));
          if (plan.decision === "admitted") {
            expect(plan.operations.map((operation) => operation.$case)).toEqual(["remember"]);
            const record = plan.operations[0]!;
            const steps = oldSequence(driver.state, input.namespace, input.embedding, plan.memory, time);
            leaving += steps.filter((step) => step.$case === "bufferPromote" || step.$case === "bufferRemove").length;
            const one = applyAll(driver.state.clone(), [encodeEntry(record, time).payload]);
            const several = applyAll(driver.state.clone(), steps.map((step) => encodeEntry(step, time).payload));
            const legacy = applyAll(driver.state.clone(), steps.map((step) => walV1.WalEntry.encode({ time, operation: legacyForm(step) }).finish()));
            expect(one.appliedLsn).toBe(driver.state.appliedLsn + 1);
            expect(several.appliedLsn).toBe(driver.state.appliedLsn + steps.length);
            expect({ ...several.snapshot(), appliedLsn: 0 }).toEqual({ ...one.snapshot(), appliedLsn: 0 });
            expect(logicalHash(several)).toBe(logicalHash(one));
            expect(logicalHash(legacy)).toBe(logicalHash(one));
            compared += 1;
          }
          driver.commit(plan.operations, time);
        } else if (roll < 0.85) {
          const query = text(random);
          const plan = planRecall(driver.state, { namespace, query: embedText(query, DIM), queryTerms: queryTerms(query), mode: "hybrid", topK: 3, minScore: -1, filter: {} }, driver.context(time));
          driver.commit(plan.operations, time);
          recalls.push(`${namespace}|${plan.recallId}`);
        } else if (recalls.length > 0) {
          const [ns, recallId] = recalls.splice(Math.floor(random() * recalls.length), 1)[0]!.split("|") as [string, string];
          const plan = planReinforce(driver.state, { namespace: ns, recallId, reward: random() * 2 - 1, memoryRewards: {} });
          if (plan.found) driver.commit(plan.operations, time);
        }
      }
      expect(compared).toBeGreaterThan(40);
      expect(leaving).toBeGreaterThan(20);
    });
  }

  it("packs only the shape a Remember plans, and unpacks to the same steps", () => {
    const cluster: Operation = { $case: "clusterUpdate", value: { namespace: "ns", clusterId: 1, centroid: [], centroidF32: packFloat32([1, 0]), memberCount: 1 } };
    const arousal: Operation = { $case: "norepinephrineArousal", value: { arousal: 0.5, drive: 1 } };
    const encoding: Operation = { $case: "acetylcholineEncoding", value: { encoding: 0.6 } };
    const add: Operation = { $case: "bufferAdd", value: { memory: walV1.MemoryRecord.fromPartial({ id: "m", namespace: "ns" }) } };
    const promote: Operation = { $case: "bufferPromote", value: { memoryId: "old", targetStore: walV1.TargetStore.TARGET_STORE_EPISODIC } };
    const evict: Operation = { $case: "bufferRemove", value: { memoryId: "weak", reason: walV1.RemovalReason.REMOVAL_REASON_CAPACITY } };
    for (const steps of [[promote, evict, cluster, arousal, encoding, add], [cluster, arousal, add]]) {
      expect(rememberSteps(packRemember(steps))).toEqual(steps);
    }
    for (const steps of [[cluster, arousal], [arousal, cluster, add], [cluster, arousal, add, add], [cluster, promote, arousal, add]]) {
      expect(() => packRemember(steps)).toThrow(RememberShapeError);
    }
  });
});

describe("REMEMBER: the request body hash, logged once", () => {
  const metadata = { zeta: { b: [1, "two", { y: 2, x: 1 }], a: null }, alpha: 0.1, mid: true, "": "empty key" };

  function plannedRecord(): { driver: Driver; payload: Uint8Array; time: Date } {
    const driver = new Driver(mulberry32(5));
    driver.start({ seed: 5, embeddingDim: DIM, bufferCapacity: 5 });
    const time = driver.now();
    const content = "the invoice is due on friday";
    const input = { namespace: "team-a", content, kind: walV1.MemoryKind.MEMORY_KIND_SEMANTIC, metadata, importance: 0.3, embedding: embedText(content, DIM), always: true, requestId: "req-1" };
    const plan = planRemember(driver.state, input, driver.context(time));
    return { driver, payload: encodeEntry(plan.operations[0]!, time).payload, time };
  }

  function remembered(payload: Uint8Array): walV1.Remember {
    const operation = walV1.WalEntry.decode(payload).operation;
    if (operation?.$case !== "remember") throw new Error("not a REMEMBER record");
    return operation.value;
  }

  it("is the hash of the body as replay decodes it, so a record without it (older WALs) replays to the same state", () => {
    const { driver, payload, time } = plannedRecord();
    const record = remembered(payload);
    expect(Buffer.from(record.requestBodySha256)).toEqual(Buffer.from(requestBodyHash(record.memory!)));
    const older = walV1.WalEntry.encode({ time, operation: { $case: "remember", value: { ...record, requestBodySha256: new Uint8Array(0) } } }).finish();
    const logged = applyAll(driver.state.clone(), [payload]);
    const hashed = applyAll(driver.state.clone(), [older]);
    expect(logged.hash().toString("hex")).toBe(hashed.hash().toString("hex"));
    // A retry of the same body after the replay is a retry; another body under the id is refused.
    const request = { namespace: "team-a", requestId: "req-1", content: "the invoice is due on friday", kind: walV1.MemoryKind.MEMORY_KIND_SEMANTIC, metadata, importance: 0.3 };
    expect(matchRequest(logged, request).kind).toBe("retry");
    expect(matchRequest(logged, { ...request, content: "the invoice is due on monday" }).kind).toBe("reused");
  });

  it("is taken as logged on replay, not hashed again, and kept apart from the batch it came in", () => {
    const { driver, payload, time } = plannedRecord();
    const record = remembered(payload);
    const marked = new Uint8Array(32).fill(7);
    const bytes = walV1.WalEntry.encode({ time, operation: { $case: "remember", value: { ...record, requestBodySha256: marked } } }).finish();
    const batch = Buffer.concat([Buffer.alloc(100), bytes]);
    const state = applyAll(driver.state.clone(), [batch.subarray(100)]);
    const key = state.requestKeys.get("team-a", "req-1")!;
    expect(Buffer.from(key.bodySha256)).toEqual(Buffer.from(marked));
    expect(key.bodySha256.buffer.byteLength).toBe(32);
  });

  it("is empty without a request id", () => {
    const driver = new Driver(mulberry32(6));
    driver.start({ seed: 6, embeddingDim: DIM, bufferCapacity: 5 });
    const time = driver.now();
    const plan = planRemember(driver.state, { namespace: "n", content: "x", kind: walV1.MemoryKind.MEMORY_KIND_EPISODIC, metadata: {}, importance: 0, embedding: embedText("x", DIM), always: true, requestId: "" }, driver.context(time));
    expect(remembered(encodeEntry(plan.operations[0]!, time).payload).requestBodySha256.byteLength).toBe(0);
  });
});

describe("packed float32 vectors", () => {
  it("round-trip exactly, from any byte offset, as an independent copy", () => {
    const values = Float32Array.from([0.1, -2.5, 3e-8, 1e30, -0, 7]);
    const packed = packFloat32(values);
    expect(packed.byteLength).toBe(24);
    // Little-endian on the wire, whatever the host.
    expect(Buffer.from(packed).readFloatLE(4)).toBe(values[1]);
    for (const offset of [0, 1, 2, 3, 5]) {
      const carrier = new Uint8Array(offset + packed.byteLength);
      carrier.set(packed, offset);
      const view = carrier.subarray(offset);
      const unpacked = unpackFloat32(view);
      expect(Array.from(unpacked)).toEqual(Array.from(values));
      carrier.fill(0);
      expect(Array.from(unpacked)).toEqual(Array.from(values));
    }
    // A Buffer's slice is a view of a shared pool: the copy must hold only the vector.
    const pooled = Buffer.from(packed);
    expect(unpackFloat32(pooled).length).toBe(values.length);
  });

  it("refuses bytes that are not whole float32s", () => {
    expect(() => unpackFloat32(new Uint8Array(7))).toThrow(PackedFloatsError);
  });
});
