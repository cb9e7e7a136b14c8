import { lexicalTerms } from "@t4dm/learning";
import neo4j, { type Driver, type ManagedTransaction, type Session } from "neo4j-driver";
import type { AccessUpdate, LexicalSearchResult, SearchHit, StoredMemory, StoreFilter, StoreHealth } from "../episodic-store.js";
import { millis } from "../embedded/embedding-blob.js";
import { StoreClosedError, StoreConfigError, StoreInputError } from "../errors.js";
import type {
  ConceptInput,
  FactInput,
  FactQuery,
  GraphStore,
  MemoryNode,
  ProcedureInput,
  StoredConcept,
  StoredFact,
  StoredProcedure,
} from "../graph-store.js";
import { neo4jError } from "./neo4j-errors.js";
import { queryFactsIn, restoreFactIn, upsertFactIn } from "./neo4j-facts.js";
import {
  CONCEPT_PROJECTION,
  type ConceptRecord,
  epochMillis,
  floatList,
  MEMORY_PROJECTION,
  type MemoryRecord,
  PROCEDURE_PROJECTION,
  type ProcedureRecord,
  toConcept,
  toProcedure,
  toStoredMemory,
} from "./neo4j-records.js";
import { Neo4jMemorySearch } from "./neo4j-memory-search.js";
import {
  constraintStatement,
  INDEX_STATEMENTS,
  keyOf,
  MEMORY_VECTOR_INDEX,
  memoryVectorIndexStatement,
  missingConstraints,
  type ShownConstraint,
  UNIQUE_CONSTRAINTS,
} from "./neo4j-schema.js";

export interface Neo4jGraphStoreOptions {
  /** A Bolt URI: bolt://host:7687 for one server, neo4j://host:7687 for a cluster (routing). */
  uri: string;
  /** With a password, basic auth as this user (default "neo4j"); without one, no auth. */
  user?: string;
  password?: string;
  /** The database; the server's default database when unset. */
  database?: string;
  /** How long one attempt to open a connection may take before it fails. Default 5 s. */
  connectionTimeoutMs?: number;
  /**
   * How long a call keeps retrying its managed transaction on transient errors and lost
   * connections (a restarting server, a leader switch) before it rejects. Default 15 s.
   */
  maxRetryTimeMs?: number;
  /** Embedding dimension of memory nodes (the vector index's). */
  dimensions: number;
  /** Memory-node searches whose namespace and kinds hold at most this many nodes are exact scans. Default 1024. */
  exactSearchBelow?: number;
}

const PROCEDURE_RENAME = `MATCH (p:Procedure {key: $key})
WHERE p.nameKey <> $nameKey AND NOT EXISTS { MATCH (:Procedure {nameKey: $nameKey}) }
SET p.nameKey = $nameKey, p.name = $name`;

// MERGE on the natural key: under the uniqueness constraint two racing creators of one name get one node.
const PROCEDURE_UPSERT = `MERGE (p:Procedure {nameKey: $nameKey})
  ON CREATE SET p.key = $key, p.namespace = $namespace, p.id = $id, p.successCount = 0, p.executionCount = 0,
    p.createTime = datetime({epochMillis: $now})
SET p.name = $name, p.trigger = $trigger, p.triggerEmbedding = $triggerEmbedding, p.steps = $steps,
  p.metadata = $metadata, p.updateTime = datetime({epochMillis: $now})
RETURN ${PROCEDURE_PROJECTION} AS procedure`;

const PROCEDURE_OUTCOME = `MATCH (p:Procedure {key: $key})
SET p.successCount = p.successCount + $successes, p.executionCount = p.executionCount + 1,
  p.updateTime = datetime({epochMillis: $at})
RETURN ${PROCEDURE_PROJECTION} AS procedure`;

