// The re-embed records (EMBEDDING_SWITCH, BUFFER_REEMBED, and ClusterUpdates recomputed from members):
// applied through WAL bytes, replayed cold to the same hash (I1), and planned again on a half-done
// state (a killed re-embed) they reach the state an uninterrupted run reaches.
import { walV1 } from "@t4dm/proto";
import { describe, expect, it } from "vitest";
import { CentroidSums, embedText, LearningState, planRecall, planRemember, planReembed, memoryEmbedding, type ReembedPlanInput } from "../src/index.js";
import { Driver, mulberry32 } from "./support/driver.js";

const OLD_DIM = 64;
const NEW_DIM = 32;

/** A state with buffered memories in two namespaces, clusters and a trace, all in OLD_DIM. */
function populated(): Driver {
  const driver = new Driver(mulberry32(7));
  driver.start({ seed: 11, embeddingDim: OLD_DIM, bufferCapacity: 100 });
  const contents = ["the cat sleeps on the sofa", "deploy with tools/deploy.sh", "Alice plays the cello", "the dog chases the cat", "Bob likes tea"];
  for (const [i, content] of contents.entries()) {
    const time = driver.now();
    const namespace = i % 2 === 0 ? "a" : "b";
    const plan = planRemember(
      driver.state,
      { namespace, content, kind: walV1.MemoryKind.MEMORY_KIND_EPISODIC, metadata: {}, importance: 0.5, embedding: embedText(content, OLD_DIM), always: true, requestId: "" },
      driver.context(time),
    );
    driver.commit(plan.operations, time);
  }
  const time = driver.now();
  const recall = planRecall(driver.state, { namespace: "a", query: embedText("cat", OLD_DIM), topK: 3, minScore: 0, filter: {} }, driver.context(time));
  driver.commit(recall.operations, time);
  return driver;
}

/** The new vectors: the hashing embedder at NEW_DIM over each buffered memory's content. */
function newVectors(state: LearningState): ReembedPlanInput & { vectors: Map<string, Float32Array> } {
  const vectors = new Map<string, Float32Array>();
  const members = new CentroidSums();
  for (const item of [...state.buffer.all(), ...state.buffer.promoting()]) {
    const vector = embedText(item.memory.content, NEW_DIM);
    vectors.set(item.memory.id, vector);
    members.add(item.memory.namespace, item.memory.clusterId, vector);
  }
  return { embeddingDim: NEW_DIM, embedder: "hashing hashed-ngrams-v1", vectors, members };
}

