import type { walV1 } from "@t4dm/proto";
import type { LearningState } from "./learning-state.js";
import { packFloat32 } from "./packed-floats.js";
import { normalize } from "./vector.js";
import type { Operation } from "./wal-entries.js";

/** A BufferReembed record stays well under the WAL's 16 MiB record limit. */
const MAX_REEMBED_RECORD_BYTES = 4 * 1024 * 1024;

/**
 * Sums of the new vectors of each cluster's members, per namespace, so the
 * centroids can be recomputed after a re-embed without holding the vectors.
 */
export class CentroidSums {
  private readonly sums = new Map<string, Map<number, { sum: Float64Array; count: number }>>();

  /** One member: a memory of `namespace` whose record says it joined `clusterId` (0: none). */
  add(namespace: string, clusterId: number, vector: ArrayLike<number>): void {
    if (clusterId === 0) return;
    let clusters = this.sums.get(namespace);
    if (!clusters) this.sums.set(namespace, (clusters = new Map()));
    let entry = clusters.get(clusterId);
    if (!entry) clusters.set(clusterId, (entry = { sum: new Float64Array(vector.length), count: 0 }));
    if (entry.sum.length !== vector.length) throw new RangeError(`a member of cluster ${clusterId} in "${namespace}" has ${vector.length} dimensions, others ${entry.sum.length}`);
    for (let i = 0; i < vector.length; i++) entry.sum[i]! += vector[i]!;
    entry.count += 1;
  }

  /** Each cluster's mean direction and member count: namespaces by name, clusters by id (the same order every run). */
  *centroids(): IterableIterator<{ namespace: string; clusterId: number; centroid: Float32Array; count: number }> {
    for (const namespace of [...this.sums.keys()].sort()) {
      const clusters = this.sums.get(namespace)!;
      for (const clusterId of [...clusters.keys()].sort((a, b) => a - b)) {
        const { sum, count } = clusters.get(clusterId)!;
        yield { namespace, clusterId, centroid: normalize(sum), count };
      }
    }
  }
}

export interface ReembedPlanInput {
  /** The new embedder's dimension. */
  embeddingDim: number;
  /** For the record: which embedder (e.g. "minilm sha256:…"). */
  embedder: string;
  /** The new vector of every buffered and promoting memory, by id. */
  vectors: ReadonlyMap<string, Float32Array>;
  /** Every member's new vector: stored memories and the buffered ones. */
  members: CentroidSums;
}

/**
 * The records that move the learning state to the new embedder, in the
 * order to log them: the switch, the buffer's new vectors (in records of at
 * most ~4 MiB), then each cluster's centroid recomputed as the mean
 * direction of its members' new vectors (a cluster none of whose members
 * remain is gone). The centroids come from the members, never from the
 * state's clusters, which an earlier, killed run may already have cleared.
 *
 * Pure and idempotent: planned again on the state a killed run left, it
 * yields records that bring it to the same state an uninterrupted run does,
 * which is what lets a killed re-embed simply run again.
 */
export function planReembed(state: LearningState, input: ReembedPlanInput): Operation[][] {
  const batches: Operation[][] = [[{ $case: "embeddingSwitch", value: { embeddingDim: input.embeddingDim, embedder: input.embedder } }]];
  const perRecord = Math.max(1, Math.floor(MAX_REEMBED_RECORD_BYTES / (4 * input.embeddingDim + 64)));
  const ids = [...state.buffer.all(), ...state.buffer.promoting()].map((item) => item.memory.id);
  const memories: walV1.MemoryEmbedding[] = [];
  for (const id of ids) {
    const vector = input.vectors.get(id);
    if (!vector) throw new Error(`no new vector for buffered memory ${id}`);
    if (vector.length !== input.embeddingDim) throw new RangeError(`the new vector of ${id} has ${vector.length} dimensions, not ${input.embeddingDim}`);
    memories.push({ memoryId: id, embedding: [], embeddingF32: packFloat32(vector) });
  }
  for (let i = 0; i < memories.length; i += perRecord) {
    batches.push([{ $case: "bufferReembed", value: { memories: memories.slice(i, i + perRecord) } }]);
  }
  const clusters: Operation[] = [];
  for (const { namespace, clusterId, centroid, count } of input.members.centroids()) {
    clusters.push({ $case: "clusterUpdate", value: { namespace, clusterId, centroid: [], centroidF32: packFloat32(centroid), memberCount: count } });
  }
  // Several ClusterUpdate records per submit, each one centroid.
  for (let i = 0; i < clusters.length; i += perRecord) batches.push(clusters.slice(i, i + perRecord));
  return batches;
}