// Access statistics start at zero and survive a re-upsert (a replayed promotion).
const MEMORY_UPSERT = `MERGE (m:Memory {key: $key})
ON CREATE SET m.accessCount = 0.0, m.rewardSum = 0.0, m.rewardCount = 0.0
SET m.namespace = $namespace, m.id = $id, m.kind = $kind, m.content = $content, m.embedding = $embedding,
  m.metadata = $metadata, m.createTime = datetime({epochMillis: $createTime}), m.importance = $importance,
  m.evidence = $evidence, m.clusterId = $clusterId,
  m.expireTime = CASE WHEN $expireTime IS NULL THEN null ELSE datetime({epochMillis: $expireTime}) END,
  m.lexicalTerms = $lexicalTerms, m.lexicalLength = $lexicalLength`;

const MEMORY_ACCESS = `UNWIND $updates AS u
MATCH (m:Memory {key: u.key})
SET m.accessCount = u.accessCount, m.lastAccessTime = datetime({epochMillis: u.lastAccessTime}),
  m.rewardSum = u.rewardSum, m.rewardCount = u.rewardCount`;

/** Nodes written before graph search have no terms: they get them at start-up, in batches of this size. */
const TERMS_BACKFILL_BATCH = 1000;

// Import: the procedure as exported, statistics and times included (a name held by another id fails on nameKey's constraint).
const PROCEDURE_RESTORE = `MERGE (p:Procedure {key: $key})
SET p.nameKey = $nameKey, p.namespace = $namespace, p.id = $id, p.name = $name, p.trigger = $trigger,
  p.triggerEmbedding = $triggerEmbedding, p.steps = $steps, p.metadata = $metadata,
  p.successCount = $successCount, p.executionCount = $executionCount,
  p.createTime = datetime({epochMillis: $createTime}), p.updateTime = datetime({epochMillis: $updateTime})`;

const MEMORY_PAGE = `MATCH (m:Memory) WHERE m.namespace = $namespace
  AND ($afterTime IS NULL OR m.createTime > datetime({epochMillis: $afterTime})
       OR (m.createTime = datetime({epochMillis: $afterTime}) AND m.id > $afterId))
RETURN ${MEMORY_PROJECTION} AS memory ORDER BY m.createTime, m.id LIMIT $limit`;

const NAMESPACES = `MATCH (m:Memory) RETURN DISTINCT m.namespace AS namespace
UNION MATCH (p:Procedure) RETURN DISTINCT p.namespace AS namespace
UNION MATCH ()-[f:FACT]->() RETURN DISTINCT f.namespace AS namespace`;

const CONCEPT_UPSERT = `MERGE (c:Concept {key: $key})
SET c.namespace = $namespace, c.id = $id, c.label = $label, c.centroid = $centroid,
  c.createTime = datetime({epochMillis: $createTime})
WITH c
OPTIONAL MATCH (c)-[old:SUMMARISES]->(:Episode)
DELETE old`;

// Links are replaced as a whole (the old ones went in CONCEPT_UPSERT, same transaction).
const CONCEPT_LINK = `MATCH (c:Concept {key: $key})
UNWIND $episodes AS episode
MERGE (e:Episode {key: episode.key}) ON CREATE SET e.namespace = $namespace, e.id = episode.id
MERGE (c)-[:SUMMARISES {position: episode.position}]->(e)`;

/**
 * The graph store on Neo4j (Community or Enterprise 5.x), through neo4j-driver. See
 * neo4j-schema.ts for the layout. Every write is a managed transaction
 * (`session.executeWrite`, retried by the driver on transient errors and lost
 * connections for up to `maxRetryTimeMs`) whose statements MERGE by unique key; every
 * query is a fixed Cypher text with parameters. A write is durable when the promise
 * resolves: the transaction has committed on the server.
 */
export class Neo4jGraphStore implements GraphStore {
  readonly backend = "neo4j";
  private driver: Driver | undefined;
  private starting: Promise<void> | undefined;
  private closed = false;
  /** The vector index's dimension at start-up (undefined: none), for health and the search path. */
  private vectorIndexDimensions: number | undefined;
  private readonly memorySearch: Neo4jMemorySearch;

  constructor(private readonly options: Neo4jGraphStoreOptions) {
    this.memorySearch = new Neo4jMemorySearch(options.exactSearchBelow ?? 1_024, () => this.vectorIndexDimensions === options.dimensions);
  }

