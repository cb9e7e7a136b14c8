import { stateV1, walV1 } from "@t4dm/proto";
import { describe, expect, it } from "vitest";
import {
  Clusters,
  FIRST_CLUSTER_ID,
  MAX_CLUSTERED_NAMESPACES,
  MAX_CLUSTERS_PER_NAMESPACE,
} from "../src/clusters.js";
import { normalize } from "../src/vector.js";
import { packFloat32 } from "../src/packed-floats.js";
import { mulberry32 as prng } from "@t4dm/testkit";

function logged(update: walV1.ClusterUpdate): walV1.ClusterUpdate {
  const bytes = walV1.WalEntry.encode({ time: undefined, operation: { $case: "clusterUpdate", value: update } }).finish();
  const decoded = walV1.WalEntry.decode(bytes).operation;
  if (decoded?.$case !== "clusterUpdate") throw new Error("operation lost in the round trip");
  return decoded.value;
}

function bytesOf(clusters: Clusters): Uint8Array {
  return stateV1.LearningState.encode(stateV1.LearningState.fromPartial({ clusters: clusters.snapshot() })).finish();
}

/** Plans, logs and applies one assignment, as the sequencer does. */
function assign(clusters: Clusters, namespace: string, embedding: ArrayLike<number>) {
  const plan = clusters.planAssign(namespace, embedding);
  const record = logged(plan.record);
  clusters.apply(record);
  return { ...plan, record };
}

function basis(dim: number, axis: number): Float32Array {
  const v = new Float32Array(dim);
  v[axis] = 1;
  return v;
}


/** A unit vector near `center`: the center plus a little seeded noise. */
function near(center: ArrayLike<number>, random: () => number, noise = 0.2): Float32Array {
  return normalize(Array.from(center, (x) => x + (random() - 0.5) * noise));
}