describe("re-embed records", () => {
  it("switch to another dimension: buffer vectors replaced, traces gone, clusters recomputed, projection redrawn; replay gives the same hash", () => {
    const driver = populated();
    expect(driver.state.traces.snapshot().length).toBeGreaterThan(0);
    const oldProjection = driver.state.networks!.gate.projection;
    const oldGateNet = driver.state.networks!.gate.snapshot().gate;
    const input = newVectors(driver.state);
    for (const batch of planReembed(driver.state, input)) driver.commit(batch, driver.now());

    const state = driver.state;
    expect(state.embeddingDim).toBe(NEW_DIM);
    for (const item of state.buffer.all()) {
      expect(Array.from(item.embedding)).toEqual(Array.from(embedText(item.memory.content, NEW_DIM)));
      expect(memoryEmbedding(item.memory)).toHaveLength(NEW_DIM);
    }
    expect(state.traces.snapshot()).toEqual([]);
    expect(state.networks!.gate.projection).toHaveLength(16 * NEW_DIM);
    expect(state.networks!.gate.projection).not.toEqual(oldProjection.subarray(0, 16 * NEW_DIM));
    expect(state.networks!.gate.snapshot().gate).toEqual(oldGateNet);
    const clusters = state.clusters.snapshot();
    expect(clusters.length).toBeGreaterThan(0);
    for (const { clusters: list } of clusters) for (const cluster of list) expect(cluster.centroid).toHaveLength(NEW_DIM);
    // Members and centroids agree: the memory is nearest its own cluster's new centroid.
    for (const item of state.buffer.all()) {
      expect(state.clusters.nearest(item.memory.namespace, item.embedding)!.clusterId).toBe(item.memory.clusterId);
    }

    expect(driver.replay().hash()).toEqual(state.hash());
    expect(LearningState.decode(state.encode()).hash()).toEqual(state.hash());
  });

  it("a killed run planned again reaches the uninterrupted state (but for LSN and time)", () => {
    const whole = populated();
    const plan = planReembed(whole.state, newVectors(whole.state));
    const time = whole.now();
    for (const batch of plan) whole.commit(batch, time);

    const killed = populated();
    const first = planReembed(killed.state, newVectors(killed.state));
    // Killed after the switch and the first buffer record: the clusters are cleared, the rest not done.
    for (const batch of first.slice(0, 2)) killed.commit(batch, time);
    expect(killed.state.clusters.size).toBe(0);
    // The rerun reads the buffer's content again (the vectors come from the content, not the state's old ones).
    for (const batch of planReembed(killed.state, newVectors(killed.state))) killed.commit(batch, time);

    const comparable = (state: LearningState) => ({ ...state.snapshot(), appliedLsn: 0, time: undefined });
    expect(comparable(killed.state)).toEqual(comparable(whole.state));
    expect(killed.replay().hash()).toEqual(killed.state.hash());
  });

  it("the same dimension keeps the projection and the PRNG; a second switch changes nothing", () => {
    const driver = populated();
    const projection = Array.from(driver.state.networks!.gate.projection);
    const prng = driver.state.prng.words();
    const vectors = new Map([...driver.state.buffer.all()].map((item) => [item.memory.id, embedText(`${item.memory.content} again`, OLD_DIM)]));
    const input = { embeddingDim: OLD_DIM, embedder: "other", vectors, members: new CentroidSums() };
    for (const batch of planReembed(driver.state, input)) driver.commit(batch, driver.now());
    expect(Array.from(driver.state.networks!.gate.projection)).toEqual(projection);
    expect(driver.state.prng.words()).toEqual(prng);
    const before = { ...driver.state.snapshot(), appliedLsn: 0, time: undefined };
    driver.commit([{ $case: "embeddingSwitch", value: { embeddingDim: OLD_DIM, embedder: "other" } }], driver.now());
    expect({ ...driver.state.snapshot(), appliedLsn: 0, time: undefined }).toEqual(before);
  });

  it("a buffer record for an unknown id changes nothing; a plan without a buffered memory's vector is refused", () => {
    const driver = populated();
    const before = driver.state.hash();
    driver.commit([{ $case: "bufferReembed", value: { memories: [{ memoryId: "nope", embedding: [1], embeddingF32: new Uint8Array(0) }] } }], driver.state.time!);
    expect({ ...driver.state.snapshot(), appliedLsn: 0 }).toEqual({ ...LearningState.decode(driver.state.encode()).snapshot(), appliedLsn: 0 });
    expect(driver.state.hash()).not.toEqual(before); // only the LSN moved
    const input = newVectors(driver.state);
    input.vectors.delete([...driver.state.buffer.all()][0]!.memory.id);
    expect(() => planReembed(driver.state, input)).toThrow(/no new vector for buffered memory/);
  });

  it("CentroidSums: mean direction per (namespace, cluster), in name and id order; cluster 0 is no cluster", () => {
    const sums = new CentroidSums();
    sums.add("b", 2, [1, 0]);
    sums.add("a", 3, [0, 2]);
    sums.add("a", 1, [1, 0]);
    sums.add("a", 1, [0, 1]);
    sums.add("a", 0, [5, 5]);
    const out = [...sums.centroids()].map((c) => ({ ...c, centroid: Array.from(c.centroid).map((x) => Number(x.toFixed(4))) }));
    expect(out).toEqual([
      { namespace: "a", clusterId: 1, centroid: [0.7071, 0.7071], count: 2 },
      { namespace: "a", clusterId: 3, centroid: [0, 1], count: 1 },
      { namespace: "b", clusterId: 2, centroid: [1, 0], count: 1 },
    ]);
    expect(() => sums.add("b", 2, [1, 0, 0])).toThrow(RangeError);
  });
});