  /** Connects, then creates and verifies the constraints; fails naming the URI when Neo4j cannot be reached. */
  init(): Promise<void> {
    if (this.closed) return Promise.reject(new StoreClosedError("the graph store is closed"));
    this.starting ??= this.start().catch((error: unknown) => {
      this.starting = undefined;
      throw error;
    });
    return this.starting;
  }

  async upsertFact(fact: FactInput): Promise<{ fact: StoredFact; closed: StoredFact[] }> {
    return this.write("upsertFact", (tx) => upsertFactIn(tx, fact));
  }

  async queryFacts(query: FactQuery): Promise<StoredFact[]> {
    return this.read("queryFacts", (tx) => queryFactsIn(tx, query));
  }

  async upsertProcedure(procedure: ProcedureInput): Promise<StoredProcedure> {
    const params = {
      ...procedureParams(procedure),
      now: epochMillis(procedure.now, "now"),
    };
    return this.write("upsertProcedure", async (tx) => {
      // The name is the natural key: an upsert under a known name keeps that procedure's id and statistics.
      await tx.run(PROCEDURE_RENAME, params);
      const result = await tx.run<{ procedure: ProcedureRecord }>(PROCEDURE_UPSERT, params);
      return toProcedure(result.records[0]!.get("procedure"));
    });
  }

  async getProcedure(namespace: string, id: string): Promise<StoredProcedure | undefined> {
    const key = keyOf(namespace, id);
    const record = await this.read("getProcedure", async (tx) => {
      const result = await tx.run<{ procedure: ProcedureRecord }>(`MATCH (p:Procedure {key: $key}) RETURN ${PROCEDURE_PROJECTION} AS procedure`, { key });
      return result.records[0]?.get("procedure");
    });
    return record ? toProcedure(record) : undefined;
  }

  /** Every procedure of the namespace, by name. */
  async listProcedures(namespace: string): Promise<StoredProcedure[]> {
    const records = await this.read("listProcedures", async (tx) => {
      const result = await tx.run<{ procedure: ProcedureRecord }>(
        `MATCH (p:Procedure) WHERE p.namespace = $namespace RETURN ${PROCEDURE_PROJECTION} AS procedure ORDER BY p.name`,
        { namespace },
      );
      return result.records.map((r) => r.get("procedure"));
    });
    return records.map(toProcedure);
  }

  async recordOutcome(namespace: string, id: string, success: boolean, at: Date): Promise<StoredProcedure | undefined> {
    const params = { key: keyOf(namespace, id), successes: neo4j.int(success ? 1 : 0), at: epochMillis(at, "at") };
    const record = await this.write("recordOutcome", async (tx) => (await tx.run<{ procedure: ProcedureRecord }>(PROCEDURE_OUTCOME, params)).records[0]?.get("procedure"));
    return record ? toProcedure(record) : undefined;
  }

  async upsertMemoryNode(node: MemoryNode): Promise<void> {
    const terms = lexicalTerms(node.content);
    const params = {
      key: keyOf(node.namespace, node.id),
      namespace: node.namespace,
      id: node.id,
      kind: neo4j.int(node.kind),
      content: node.content,
      embedding: floatList(node.embedding, "embedding"),
      metadata: JSON.stringify(node.metadata ?? {}),
      createTime: epochMillis(node.createTime, "createTime"),
      importance: node.importance,
      evidence: node.evidence,
      clusterId: neo4j.int(node.clusterId),
      expireTime: node.expireTime ? epochMillis(node.expireTime, "expireTime") : null,
      lexicalTerms: terms.join(" "),
      lexicalLength: neo4j.int(terms.length),
    };
    await this.write("upsertMemoryNode", async (tx) => {
      await tx.run(MEMORY_UPSERT, params);
    });
  }

  async getMemoryNode(namespace: string, id: string): Promise<StoredMemory | undefined> {
    return (await this.getMemoryNodes(namespace, [id]))[0];
  }

