import { StoreInputError } from "../errors.js";

/**
 * The graph layout in Neo4j (one database, every namespace in it):
 *
 * - `(:Entity {key, namespace, name})` — a fact's subject or object; its name is its id.
 * - `(:Entity)-[:FACT {key, namespace, id, predicate, confidence, validStart, validEnd,
 *   recordTime, metadata}]->(:Entity)` — one relationship per fact. The times are UTC
 *   `DATETIME`s (validEnd absent while the fact is open); metadata is a JSON string,
 *   because property values cannot be maps.
 * - `(:Procedure {key, nameKey, namespace, id, name, trigger, triggerEmbedding, steps,
 *   metadata, successCount, executionCount, createTime, updateTime})`.
 * - `(:Memory {key, namespace, id, kind, content, embedding, metadata, createTime,
 *   importance, evidence, clusterId, expireTime, accessCount, lastAccessTime, rewardSum,
 *   rewardCount, lexicalTerms, lexicalLength})` — a promoted semantic or procedural memory.
 *   Not `:Entity`, so a memory id can never merge with (or, on delete, detach the facts of)
 *   an entity that happens to share its text. `lexicalTerms` is the shared tokenizer's
 *   output joined by spaces, indexed by a whitespace-analysed fulltext index, so Lucene
 *   matches exactly the terms our BM25 counts; `embedding` has a cosine vector index.
 * - `(:Concept {key, namespace, id, label, centroid, createTime})-[:SUMMARISES {position}]->
 *   (:Episode {key, namespace, id})` — an episode is a reference to an episodic memory,
 *   which lives in the episodic store.
 *
 * Embeddings are lists of floats. `key` is namespace + NUL + id: Community edition has no
 * node key constraints (they are Enterprise-only), so a uniqueness constraint on one
 * composite property gives "unique by (namespace, id)" on every edition.
 */
export function keyOf(namespace: string, id: string): string {
  // The namespace must not contain the separator, or ("a\0b", "c") and ("a", "b\0c") would collide.
  if (namespace.includes("\u0000")) throw new StoreInputError("a namespace cannot contain NUL");
  return `${namespace}\u0000${id}`;
}

export interface UniqueConstraint {
  name: string;
  entityType: "NODE" | "RELATIONSHIP";
  labelOrType: string;
  property: string;
}

export const UNIQUE_CONSTRAINTS: readonly UniqueConstraint[] = [
  { name: "t4dm_entity_key", entityType: "NODE", labelOrType: "Entity", property: "key" },
  { name: "t4dm_concept_key", entityType: "NODE", labelOrType: "Concept", property: "key" },
  { name: "t4dm_procedure_key", entityType: "NODE", labelOrType: "Procedure", property: "key" },
  { name: "t4dm_procedure_name", entityType: "NODE", labelOrType: "Procedure", property: "nameKey" },
  { name: "t4dm_episode_key", entityType: "NODE", labelOrType: "Episode", property: "key" },
  { name: "t4dm_memory_key", entityType: "NODE", labelOrType: "Memory", property: "key" },
  { name: "t4dm_fact_key", entityType: "RELATIONSHIP", labelOrType: "FACT", property: "key" },
];

/** Schema statements take no parameters, so these are fixed texts built from the constants above only. */
export function constraintStatement(c: UniqueConstraint): string {
  const pattern = c.entityType === "NODE" ? `(x:${c.labelOrType})` : `()-[x:${c.labelOrType}]-()`;
  return `CREATE CONSTRAINT ${c.name} IF NOT EXISTS FOR ${pattern} REQUIRE x.${c.property} IS UNIQUE`;
}

export const MEMORY_VECTOR_INDEX = "t4dm_memory_embedding";
export const MEMORY_TERMS_INDEX = "t4dm_memory_terms";

/** Range indexes for the namespace-wide scans (listing, paging facts by record time). */
export const INDEX_STATEMENTS: readonly string[] = [
  "CREATE INDEX t4dm_fact_record_time IF NOT EXISTS FOR ()-[f:FACT]-() ON (f.namespace, f.recordTime)",
  "CREATE INDEX t4dm_procedure_namespace IF NOT EXISTS FOR (p:Procedure) ON (p.namespace)",
  "CREATE INDEX t4dm_concept_namespace IF NOT EXISTS FOR (c:Concept) ON (c.namespace)",
  "CREATE INDEX t4dm_memory_namespace IF NOT EXISTS FOR (m:Memory) ON (m.namespace, m.kind)",
  `CREATE FULLTEXT INDEX ${MEMORY_TERMS_INDEX} IF NOT EXISTS FOR (m:Memory) ON EACH [m.lexicalTerms]
   OPTIONS {indexConfig: {\`fulltext.analyzer\`: 'whitespace', \`fulltext.eventually_consistent\`: false}}`,
];

/**
 * The vector index over memory embeddings. One per database (Neo4j allows one vector index
 * per label and property), so its dimension is the first creator's: a store configured for
 * another dimension searches by exact scan instead (see Neo4jMemorySearch), and a re-embed
 * drops it so the next start creates it for the new dimension.
 */
export function memoryVectorIndexStatement(dimensions: number): string {
  if (!Number.isInteger(dimensions) || dimensions <= 0 || dimensions > 4096) throw new StoreInputError(`a vector index needs 1 to 4096 dimensions, got ${dimensions}`);
  return `CREATE VECTOR INDEX ${MEMORY_VECTOR_INDEX} IF NOT EXISTS FOR (m:Memory) ON m.embedding
   OPTIONS {indexConfig: {\`vector.dimensions\`: ${dimensions}, \`vector.similarity_function\`: 'cosine'}}`;
}

export interface ShownConstraint {
  name: string;
  type: string;
  entityType: string;
  labelsOrTypes: string[] | null;
  properties: string[] | null;
}

/**
 * The required constraints that `SHOW CONSTRAINTS` does not list. `IF NOT EXISTS` is silent
 * when a constraint of another kind already holds the name, so creating is not proof enough.
 * A key constraint (Enterprise) on the same property counts: it implies uniqueness.
 */
export function missingConstraints(shown: readonly ShownConstraint[]): UniqueConstraint[] {
  const unique = new Set(["UNIQUENESS", "NODE_KEY", "RELATIONSHIP_UNIQUENESS", "RELATIONSHIP_KEY", "NODE_PROPERTY_UNIQUENESS", "RELATIONSHIP_PROPERTY_UNIQUENESS"]);
  return UNIQUE_CONSTRAINTS.filter(
    (wanted) =>
      !shown.some(
        (c) =>
          unique.has(c.type) &&
          c.entityType === wanted.entityType &&
          c.labelsOrTypes?.length === 1 &&
          c.labelsOrTypes[0] === wanted.labelOrType &&
          c.properties?.length === 1 &&
          c.properties[0] === wanted.property,
      ),
  );
}
