/**
 * The checkpoint encoder sends large snapshots to its worker in slices, one
 * per event-loop turn, and the worker encodes them group by group as they
 * arrive; what comes back must be exactly the protobuf encoding of the whole
 * snapshot and its SHA-256, whatever the slicing, for any size of state, and
 * also when snapshots are encoded concurrently. Runs the built encoder (its worker is
 * a .js file under dist).
 */
import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { stateV1, walV1 } from "@t4dm/proto";
import { SnapshotEncoder } from "../dist/pipeline/snapshot-encoder.js";

const encoders: SnapshotEncoder[] = [];
afterEach(async () => {
  for (const encoder of encoders.splice(0)) await encoder.close();
});

/** A state with every sliced part several slices long, and each entry distinct. */
function bigSnapshot(seed: number): stateV1.LearningState {
  const memory = (i: number): walV1.MemoryRecord =>
    walV1.MemoryRecord.fromPartial({
      id: `m-${seed}-${i}`,
      namespace: `ns-${i % 7}`,
      content: `memory ${i} of ${seed}`,
      embedding: Array.from({ length: 8 }, (_, d) => Math.fround(Math.sin(seed + i + d))),
      importance: 0.5,
    });
  return stateV1.LearningState.fromPartial({
    formatVersion: 1,
    appliedLsn: 1000 + seed,
    initialized: true,
    seed,
    embeddingDim: 8,
    bufferCapacity: 4000,
    buffer: Array.from({ length: 1700 }, (_, i) => ({ memory: memory(i), evidence: Math.fround(i / 1700), accessCount: i % 3 })),
    promoting: Array.from({ length: 600 }, (_, i) => ({ memory: memory(10_000 + i), evidence: 0.9 })),
    clusters: Array.from({ length: 70 }, (_, n) => ({
      namespace: `ns-${n}`,
      clusters: [{ id: n, centroid: [Math.fround(n / 70), 0.25], memberCount: n + 1 }],
    })),
    requestKeys: Array.from({ length: 9000 }, (_, i) => ({ requestId: `r-${seed}-${i}`, memoryId: `m-${seed}-${i}` })),
    traces: [{ recallId: "recall-1", namespace: "ns-1", context: "topic", items: [{ memoryId: "m-1", strength: 1, features: [0.25] }] }],
    // Fields after the last sliced part, too.
    scorerAdaptations: Array.from({ length: 150 }, (_, n) => ({
      namespace: `tenant-${n}`,
      scorer: { layers: [{ inputs: 2, outputs: 1, weights: [Math.fround(n / 150), 0.5], biases: [Math.fround(seed / 7)] }], updates: n + 1 },
    })),
    learningScope: walV1.LearningScope.LEARNING_SCOPE_NAMESPACE,
    maxScorerAdaptations: 10_000,
  });
}

function expected(snapshot: stateV1.LearningState): { body: Buffer; hash: Buffer } {
  const body = Buffer.from(stateV1.LearningState.encode(snapshot).finish());
  return { body, hash: createHash("sha256").update(body).digest() };
}

describe("SnapshotEncoder", () => {
  it("returns the exact encoding and SHA-256 of a snapshot sent in slices", async () => {
    const encoder = new SnapshotEncoder();
    encoders.push(encoder);
    const snapshot = bigSnapshot(1);
    const { body, hash } = await encoder.encode(snapshot);
    const want = expected(snapshot);
    expect(body.equals(want.body)).toBe(true);
    expect(hash.equals(want.hash)).toBe(true);
    // And it decodes back to the same state, every part in order.
    expect(stateV1.LearningState.decode(body)).toEqual(stateV1.LearningState.decode(want.body));
  });

  it("encodes a small state (one that fits Node's shared buffer pool) and an empty one", async () => {
    const encoder = new SnapshotEncoder();
    encoders.push(encoder);
    for (const snapshot of [
      stateV1.LearningState.fromPartial({ formatVersion: 1, appliedLsn: 7, initialized: true, seed: 3, requestKeys: [{ requestId: "r", memoryId: "m" }] }),
      stateV1.LearningState.fromPartial({}),
    ]) {
      const { body, hash } = await encoder.encode(snapshot);
      const want = expected(snapshot);
      expect(body.equals(want.body)).toBe(true);
      expect(hash.equals(want.hash)).toBe(true);
    }
  });

  it("keeps concurrent snapshots apart", async () => {
    const encoder = new SnapshotEncoder();
    encoders.push(encoder);
    const snapshots = [bigSnapshot(2), bigSnapshot(3), bigSnapshot(4)];
    const results = await Promise.all(snapshots.map((snapshot) => encoder.encode(snapshot)));
    results.forEach((result, i) => expect(result.body.equals(expected(snapshots[i]!).body)).toBe(true));
  });
});
