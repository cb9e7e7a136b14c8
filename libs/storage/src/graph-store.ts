import type { AccessUpdate, LexicalSearchResult, SearchHit, StoreFilter, StoredMemory, StoreHealth } from "./episodic-store.js";

/**
 * Semantic and procedural memory as a graph: entities and the facts between
 * them (bi-temporal), concepts formed from episode clusters, and procedures.
 *
 * Contract (embedded SQLite and Neo4j pass the same tests):
 * - Every write is idempotent (MERGE semantics by namespace + id, or by the
 *   natural key where stated) and durable when the promise resolves.
 * - Nothing crosses namespaces.
 * - A fact with the same (subject, predicate) but another object closes the
 *   open one (sets validEndTime to the new fact's validStartTime) instead of
 *   deleting it; re-asserting the same open fact changes nothing but its
 *   confidence and metadata. A fact that starts before the open one is kept
 *   as history ending where the open one starts.
 * - `queryFacts` as of time t returns facts with validStart ≤ t and
 *   (no validEnd or validEnd > t), unless includeHistory.
 * - Procedures are unique by (namespace, name); an upsert replaces trigger,
 *   steps and metadata and keeps the success statistics.
 * - Memory nodes are searched as EpisodicStore searches memories, with the
 *   same shapes and semantics (`searchMemoryNodes` ≙ `search`,
 *   `lexicalSearchMemoryNodes` ≙ `lexicalSearch`: cosine, BM25 with k1 1.2,
 *   b 0.75 and Lucene's IDF over the namespace's memory nodes, the corpus
 *   statistics returned, filters applied before ranking, ties by id), so a
 *   recall can merge both stores' hits into one candidate set. An upsert of a
 *   memory node keeps its access and reward statistics (a replayed promotion
 *   must not reset them).
 * - `health` never throws.
 */
export interface GraphStore {
  readonly backend: string;
  init(): Promise<void>;

  upsertFact(fact: FactInput): Promise<{ fact: StoredFact; closed: StoredFact[] }>;
  queryFacts(query: FactQuery): Promise<StoredFact[]>;

  upsertProcedure(procedure: ProcedureInput): Promise<StoredProcedure>;
  getProcedure(namespace: string, id: string): Promise<StoredProcedure | undefined>;
  listProcedures(namespace: string): Promise<StoredProcedure[]>;
  /**
   * Adds one execution outcome; returns the updated procedure, or undefined if
   * unknown. Not idempotent: it counts, so a retried call counts twice.
   */
  recordOutcome(namespace: string, id: string, success: boolean, at: Date): Promise<StoredProcedure | undefined>;

  /**
   * A semantic or procedural memory promoted from the buffer, as a memory node
   * (idempotent by id). In Neo4j that is a :Memory node, kept apart from the
   * :Entity nodes facts connect: a memory is text about things, not a thing.
   */
  upsertMemoryNode(node: MemoryNode): Promise<void>;
  /** The node with its access and reward statistics. */
  getMemoryNode(namespace: string, id: string): Promise<StoredMemory | undefined>;
  /** Found nodes in the order of `ids`; missing ids are left out. */
  getMemoryNodes(namespace: string, ids: readonly string[]): Promise<StoredMemory[]>;
  deleteMemoryNodes(namespace: string, ids: readonly string[]): Promise<void>;
  searchMemoryNodes(namespace: string, query: Float32Array, k: number, filter: StoreFilter): Promise<SearchHit[]>;
  lexicalSearchMemoryNodes(namespace: string, terms: readonly string[], k: number, filter: StoreFilter): Promise<LexicalSearchResult>;
  /** Best-effort access and reward statistics of memory nodes, as EpisodicStore.recordAccess. */
  recordAccess(namespace: string, updates: readonly AccessUpdate[]): Promise<void>;
  /** The namespace's memory nodes in (createTime, id) order; `after` is exclusive (for export). */
  listMemoryNodes(namespace: string, page: { after?: { createTime: Date; id: string }; limit: number }): Promise<StoredMemory[]>;

  /**
   * Import: writes a fact exactly as given, both timelines included, with no
   * closing of other facts (the export carries every fact's own end).
   * Idempotent by (namespace, id); an id that holds another (subject,
   * predicate, object) is a StoreInputError.
   */
  restoreFact(fact: StoredFact): Promise<void>;
  /**
   * Import: writes a procedure exactly as given, statistics and times
   * included. Idempotent by (namespace, id); a name another id holds is a
   * StoreInputError.
   */
  restoreProcedure(procedure: StoredProcedure): Promise<void>;
  /** Every namespace holding a fact, a procedure or a memory node, sorted (to export every tenant). */
  namespaces(): Promise<string[]>;

  /** A concept formed by deep consolidation, linked to the episodes it summarises (idempotent by id). */
  upsertConcept(concept: ConceptInput): Promise<void>;
  listConcepts(namespace: string): Promise<StoredConcept[]>;

  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

export interface FactInput {
  id: string;
  namespace: string;
  subject: string;
  predicate: string;
  object: string;
  confidence: number;
  validStartTime: Date;
  recordTime: Date;
  metadata: Record<string, unknown>;
}

export interface StoredFact extends FactInput {
  validEndTime?: Date;
}

export interface FactQuery {
  namespace: string;
  subject?: string;
  predicate?: string;
  object?: string;
  asOf: Date;
  includeHistory: boolean;
  /** Paging in (recordTime, id) order; `after` is exclusive. */
  after?: { recordTime: Date; id: string };
  limit: number;
}

export interface ProcedureStep {
  action: string;
  tool: string;
  expectedOutcome: string;
}

export interface ProcedureInput {
  id: string;
  namespace: string;
  name: string;
  trigger: string;
  /** Unit-length embedding of the trigger, for matching. */
  triggerEmbedding: Float32Array;
  steps: ProcedureStep[];
  metadata: Record<string, unknown>;
  now: Date;
}

export interface StoredProcedure extends Omit<ProcedureInput, "now"> {
  successCount: number;
  executionCount: number;
  createTime: Date;
  updateTime: Date;
}

/**
 * A promoted memory, with what ranking it needs (as StoredMemory, less the
 * access statistics the store keeps itself). Nodes written before these were
 * kept read back with importance 0.5, evidence 0, cluster 0 (none) and no
 * expire time (MEMORY_NODE_DEFAULTS).
 */
export interface MemoryNode {
  id: string;
  namespace: string;
  kind: number;
  content: string;
  /** Unit length. */
  embedding: Float32Array;
  metadata: Record<string, unknown>;
  createTime: Date;
  importance: number;
  evidence: number;
  clusterId: number;
  expireTime?: Date;
}

export const MEMORY_NODE_DEFAULTS = { importance: 0.5, evidence: 0, clusterId: 0 } as const;

/** A node as a stored memory with fresh statistics, or with `previous`'s (an upsert keeps them). */
export function memoryNodeAsStored(node: MemoryNode, previous?: StoredMemory): StoredMemory {
  return {
    ...node,
    accessCount: previous?.accessCount ?? 0,
    lastAccessTime: previous?.lastAccessTime,
    rewardSum: previous?.rewardSum ?? 0,
    rewardCount: previous?.rewardCount ?? 0,
  };
}

export interface ConceptInput {
  id: string;
  namespace: string;
  label: string;
  centroid: Float32Array;
  /** Episode memory ids this concept summarises. */
  episodeIds: string[];
  createTime: Date;
}

export type StoredConcept = ConceptInput;
