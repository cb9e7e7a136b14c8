/**
 * Long-term episodic and working memory: vectors with a payload, one
 * collection per memory kind, every call scoped to a namespace.
 *
 * Contract (every implementation, embedded or Qdrant, passes the same tests):
 * - `upsert` is idempotent by id: writing the same memory twice leaves one
 *   copy; a later write replaces the earlier one. It resolves only once the
 *   write is durable in the store (for Qdrant: `wait: true`).
 * - Nothing crosses namespaces: `get`, `search`, `list`, `delete` and
 *   `count` only ever see the namespace they are given.
 * - `delete` of an id that is not there is not an error (replays repeat it).
 * - `search` returns at most `k` hits, best first, each with its cosine
 *   similarity to the (unit) query; ties break by id.
 * - `lexicalSearch` takes the query's distinct terms as @t4dm/learning's
 *   tokenizer makes them (`queryTerms`), and returns at most `k` memories
 *   holding at least one of them, best BM25 first (k1 1.2, b 0.75, Lucene's
 *   IDF), ties by id. Term statistics are the namespace's own (another
 *   namespace's memories never change a score), and are returned with the
 *   hits so the caller can score buffered memories against the same corpus.
 * - Filters apply before ranking in both searches: the `k` best among the
 *   memories that pass, never the best `k` then filtered.
 * - `list` pages in (createTime, id) order; `after` is exclusive.
 * - Ids are unique per namespace: the same id in two namespaces is two memories.
 * - Metadata keys are literal top-level keys; equality is typed ("1" is not 1).
 * - `health` never throws: it reports.
 */
export interface EpisodicStore {
  readonly backend: string;
  /** Creates tables, collections and indexes if missing; checks dimensions. */
  init(): Promise<void>;
  upsert(memories: readonly StoredMemory[]): Promise<void>;
  get(namespace: string, id: string): Promise<StoredMemory | undefined>;
  getMany(namespace: string, ids: readonly string[]): Promise<StoredMemory[]>;
  delete(namespace: string, ids: readonly string[]): Promise<void>;
  /** Ids of every memory in the namespace matching the filter (for Forget by filter). */
  findIds(namespace: string, filter: StoreFilter): Promise<string[]>;
  search(namespace: string, query: Float32Array, k: number, filter: StoreFilter): Promise<SearchHit[]>;
  lexicalSearch(namespace: string, terms: readonly string[], k: number, filter: StoreFilter): Promise<LexicalSearchResult>;
  list(namespace: string, filter: StoreFilter, page: { after?: PageCursor; limit: number }): Promise<StoredMemory[]>;
  count(namespace: string): Promise<number>;
  /** Every namespace holding at least one memory, sorted (to export every tenant). */
  namespaces(): Promise<string[]>;
  /**
   * Best-effort statistics (recall hits, rewards); not part of the learning
   * state. Takes every update of one recall or reward at once, so a store can
   * write them together; ids the namespace does not hold are skipped.
   */
  recordAccess(namespace: string, updates: readonly AccessUpdate[]): Promise<void>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

/** A stored memory's statistics as they stand after an access or a reward. */
export interface AccessUpdate {
  id: string;
  accessCount: number;
  lastAccessTime: Date;
  rewardSum: number;
  rewardCount: number;
}

/** A memory in long-term storage. Kinds: 1 episodic, 2 working, 3 semantic, 4 procedural (t4dm.wal.v1.MemoryKind). */
export interface StoredMemory {
  id: string;
  namespace: string;
  kind: number;
  content: string;
  /** Unit length. */
  embedding: Float32Array;
  metadata: Record<string, unknown>;
  importance: number;
  createTime: Date;
  /** Working memory only. */
  expireTime?: Date;
  evidence: number;
  accessCount: number;
  lastAccessTime?: Date;
  rewardSum: number;
  rewardCount: number;
  clusterId: number;
}

export interface SearchHit {
  memory: StoredMemory;
  similarity: number;
}

export interface LexicalHit {
  memory: StoredMemory;
  /** BM25 over the namespace's stored memories. */
  bm25: number;
}

export interface LexicalSearchResult {
  hits: LexicalHit[];
  /** The namespace's statistics for the query terms (filters do not narrow them). */
  corpus: {
    documents: number;
    /** Sum of the memories' lengths in terms. */
    totalLength: number;
    documentFrequency: Map<string, number>;
  };
}

export interface PageCursor {
  createTime: Date;
  id: string;
}

/** What searches, lists and deletes can filter on. Every part must hold. */
export interface StoreFilter {
  /** Kinds allowed; empty or missing allows all. */
  kinds?: readonly number[];
  /** Equality on a metadata key (string, number or boolean values). */
  equals?: readonly { key: string; value: unknown }[];
  /** Inclusive numeric ranges on metadata keys. */
  ranges?: readonly { key: string; gte?: number; lte?: number }[];
  /** Inclusive bounds. */
  createdAfter?: Date;
  createdBefore?: Date;
  /** Leave out memories whose expire time is at or before this instant. */
  aliveAt?: Date;
}

export interface StoreHealth {
  store: string;
  backend: string;
  healthy: boolean;
  detail: string;
}
