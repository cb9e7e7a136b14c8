export type { AccessUpdate, EpisodicStore, StoredMemory, SearchHit, LexicalHit, LexicalSearchResult, PageCursor, StoreFilter, StoreHealth } from "./episodic-store.js";
export type {
  GraphStore,
  FactInput,
  StoredFact,
  FactQuery,
  ProcedureInput,
  ProcedureStep,
  StoredProcedure,
  MemoryNode,
  ConceptInput,
  StoredConcept,
} from "./graph-store.js";
export { StoreClosedError, StoreConfigError, StoreInputError, StoreUnavailableError } from "./errors.js";
export { SqliteEpisodicStore, type SqliteEpisodicStoreOptions, type IndexOrigin } from "./embedded/sqlite-episodic-store.js";
export { GRAPH_MEMORY_LAYOUT, SqliteGraphStore, type SqliteGraphStoreOptions } from "./embedded/sqlite-graph-store.js";
export type { HnswParams } from "./embedded/vector-index.js";
export { openEmbeddedStores } from "./embedded/open-embedded-stores.js";
export { Neo4jGraphStore, type Neo4jGraphStoreOptions } from "./neo4j/neo4j-graph-store.js";
export { Neo4jRequestError, Neo4jUnavailableError } from "./neo4j/neo4j-errors.js";
export { QdrantEpisodicStore, type QdrantEpisodicStoreOptions } from "./qdrant/qdrant-episodic-store.js";
export { QdrantRequestError, QdrantUnavailableError } from "./qdrant/qdrant-errors.js";
export type { VectorRewrite, RewriteItem, StagedVector } from "./vector-rewrite.js";
export { SqliteVectorRewrite } from "./embedded/sqlite-vector-rewrite.js";
export { Neo4jVectorRewrite } from "./neo4j/neo4j-vector-rewrite.js";
export { QdrantVectorRewrite } from "./qdrant/qdrant-vector-rewrite.js";
