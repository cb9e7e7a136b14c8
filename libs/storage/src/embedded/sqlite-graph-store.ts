import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { AccessUpdate, LexicalSearchResult, SearchHit, StoreFilter, StoredMemory, StoreHealth } from "../episodic-store.js";
import { StoreClosedError, StoreInputError } from "../errors.js";
import {
  type ConceptInput,
  type FactInput,
  type FactQuery,
  type GraphStore,
  MEMORY_NODE_DEFAULTS,
  type MemoryNode,
  memoryNodeAsStored,
  type ProcedureInput,
  type StoredConcept,
  type StoredFact,
  type StoredProcedure,
} from "../graph-store.js";
import { fromBlob, millis, toBlob } from "./embedding-blob.js";
import {
  type ConceptRow,
  type FactRow,
  GRAPH_SCHEMA,
  GRAPH_SCHEMA_VERSION,
  type MemoryNodeRow,
  type ProcedureRow,
  rowToFact,
  rowToProcedure,
} from "./graph-schema.js";
import { checkSchemaVersion, MetaTable, openDatabase, type SqliteDatabase, StatementCache, type Statement } from "./sqlite-database.js";
import { type MemoryTableLayout, SqliteEpisodicStore, type SqliteEpisodicStoreOptions } from "./sqlite-episodic-store.js";

export interface SqliteGraphStoreOptions extends Omit<SqliteEpisodicStoreOptions, "layout"> {}

/**
 * Memory nodes live in a memory table of their own, the episodic store's
 * kind (rows in SQLite, an HNSW index, FTS5 keyword index and per-namespace
 * statistics), so they are searched exactly as episodic memories are.
 */
export const GRAPH_MEMORY_LAYOUT: MemoryTableLayout = { database: "graph-memories.sqlite", index: "graph-memories.usearch", store: "graph memories" };
const MIGRATION_BATCH = 1024;

const DB_FILE = "graph.sqlite";

/**
 * The embedded graph store: facts, procedures, promoted semantic/procedural
 * memories and concepts in `graph.sqlite`. Every multi-statement write is one
 * transaction, committed with synchronous=FULL before the promise resolves.
 *
 * Fact timelines (per namespace, subject, predicate):
 * - a fact whose id is already stored is a replay: only its confidence and
 *   metadata are refreshed, nothing is closed;
 * - the same object as the open fact is a re-assertion of it;
 * - another object closes the open fact at the new validStart; if the open
 *   fact started after the new one, the new fact is older news and is stored
 *   already closed at the open fact's start instead (so no interval ever
 *   ends before it begins).
 *
 * Promoted memories are in `graph-memories.sqlite` (GRAPH_MEMORY_LAYOUT);
 * schema version 1 kept them in `memory_nodes`, which the first open by
 * this version moves over (see migrateMemoryNodes).
 */
export class SqliteGraphStore implements GraphStore {
  readonly backend = "embedded";
  private db: SqliteDatabase | undefined;
  private statements: StatementCache | undefined;
  private closed = false;
  private readonly memories: SqliteEpisodicStore;

  constructor(private readonly options: SqliteGraphStoreOptions) {
    this.memories = new SqliteEpisodicStore({ ...options, layout: GRAPH_MEMORY_LAYOUT });
  }

  async init(): Promise<void> {
    if (this.closed) throw new StoreClosedError("the graph store is closed");
    if (this.db) return;
    mkdirSync(this.options.dir, { recursive: true });
    const file = join(this.options.dir, DB_FILE);
    const db = openDatabase(file);
    try {
      const meta = new MetaTable(db);
      const version = meta.get("schema_version");
      db.transaction(() => {
        // Version 1 (memory nodes in graph.sqlite) is migrated below; anything else must be this version.
        if (version !== "1") checkSchemaVersion(meta, file, GRAPH_SCHEMA_VERSION);
        db.exec(GRAPH_SCHEMA);
      })();
      await this.memories.init();
      if (version === "1") {
        await migrateMemoryNodes(db, this.memories);
        meta.set("schema_version", GRAPH_SCHEMA_VERSION);
      }
    } catch (error) {
      await this.memories.close();
      db.close();
      throw error;
    }
    this.db = db;
    this.statements = new StatementCache(db);
  }