  async getMemoryNodes(namespace: string, ids: readonly string[]): Promise<StoredMemory[]> {
    if (ids.length === 0) return [];
    const unique = [...new Set(ids)];
    const keys = unique.map((id) => keyOf(namespace, id));
    const records = await this.read("getMemoryNodes", async (tx) => {
      const result = await tx.run<{ memory: MemoryRecord }>(`UNWIND $keys AS key MATCH (m:Memory {key: key}) RETURN ${MEMORY_PROJECTION} AS memory`, { keys });
      return result.records.map((r) => r.get("memory"));
    });
    const byId = new Map(records.map((record) => [record.id, toStoredMemory(record)]));
    return unique.flatMap((id) => byId.get(id) ?? []);
  }

  async searchMemoryNodes(namespace: string, query: Float32Array, k: number, filter: StoreFilter): Promise<SearchHit[]> {
    const vector = floatList(query, "the query");
    if (vector.length !== this.options.dimensions) throw new StoreConfigError(`the query has ${vector.length} dimensions; the store ${this.options.dimensions}`);
    keyOf(namespace, "");
    return this.read("searchMemoryNodes", (tx) => this.memorySearch.search(tx, namespace, query, k, filter));
  }

  async lexicalSearchMemoryNodes(namespace: string, terms: readonly string[], k: number, filter: StoreFilter): Promise<LexicalSearchResult> {
    keyOf(namespace, "");
    return this.read("lexicalSearchMemoryNodes", (tx) => this.memorySearch.lexicalSearch(tx, namespace, terms, k, filter));
  }

  async recordAccess(namespace: string, updates: readonly AccessUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    const rows = updates.map((update) => ({
      key: keyOf(namespace, update.id),
      accessCount: update.accessCount,
      lastAccessTime: neo4j.int(millis(update.lastAccessTime, "lastAccessTime")),
      rewardSum: update.rewardSum,
      rewardCount: update.rewardCount,
    }));
    await this.write("recordAccess", async (tx) => {
      await tx.run(MEMORY_ACCESS, { updates: rows });
    });
  }

  async deleteMemoryNodes(namespace: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const keys = ids.map((id) => keyOf(namespace, id));
    await this.write("deleteMemoryNodes", async (tx) => {
      await tx.run("UNWIND $keys AS key MATCH (m:Memory {key: key}) DETACH DELETE m", { keys });
    });
  }

  async listMemoryNodes(namespace: string, page: { after?: { createTime: Date; id: string }; limit: number }): Promise<StoredMemory[]> {
    if (!(page.limit > 0)) return [];
    const params = {
      namespace,
      afterTime: page.after ? epochMillis(page.after.createTime, "after.createTime") : null,
      afterId: page.after?.id ?? null,
      limit: neo4j.int(Math.floor(page.limit)),
    };
    const records = await this.read("listMemoryNodes", async (tx) => (await tx.run<{ memory: MemoryRecord }>(MEMORY_PAGE, params)).records.map((r) => r.get("memory")));
    return records.map(toStoredMemory);
  }

  async restoreFact(fact: StoredFact): Promise<void> {
    await this.write("restoreFact", (tx) => restoreFactIn(tx, fact));
  }

  async restoreProcedure(procedure: StoredProcedure): Promise<void> {
    const params = {
      ...procedureParams(procedure),
      successCount: neo4j.int(procedure.successCount),
      executionCount: neo4j.int(procedure.executionCount),
      createTime: epochMillis(procedure.createTime, "createTime"),
      updateTime: epochMillis(procedure.updateTime, "updateTime"),
    };
    await this.write("restoreProcedure", async (tx) => {
      const held = await tx.run<{ id: string }>("MATCH (p:Procedure {nameKey: $nameKey}) RETURN p.id AS id", params);
      const holder = held.records[0]?.get("id");
      if (holder !== undefined && holder !== procedure.id) throw new StoreInputError(`procedure name ${JSON.stringify(procedure.name)} is held by another procedure id`);
      await tx.run(PROCEDURE_RESTORE, params);
    });
  }

  async namespaces(): Promise<string[]> {
    const records = await this.read("namespaces", async (tx) => (await tx.run<{ namespace: string }>(NAMESPACES)).records.map((r) => r.get("namespace")));
    return records.sort();
  }

