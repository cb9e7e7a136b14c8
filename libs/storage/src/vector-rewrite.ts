/**
 * Rewriting every vector a store holds with another embedder's, resumably:
 * the re-embed command reads what still needs a vector, embeds it, stages the
 * new vectors, and once all are staged switches the store to them at once.
 *
 * Contract (embedded SQLite, Neo4j):
 * - Staged vectors survive a crash; a rewrite opened again for the same
 *   target skips what was staged. One opened for another target drops them.
 * - Until `commit`, the store's reads and searches see only the old vectors.
 * - `commit` switches every item to its staged vector (and the store to the
 *   new dimension) in one step, refusing if anything is unstaged; once done
 *   it is a no-op, and `pending` is empty.
 * - The store's own contract still holds afterwards (the embedded episodic
 *   store rebuilds its HNSW index from the rows on its next open).
 * - Nothing else may write to the store meanwhile (the memory service refuses
 *   to start while a re-embed is unfinished).
 */
export interface VectorRewrite {
  /** For progress lines: "episodic", "graph". */
  readonly name: string;
  /** Items staged (or, once committed, all of them) and in all. */
  progress(): Promise<{ done: number; total: number }>;
  /** Up to `limit` items with no staged vector yet, in a stable order. */
  pending(limit: number): Promise<RewriteItem[]>;
  stage(vectors: readonly StagedVector[]): Promise<void>;
  /**
   * Each clustered memory's new vector (staged, or current once committed),
   * so the learning state's centroids can be recomputed. Stores without
   * cluster ids yield nothing.
   */
  members(): AsyncIterable<{ namespace: string; clusterId: number; vector: Float32Array }>;
  commit(dimensions: number): Promise<void>;
  close(): Promise<void>;
}

export interface RewriteItem {
  /** Opaque to the caller; hand it back in `stage`. */
  ref: string;
  /** What to embed: a memory's content, a procedure's trigger. */
  text: string;
}

export interface StagedVector {
  ref: string;
  /** Unit length, of the new dimension. */
  vector: Float32Array;
}