describe("Clusters", () => {
  it("starts a namespace's first cluster at the embedding", () => {
    const clusters = new Clusters();
    const x = normalize([3, 4, 0]);
    const first = assign(clusters, "ns", x);
    expect(first.clusterId).toBe(FIRST_CLUSTER_ID);
    expect(first.similarity).toBe(0);
    expect(first.record).toEqual({ namespace: "ns", clusterId: 1, centroid: [], centroidF32: packFloat32(x), memberCount: 1 });
    expect(clusters.clustersOf("ns")).toEqual([{ id: 1, centroid: x, memberCount: 1 }]);
    expect(clusters.clustersOf("other")).toEqual([]);
    expect(clusters.nearest("other", x)).toBeUndefined();
  });

  it("moves the nearest centroid to the members' mean direction", () => {
    const clusters = new Clusters();
    assign(clusters, "ns", normalize([1, 0, 0]));
    const y = normalize([1, 1, 0]);
    const before = clusters.nearest("ns", y);
    const second = assign(clusters, "ns", y);
    expect(second.clusterId).toBe(1);
    expect(second.similarity).toBe(before!.similarity);
    expect(second.similarity).toBeCloseTo(Math.SQRT1_2, 6);
    const [cluster] = clusters.clustersOf("ns");
    expect(cluster!.memberCount).toBe(2);
    // normalize(1·[1,0,0] + [0.707,0.707,0]) points at 22.5°.
    expect(cluster!.centroid[0]).toBeCloseTo(Math.cos(Math.PI / 8), 6);
    expect(cluster!.centroid[1]).toBeCloseTo(Math.sin(Math.PI / 8), 6);
    expect(cluster!.centroid[2]).toBe(0);

    // A third member weighs a third, not a half: normalize(c·2 + x).
    assign(clusters, "ns", normalize([0, 1, 0]));
    const moved = clusters.clustersOf("ns")[0]!;
    expect(moved.memberCount).toBe(3);
    const mean = normalize([2 * Math.cos(Math.PI / 8), 2 * Math.sin(Math.PI / 8) + 1, 0]);
    expect(moved.centroid[0]).toBeCloseTo(mean[0]!, 5);
    expect(moved.centroid[1]).toBeCloseTo(mean[1]!, 5);
  });

  it("opens a new cluster below the similarity threshold, with the next id", () => {
    const clusters = new Clusters();
    assign(clusters, "ns", basis(4, 0));
    const far = assign(clusters, "ns", normalize([0.3, 1, 0, 0]));
    expect(far.clusterId).toBe(2);
    expect(far.similarity).toBeCloseTo(0.3 / Math.hypot(0.3, 1), 6);
    const close = assign(clusters, "ns", normalize([0.4, 1, 0, 0]));
    expect(close.clusterId).toBe(2);
    expect(clusters.clustersOf("ns").map((c) => [c.id, c.memberCount])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it("never grows past the cluster limit; the nearest absorbs instead", () => {
    const dim = MAX_CLUSTERS_PER_NAMESPACE + 2;
    const clusters = new Clusters();
    for (let axis = 0; axis < MAX_CLUSTERS_PER_NAMESPACE; axis++) {
      expect(assign(clusters, "ns", basis(dim, axis)).clusterId).toBe(axis + 1);
    }
    // Orthogonal to every centroid: a tie at 0 goes to the lowest id.
    const full = assign(clusters, "ns", basis(dim, MAX_CLUSTERS_PER_NAMESPACE));
    expect(full.clusterId).toBe(1);
    expect(full.similarity).toBe(0);
    const ids = clusters.clustersOf("ns").map((c) => c.id);
    expect(ids).toHaveLength(MAX_CLUSTERS_PER_NAMESPACE);
    expect(clusters.clustersOf("ns")[0]!.memberCount).toBe(2);

    // A stray record for a 17th cluster does not break the bound either.
    clusters.apply({ namespace: "ns", clusterId: 99, centroid: Array.from(basis(dim, 17)), centroidF32: new Uint8Array(0), memberCount: 1 });
    expect(clusters.clustersOf("ns").map((c) => c.id)).toEqual(ids);
  });

  it("plans without changing anything", () => {
    const clusters = new Clusters();
    const random = prng(7);
    for (let i = 0; i < 50; i++) assign(clusters, `ns${i % 3}`, near(basis(8, i % 5), random));
    const before = bytesOf(clusters);
    clusters.planAssign("ns0", near(basis(8, 1), random));
    clusters.planAssign("fresh", near(basis(8, 1), random));
    clusters.nearest("ns1", basis(8, 2));
    clusters.clustersOf("ns2")[0]!.centroid.fill(9);
    expect(bytesOf(clusters)).toEqual(before);
  });

  it("separates well-separated groups into one cluster each", () => {
    const clusters = new Clusters();
    const random = prng(1);
    const centers = [basis(16, 0), basis(16, 5), basis(16, 11)];
    const joined = new Map<number, Set<number>>();
    for (let i = 0; i < 90; i++) {
      const group = i % 3;
      const { clusterId } = assign(clusters, "ns", near(centers[group]!, random));
      joined.set(group, (joined.get(group) ?? new Set()).add(clusterId));
    }
    expect([...joined.values()].map((ids) => [...ids])).toEqual([[1], [2], [3]]);
    for (const [index, cluster] of clusters.clustersOf("ns").entries()) {
      expect(cluster.memberCount).toBe(30);
      expect(Math.abs(cluster.centroid[[0, 5, 11][index]!]!)).toBeGreaterThan(0.95);
    }
  });

  it("refuses zero, non-finite and wrongly sized embeddings", () => {
    const clusters = new Clusters();
    assign(clusters, "ns", basis(4, 0));
    expect(() => clusters.planAssign("ns", new Float32Array(4))).toThrow(RangeError);
    expect(() => clusters.planAssign("ns", [Number.NaN, 0, 0, 0])).toThrow(RangeError);
    expect(() => clusters.planAssign("ns", basis(5, 0))).toThrow(/5 dimensions/);
  });

  it("bounds namespaces, evicting the least recently updated", () => {
    const clusters = new Clusters();
    const x = basis(2, 0);
    for (let i = 0; i < MAX_CLUSTERED_NAMESPACES; i++) assign(clusters, `ns${i}`, x);
    // Updating ns0 makes ns1 the least recently updated.
    assign(clusters, "ns0", x);
    assign(clusters, "newcomer", x);
    expect(clusters.size).toBe(MAX_CLUSTERED_NAMESPACES);
    expect(clusters.clustersOf("ns1")).toEqual([]);
    expect(clusters.clustersOf("ns0")[0]!.memberCount).toBe(2);
    const order = clusters.snapshot().map((n) => n.namespace);
    expect(order.slice(0, 2)).toEqual(["ns2", "ns3"]);
    expect(order.slice(-2)).toEqual(["ns0", "newcomer"]);
    // A namespace that comes back starts over at the first id.
    expect(clusters.planAssign("ns1", x).clusterId).toBe(FIRST_CLUSTER_ID);
  });

  it("restores a snapshot to the same bytes, and the copy evicts identically", () => {
    const live = new Clusters();
    const random = prng(3);
    for (let i = 0; i < MAX_CLUSTERED_NAMESPACES + 50; i++) {
      assign(live, `ns${(i * 7) % (MAX_CLUSTERED_NAMESPACES + 20)}`, near(basis(4, i % 4), random, 0.5));
    }
    const bytes = bytesOf(live);
    const restored = Clusters.restore(stateV1.LearningState.decode(bytes).clusters);
    expect(bytesOf(restored)).toEqual(bytes);

    for (let i = 0; i < 100; i++) {
      const { record } = assign(live, `late${i % 30}`, near(basis(4, i % 4), random, 0.5));
      restored.apply(record);
    }
    expect(bytesOf(restored)).toEqual(bytesOf(live));
  });

  it("replays logged records bit for bit, from scratch or from a checkpoint", () => {
    const live = new Clusters();
    const random = prng(11);
    const log: walV1.ClusterUpdate[] = [];
    let checkpoint: Uint8Array | undefined;
    for (let i = 0; i < 2000; i++) {
      log.push(assign(live, `ns${i % 5}`, near(basis(32, (i * 13) % 32), random, 1)).record);
      if (i === 999) checkpoint = bytesOf(live);
    }
    const cold = new Clusters();
    for (const record of log) cold.apply(logged(record));
    expect(bytesOf(cold)).toEqual(bytesOf(live));

    const warm = Clusters.restore(stateV1.LearningState.decode(checkpoint!).clusters);
    for (const record of log.slice(1000)) warm.apply(logged(record));
    expect(bytesOf(warm)).toEqual(bytesOf(live));
    expect(live.clustersOf("ns0").length).toBeGreaterThan(1);
  });
});