  async upsertConcept(concept: ConceptInput): Promise<void> {
    const key = keyOf(concept.namespace, concept.id);
    const params = {
      key,
      namespace: concept.namespace,
      id: concept.id,
      label: concept.label,
      centroid: floatList(concept.centroid, "centroid"),
      createTime: epochMillis(concept.createTime, "createTime"),
      episodes: concept.episodeIds.map((id, position) => ({ id, key: keyOf(concept.namespace, id), position: neo4j.int(position) })),
    };
    await this.write("upsertConcept", async (tx) => {
      await tx.run(CONCEPT_UPSERT, params);
      if (params.episodes.length > 0) await tx.run(CONCEPT_LINK, params);
    });
  }

  /** Every concept of the namespace, in (createTime, id) order, with its episodes in the order given. */
  async listConcepts(namespace: string): Promise<StoredConcept[]> {
    const records = await this.read("listConcepts", async (tx) => {
      const result = await tx.run<{ concept: ConceptRecord }>(
        `MATCH (c:Concept) WHERE c.namespace = $namespace RETURN ${CONCEPT_PROJECTION} AS concept ORDER BY c.createTime, c.id`,
        { namespace },
      );
      return result.records.map((r) => r.get("concept"));
    });
    return records.map(toConcept);
  }

  async health(): Promise<StoreHealth> {
    const report = (healthy: boolean, detail: string): StoreHealth => ({ store: "graph", backend: this.backend, healthy, detail });
    const driver = this.driver;
    if (!driver) return report(false, this.closed ? "closed" : "not initialised");
    try {
      const session = this.session(driver, neo4j.session.READ);
      try {
        // Auto-commit, not managed: a health probe reports the failure instead of retrying through it.
        await session.run("RETURN 1", {}, { timeout: this.options.connectionTimeoutMs ?? 5_000 });
      } finally {
        await session.close();
      }
      const vectors =
        this.vectorIndexDimensions === this.options.dimensions
          ? "memory vector index ok"
          : `memory vector index ${this.vectorIndexDimensions === undefined ? "missing" : `has ${this.vectorIndexDimensions} dimensions, the store ${this.options.dimensions}`}: vector searches scan exactly`;
      return report(true, `neo4j ok; ${vectors}`);
    } catch (error) {
      return report(false, `neo4j error: ${(error as Error).message}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const starting = this.starting;
    this.starting = undefined;
    await starting?.catch(() => undefined);
    const driver = this.driver;
    this.driver = undefined;
    await driver?.close();
  }

  private async start(): Promise<void> {
    const { uri, user, password, database } = this.options;
    let driver: Driver;
    try {
      driver = neo4j.driver(uri, password === undefined ? undefined : neo4j.auth.basic(user ?? "neo4j", password), {
        // Times, counts and positions are far below 2^53: plain numbers are safe and simpler than Integer.
        disableLosslessIntegers: true,
        connectionTimeout: this.options.connectionTimeoutMs ?? 5_000,
        maxTransactionRetryTime: this.options.maxRetryTimeMs ?? 15_000,
        userAgent: "t4dm-storage",
      });
    } catch (error) {
      throw new StoreConfigError(`invalid Neo4j URI ${uri}: ${(error as Error).message}`, { cause: error });
    }
    try {
      await driver.verifyConnectivity(database === undefined ? {} : { database });
    } catch (error) {
      await driver.close();
      throw neo4jError(uri, `connect${database ? ` to database ${database}` : ""}`, error);
    }
    try {
      await this.ensureSchema(driver);
    } catch (error) {
      await driver.close();
      throw neo4jError(uri, "creating the constraints", error);
    }
    if (this.closed) {
      await driver.close();
      throw new StoreClosedError("the graph store was closed while it started");
    }
    this.driver = driver;
  }

  /** Creates the constraints and indexes if missing (schema changes cannot share a transaction with data), then checks they hold. */
  private async ensureSchema(driver: Driver): Promise<void> {
    const session = this.session(driver, neo4j.session.WRITE);
    try {
      for (const statement of [...UNIQUE_CONSTRAINTS.map(constraintStatement), ...INDEX_STATEMENTS, memoryVectorIndexStatement(this.options.dimensions)]) {
        await session.executeWrite(async (tx) => {
          await tx.run(statement);
        });
      }
      const shown = await session.executeRead((tx) =>
        tx.run<ShownConstraint & Record<string, unknown>>("SHOW CONSTRAINTS YIELD name, type, entityType, labelsOrTypes, properties"),
      );
      const missing = missingConstraints(shown.records.map((r) => r.toObject()));
      if (missing.length > 0) {
        const wanted = missing.map((c) => `${c.labelOrType}.${c.property}`).join(", ");
        throw new StoreConfigError(
          `Neo4j at ${this.options.uri} has no uniqueness constraint on ${wanted}; another constraint may hold the name t4dm_* (see SHOW CONSTRAINTS)`,
        );
      }
      await session.executeRead(async (tx) => {
        await tx.run("CALL db.awaitIndexes(300)");
      });
      const vectorIndex = await session.executeRead((tx) =>
        tx.run<{ dimensions: unknown }>("SHOW VECTOR INDEXES YIELD name, options WHERE name = $name RETURN options.indexConfig['vector.dimensions'] AS dimensions", {
          name: MEMORY_VECTOR_INDEX,
        }),
      );
      const dimensions = vectorIndex.records[0]?.get("dimensions");
      this.vectorIndexDimensions = typeof dimensions === "number" ? dimensions : undefined;
      await this.backfillTerms(session);
    } finally {
      await session.close();
    }
  }

  /** Gives memory nodes written before graph search their lexical terms (the fulltext index and BM25 read them). */
  private async backfillTerms(session: Session): Promise<void> {
    for (;;) {
      const missing = await session.executeRead((tx) =>
        tx.run<{ key: string; content: string }>("MATCH (m:Memory) WHERE m.lexicalTerms IS NULL RETURN m.key AS key, m.content AS content LIMIT $limit", {
          limit: neo4j.int(TERMS_BACKFILL_BATCH),
        }),
      );
      if (missing.records.length === 0) return;
      const rows = missing.records.map((record) => {
        const terms = lexicalTerms(record.get("content") ?? "");
        return { key: record.get("key"), terms: terms.join(" "), length: neo4j.int(terms.length) };
      });
      await session.executeWrite(async (tx) => {
        await tx.run("UNWIND $rows AS row MATCH (m:Memory {key: row.key}) SET m.lexicalTerms = row.terms, m.lexicalLength = row.length", { rows });
      });
    }
  }

  private session(driver: Driver, mode: typeof neo4j.session.READ | typeof neo4j.session.WRITE): Session {
    const { database } = this.options;
    return driver.session(database === undefined ? { defaultAccessMode: mode } : { defaultAccessMode: mode, database });
  }

  private async write<T>(what: string, work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    const session = this.session(this.open(), neo4j.session.WRITE);
    try {
      return await session.executeWrite(work);
    } catch (error) {
      throw neo4jError(this.options.uri, what, error);
    } finally {
      await session.close();
    }
  }

  private async read<T>(what: string, work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    const session = this.session(this.open(), neo4j.session.READ);
    try {
      return await session.executeRead(work);
    } catch (error) {
      throw neo4jError(this.options.uri, what, error);
    } finally {
      await session.close();
    }
  }

  private open(): Driver {
    if (this.driver) return this.driver;
    throw new StoreClosedError(this.closed ? "the graph store is closed" : "the graph store is not initialised; call init()");
  }
}

/** The Cypher parameters a procedure's upsert and restore share: its keys, text, trigger vector, steps and metadata. */
function procedureParams(procedure: Omit<ProcedureInput, "now">) {
  return {
    key: keyOf(procedure.namespace, procedure.id),
    nameKey: keyOf(procedure.namespace, procedure.name),
    namespace: procedure.namespace,
    id: procedure.id,
    name: procedure.name,
    trigger: procedure.trigger,
    triggerEmbedding: floatList(procedure.triggerEmbedding, "triggerEmbedding"),
    steps: JSON.stringify(procedure.steps),
    metadata: JSON.stringify(procedure.metadata ?? {}),
  };
}