  async upsertFact(fact: FactInput): Promise<{ fact: StoredFact; closed: StoredFact[] }> {
    const db = this.open();
    const validStart = millis(fact.validStartTime, "validStartTime");
    const recordTime = millis(fact.recordTime, "recordTime");
    const metadata = JSON.stringify(fact.metadata ?? {});
    const byId = this.statement<FactRow>("SELECT * FROM facts WHERE namespace = ? AND id = ?");
    const refresh = this.statement("UPDATE facts SET confidence = ?, metadata = ? WHERE namespace = ? AND id = ?");
    return db.transaction(() => {
      const reassert = (row: FactRow) => {
        refresh.run(fact.confidence, metadata, row.namespace, row.id);
        return { fact: rowToFact(byId.get(row.namespace, row.id)!), closed: [] };
      };
      const stored = byId.get(fact.namespace, fact.id);
      if (stored) {
        if (stored.subject !== fact.subject || stored.predicate !== fact.predicate || stored.object !== fact.object) {
          throw new StoreInputError(`fact ${fact.id} already holds another (subject, predicate, object)`);
        }
        return reassert(stored);
      }
      const open = this.statement<FactRow>("SELECT * FROM facts WHERE namespace = ? AND subject = ? AND predicate = ? AND valid_end IS NULL ORDER BY valid_start, id").all(
        fact.namespace,
        fact.subject,
        fact.predicate,
      );
      const same = open.find((row) => row.object === fact.object);
      if (same) return reassert(same);
      const superseded = open.filter((row) => row.valid_start <= validStart);
      const later = open.filter((row) => row.valid_start > validStart);
      const validEnd = later.length > 0 ? Math.min(...later.map((row) => row.valid_start)) : null;
      const close = this.statement("UPDATE facts SET valid_end = ? WHERE namespace = ? AND id = ?");
      for (const row of superseded) close.run(validStart, row.namespace, row.id);
      this.statement(
        `INSERT INTO facts (namespace, id, subject, predicate, object, confidence, valid_start, valid_end, record_time, metadata)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(fact.namespace, fact.id, fact.subject, fact.predicate, fact.object, fact.confidence, validStart, validEnd, recordTime, metadata);
      return {
        fact: rowToFact(byId.get(fact.namespace, fact.id)!),
        closed: superseded.map((row) => rowToFact({ ...row, valid_end: validStart })),
      };
    })();
  }

  async queryFacts(query: FactQuery): Promise<StoredFact[]> {
    this.open();
    if (!(query.limit > 0)) return [];
    const parts = ["namespace = ?"];
    const params: unknown[] = [query.namespace];
    for (const [column, value] of [
      ["subject", query.subject],
      ["predicate", query.predicate],
      ["object", query.object],
    ] as const) {
      if (value !== undefined) {
        parts.push(`${column} = ?`);
        params.push(value);
      }
    }
    if (!query.includeHistory) {
      const asOf = millis(query.asOf, "asOf");
      parts.push("valid_start <= ? AND (valid_end IS NULL OR valid_end > ?)");
      params.push(asOf, asOf);
    }
    if (query.after) {
      const time = millis(query.after.recordTime, "after.recordTime");
      parts.push("(record_time > ? OR (record_time = ? AND id > ?))");
      params.push(time, time, query.after.id);
    }
    params.push(Math.floor(query.limit));
    return this.statement<FactRow>(`SELECT * FROM facts WHERE ${parts.join(" AND ")} ORDER BY record_time, id LIMIT ?`)
      .all(...params)
      .map(rowToFact);
  }

  async upsertProcedure(procedure: ProcedureInput): Promise<StoredProcedure> {
    const db = this.open();
    const now = millis(procedure.now, "now");
    const definition = [
      procedure.trigger,
      toBlob(procedure.triggerEmbedding),
      JSON.stringify(procedure.steps),
      JSON.stringify(procedure.metadata ?? {}),
    ] as const;
    const byName = this.statement<ProcedureRow>("SELECT * FROM procedures WHERE namespace = ? AND name = ?");
    const byId = this.statement<ProcedureRow>("SELECT * FROM procedures WHERE namespace = ? AND id = ?");
    return db.transaction(() => {
      // The name is the natural key: an upsert under a known name keeps that procedure's id and statistics.
      const target = byName.get(procedure.namespace, procedure.name) ?? byId.get(procedure.namespace, procedure.id);
      if (target) {
        this.statement(
          "UPDATE procedures SET name = ?, trigger_text = ?, trigger_embedding = ?, steps = ?, metadata = ?, update_time = ? WHERE namespace = ? AND id = ?",
        ).run(procedure.name, ...definition, now, target.namespace, target.id);
        return rowToProcedure(byId.get(target.namespace, target.id)!);
      }
      this.statement(
        `INSERT INTO procedures (namespace, id, name, trigger_text, trigger_embedding, steps, metadata, create_time, update_time)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(procedure.namespace, procedure.id, procedure.name, ...definition, now, now);
      return rowToProcedure(byId.get(procedure.namespace, procedure.id)!);
    })();
  }

  async getProcedure(namespace: string, id: string): Promise<StoredProcedure | undefined> {
    const row = this.statement<ProcedureRow>("SELECT * FROM procedures WHERE namespace = ? AND id = ?").get(namespace, id);
    return row ? rowToProcedure(row) : undefined;
  }

  /** Every procedure of the namespace, by name. */
  async listProcedures(namespace: string): Promise<StoredProcedure[]> {
    return this.statement<ProcedureRow>("SELECT * FROM procedures WHERE namespace = ? ORDER BY name").all(namespace).map(rowToProcedure);
  }

  async recordOutcome(namespace: string, id: string, success: boolean, at: Date): Promise<StoredProcedure | undefined> {
    const row = this.statement<ProcedureRow>(
      `UPDATE procedures SET success_count = success_count + ?, execution_count = execution_count + 1, update_time = ?
       WHERE namespace = ? AND id = ? RETURNING *`,
    ).get(success ? 1 : 0, millis(at, "at"), namespace, id);
    return row ? rowToProcedure(row) : undefined;
  }

  /** Keeps the node's access statistics: read, then written, by the one process that owns the store. */
  async upsertMemoryNode(node: MemoryNode): Promise<void> {
    this.open();
    const previous = await this.memories.get(node.namespace, node.id);
    await this.memories.upsert([memoryNodeAsStored(node, previous)]);
  }

  async getMemoryNode(namespace: string, id: string): Promise<StoredMemory | undefined> {
    this.open();
    return this.memories.get(namespace, id);
  }

  async getMemoryNodes(namespace: string, ids: readonly string[]): Promise<StoredMemory[]> {
    this.open();
    return this.memories.getMany(namespace, ids);
  }

  async deleteMemoryNodes(namespace: string, ids: readonly string[]): Promise<void> {
    this.open();
    await this.memories.delete(namespace, ids);
  }

  async searchMemoryNodes(namespace: string, query: Float32Array, k: number, filter: StoreFilter): Promise<SearchHit[]> {
    this.open();
    return this.memories.search(namespace, query, k, filter);
  }

  async lexicalSearchMemoryNodes(namespace: string, terms: readonly string[], k: number, filter: StoreFilter): Promise<LexicalSearchResult> {
    this.open();
    return this.memories.lexicalSearch(namespace, terms, k, filter);
  }

  async recordAccess(namespace: string, updates: readonly AccessUpdate[]): Promise<void> {
    this.open();
    await this.memories.recordAccess(namespace, updates);
  }

  async listMemoryNodes(namespace: string, page: { after?: { createTime: Date; id: string }; limit: number }): Promise<StoredMemory[]> {
    this.open();
    return this.memories.list(namespace, {}, page);
  }

  async restoreFact(fact: StoredFact): Promise<void> {
    const db = this.open();
    const row = [
      fact.confidence,
      millis(fact.validStartTime, "validStartTime"),
      fact.validEndTime ? millis(fact.validEndTime, "validEndTime") : null,
      millis(fact.recordTime, "recordTime"),
      JSON.stringify(fact.metadata ?? {}),
    ] as const;
    db.transaction(() => {
      const stored = this.statement<FactRow>("SELECT * FROM facts WHERE namespace = ? AND id = ?").get(fact.namespace, fact.id);
      if (stored && (stored.subject !== fact.subject || stored.predicate !== fact.predicate || stored.object !== fact.object)) {
        throw new StoreInputError(`fact ${fact.id} already holds another (subject, predicate, object)`);
      }
      this.statement(
        `INSERT INTO facts (namespace, id, subject, predicate, object, confidence, valid_start, valid_end, record_time, metadata)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (namespace, id) DO UPDATE SET confidence = excluded.confidence, valid_start = excluded.valid_start,
           valid_end = excluded.valid_end, record_time = excluded.record_time, metadata = excluded.metadata`,
      ).run(fact.namespace, fact.id, fact.subject, fact.predicate, fact.object, ...row);
    })();
  }

  async restoreProcedure(procedure: StoredProcedure): Promise<void> {
    const db = this.open();
    db.transaction(() => {
      const named = this.statement<ProcedureRow>("SELECT * FROM procedures WHERE namespace = ? AND name = ?").get(procedure.namespace, procedure.name);
      if (named && named.id !== procedure.id) throw new StoreInputError(`procedure name ${JSON.stringify(procedure.name)} is held by another procedure id`);
      this.statement(
        `INSERT INTO procedures (namespace, id, name, trigger_text, trigger_embedding, steps, metadata, success_count, execution_count, create_time, update_time)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (namespace, id) DO UPDATE SET name = excluded.name, trigger_text = excluded.trigger_text,
           trigger_embedding = excluded.trigger_embedding, steps = excluded.steps, metadata = excluded.metadata,
           success_count = excluded.success_count, execution_count = excluded.execution_count,
           create_time = excluded.create_time, update_time = excluded.update_time`,
      ).run(
        procedure.namespace,
        procedure.id,
        procedure.name,
        procedure.trigger,
        toBlob(procedure.triggerEmbedding),
        JSON.stringify(procedure.steps),
        JSON.stringify(procedure.metadata ?? {}),
        procedure.successCount,
        procedure.executionCount,
        millis(procedure.createTime, "createTime"),
        millis(procedure.updateTime, "updateTime"),
      );
    })();
  }

  async namespaces(): Promise<string[]> {
    this.open();
    const graph = this.statement<{ namespace: string }>("SELECT namespace FROM facts UNION SELECT namespace FROM procedures").all();
    return [...new Set([...graph.map((row) => row.namespace), ...(await this.memories.namespaces())])].sort();
  }

  async upsertConcept(concept: ConceptInput): Promise<void> {
    const db = this.open();
    const createTime = millis(concept.createTime, "createTime");
    db.transaction(() => {
      this.statement(
        `INSERT INTO concepts (namespace, id, label, centroid, create_time) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (namespace, id) DO UPDATE SET label = excluded.label, centroid = excluded.centroid, create_time = excluded.create_time`,
      ).run(concept.namespace, concept.id, concept.label, toBlob(concept.centroid), createTime);
      // The links are replaced as a whole, so a re-upsert leaves exactly the given episodes.
      this.statement("DELETE FROM concept_episodes WHERE namespace = ? AND concept_id = ?").run(concept.namespace, concept.id);
      const link = this.statement("INSERT INTO concept_episodes (namespace, concept_id, position, episode_id) VALUES (?, ?, ?, ?)");
      concept.episodeIds.forEach((episodeId, position) => link.run(concept.namespace, concept.id, position, episodeId));
    })();
  }

  /** Every concept of the namespace, in (createTime, id) order, with its episodes in the order given. */
  async listConcepts(namespace: string): Promise<StoredConcept[]> {
    return this.statement<ConceptRow>(
      `SELECT c.*, (SELECT json_group_array(e.episode_id ORDER BY e.position) FROM concept_episodes e
                    WHERE e.namespace = c.namespace AND e.concept_id = c.id) AS episodes
       FROM concepts c WHERE c.namespace = ? ORDER BY c.create_time, c.id`,
    )
      .all(namespace)
      .map((row) => ({
        id: row.id,
        namespace: row.namespace,
        label: row.label,
        centroid: fromBlob(row.centroid),
        episodeIds: JSON.parse(row.episodes) as string[],
        createTime: new Date(row.create_time),
      }));
  }

  async health(): Promise<StoreHealth> {
    const report = (healthy: boolean, detail: string): StoreHealth => ({ store: "graph", backend: this.backend, healthy, detail });
    try {
      if (!this.db) return report(false, this.closed ? "closed" : "not initialised");
      this.statement("SELECT 1").get();
      const memories = await this.memories.health();
      return report(memories.healthy, `sqlite ok; memory nodes: ${memories.detail}`);
    } catch (error) {
      return report(false, `sqlite error: ${(error as Error).message}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const db = this.db;
    this.db = undefined;
    this.statements = undefined;
    try {
      await this.memories.close();
    } finally {
      db?.close();
    }
  }

  private statement<Row = unknown>(sql: string): Statement<unknown[], Row> {
    this.open();
    return this.statements!.get<Row>(sql);
  }

  private open(): SqliteDatabase {
    if (this.db) return this.db;
    throw new StoreClosedError(this.closed ? "the graph store is closed" : "the graph store is not initialised; call init()");
  }
}

/**
 * Moves schema version 1's memory nodes into the memory table (with the
 * defaults for what version 1 did not keep), then empties `memory_nodes`.
 * Upserts are idempotent, so a crash half-way repeats the copy on the next
 * open (the version stays 1 until the end).
 */
async function migrateMemoryNodes(db: SqliteDatabase, memories: SqliteEpisodicStore): Promise<void> {
  const batch = db.prepare<[number, number], MemoryNodeRow & { rowid: number }>("SELECT rowid, * FROM memory_nodes WHERE rowid > ? ORDER BY rowid LIMIT ?");
  for (let rows = batch.all(0, MIGRATION_BATCH); rows.length > 0; rows = batch.all(rows[rows.length - 1]!.rowid, MIGRATION_BATCH)) {
    await memories.upsert(
      rows.map((row) =>
        memoryNodeAsStored({
          id: row.id,
          namespace: row.namespace,
          kind: row.kind,
          content: row.content,
          embedding: fromBlob(row.embedding),
          metadata: JSON.parse(row.metadata) as Record<string, unknown>,
          createTime: new Date(row.create_time),
          ...MEMORY_NODE_DEFAULTS,
        }),
      ),
    );
  }
  db.exec("DELETE FROM memory_nodes");
}
