import { stateV1, walV1 } from "@t4dm/proto";
import type { BuiltEffects } from "./built-effects.js";
import { centroidOf, packFloat32 } from "./packed-floats.js";
import { dot, frozenNorm, norm, normalize } from "./vector.js";

export const MAX_CLUSTERS_PER_NAMESPACE = 16;
export const MAX_CLUSTERED_NAMESPACES = 4096;
/** Below this cosine to every centroid an embedding starts a new cluster (while there is room). */
export const NEW_CLUSTER_SIMILARITY = 0.35;
/**
 * Cluster ids start at 1: MemoryRecord.cluster_id is a proto3 uint32, where 0
 * is indistinguishable from "not set".
 */
export const FIRST_CLUSTER_ID = 1;

export interface ClusterMatch {
  clusterId: number;
  similarity: number;
}

export interface ClusterAssignment extends ClusterMatch {
  record: walV1.ClusterUpdate;
}

export interface ClusterState {
  readonly id: number;
  readonly centroid: Float32Array;
  readonly memberCount: number;
}

interface Cluster {
  id: number;
  centroid: Float32Array;
  memberCount: number;
}

/**
 * Online spherical k-means, one bounded index per namespace. Namespaces are
 * kept least recently updated first; that order is what the snapshot holds,
 * so a restored index evicts the same namespace the live one would have.
 */
export class Clusters {
  // Insertion order is update order: the first key is the least recently updated.
  private readonly namespaces = new Map<string, Cluster[]>();

  /**
   * The ClusterUpdate adding a unit `embedding` to `namespace` would log.
   * `similarity` is the cosine to the nearest centroid before the update (0
   * when the namespace has none), i.e. what `nearest` reports now.
   */
  planAssign(namespace: string, embedding: ArrayLike<number>): ClusterAssignment {
    const clusters = this.namespaces.get(namespace) ?? [];
    const match = this.nearest(namespace, embedding);
    const similarity = match?.similarity ?? 0;
    const target = match === undefined ? undefined : clusters.find((cluster) => cluster.id === match.clusterId);
    const roomy = clusters.length < MAX_CLUSTERS_PER_NAMESPACE;
    if (target === undefined || (similarity < NEW_CLUSTER_SIMILARITY && roomy)) {
      const clusterId = nextId(clusters);
      return {
        clusterId,
        similarity,
        record: { namespace, clusterId, centroid: [], centroidF32: packFloat32(normalize(embedding)), memberCount: 1 },
      };
    }
    // The mean direction of all members: the old centroid weighted by its count.
    const n = target.memberCount;
    const sum = new Float64Array(embedding.length);
    for (let i = 0; i < sum.length; i++) sum[i] = target.centroid[i]! * n + embedding[i]!;
    return {
      clusterId: target.id,
      similarity,
      record: { namespace, clusterId: target.id, centroid: [], centroidF32: packFloat32(normalize(sum)), memberCount: n + 1 },
    };
  }

  /** The centroid closest by cosine; ties go to the lower id. Undefined when the namespace has none. */
  nearest(namespace: string, embedding: ArrayLike<number>): ClusterMatch | undefined {
    const length = norm(embedding);
    if (!(length > 0) || !Number.isFinite(length)) {
      throw new RangeError("embedding must be finite and non-zero");
    }
    let best: ClusterMatch | undefined;
    for (const cluster of this.namespaces.get(namespace) ?? []) {
      if (cluster.centroid.length !== embedding.length) {
        throw new RangeError(
          `embedding has ${embedding.length} dimensions, clusters of "${namespace}" have ${cluster.centroid.length}`,
        );
      }
      // Centroids are replaced, never changed in place, so their norms can be remembered.
      const centroidLength = frozenNorm(cluster.centroid);
      const similarity = centroidLength === 0 ? 0 : dot(cluster.centroid, embedding) / (centroidLength * length);
      if (best === undefined || similarity > best.similarity) best = { clusterId: cluster.id, similarity };
    }
    return best;
  }

  /** A namespace's clusters by id (copies). */
  clustersOf(namespace: string): ClusterState[] {
    return (this.namespaces.get(namespace) ?? []).map((cluster) => ({
      id: cluster.id,
      centroid: cluster.centroid.slice(),
      memberCount: cluster.memberCount,
    }));
  }

  /** How many namespaces have an index. */
  get size(): number {
    return this.namespaces.size;
  }

  /**
   * Sets one cluster as recorded and marks its namespace most recently
   * updated. A record for a 17th cluster is ignored (plans never make one);
   * a namespace beyond the limit evicts the least recently updated.
   */
  apply(update: walV1.ClusterUpdate, built?: BuiltEffects): void {
    // Shared with the other state that applies this record: centroids are replaced, never changed in place.
    const centroid = built ? built.centroidOf(update) : centroidOf(update);
    if (centroid.length === 0) return;
    const clusters = this.namespaces.get(update.namespace) ?? [];
    const cluster: Cluster = {
      id: update.clusterId,
      centroid,
      memberCount: update.memberCount,
    };
    const index = clusters.findIndex((existing) => existing.id >= update.clusterId);
    if (clusters[index]?.id === update.clusterId) {
      clusters[index] = cluster;
    } else if (clusters.length >= MAX_CLUSTERS_PER_NAMESPACE) {
      return;
    } else {
      // Kept sorted by id so snapshots and tie-breaks do not depend on arrival order.
      clusters.splice(index === -1 ? clusters.length : index, 0, cluster);
    }
    this.namespaces.delete(update.namespace);
    this.namespaces.set(update.namespace, clusters);
    if (this.namespaces.size > MAX_CLUSTERED_NAMESPACES) {
      const oldest = this.namespaces.keys().next();
      if (!oldest.done) this.namespaces.delete(oldest.value);
    }
  }

  /** Namespaces least recently updated first, clusters by id. */
  snapshot(): stateV1.NamespaceClusters[] {
    return [...this.namespaces].map(([namespace, clusters]) => ({
      namespace,
      clusters: clusters.map((cluster) => ({
        id: cluster.id,
        centroid: Array.from(cluster.centroid),
        memberCount: cluster.memberCount,
      })),
    }));
  }

  /** Rebuilds from a snapshot by replaying it as updates, so the same bounds and order hold. */
  static restore(part: readonly stateV1.NamespaceClusters[]): Clusters {
    const restored = new Clusters();
    for (const { namespace, clusters } of part) {
      for (const cluster of clusters) {
        restored.apply({ namespace, clusterId: cluster.id, centroid: cluster.centroid, centroidF32: new Uint8Array(0), memberCount: cluster.memberCount });
      }
    }
    return restored;
  }
}

/** One past the highest id, so ids are never reused within a namespace. */
function nextId(clusters: readonly Cluster[]): number {
  const last = clusters[clusters.length - 1];
  return last === undefined ? FIRST_CLUSTER_ID : last.id + 1;
}
