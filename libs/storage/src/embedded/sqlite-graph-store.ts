import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { StoreHealth } from "../episodic-store.js";
import { StoreClosedError, StoreInputError } from "../errors.js";
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

export interface SqliteGraphStoreOptions {
  /** The store directory ($T4DM_DATA_DIR/store); created if missing. */
  dir: string;
}

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
 */
export class SqliteGraphStore implements GraphStore {
  readonly backend = "embedded";
  private db: SqliteDatabase | undefined;
  private statements: StatementCache | undefined;
  private closed = false;

  constructor(private readonly options: SqliteGraphStoreOptions) {}

  async init(): Promise<void> {
    if (this.closed) throw new StoreClosedError("the graph store is closed");
    if (this.db) return;
    mkdirSync(this.options.dir, { recursive: true });
    const file = join(this.options.dir, DB_FILE);
    const db = openDatabase(file);
    try {
      const meta = new MetaTable(db);
      db.transaction(() => {
        checkSchemaVersion(meta, file, GRAPH_SCHEMA_VERSION);
        db.exec(GRAPH_SCHEMA);
      })();
    } catch (error) {
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

  async upsertMemoryNode(node: MemoryNode): Promise<void> {
    this.statement(
      `INSERT INTO memory_nodes (namespace, id, kind, content, embedding, metadata, create_time) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (namespace, id) DO UPDATE SET kind = excluded.kind, content = excluded.content, embedding = excluded.embedding,
         metadata = excluded.metadata, create_time = excluded.create_time`,
    ).run(
      node.namespace,
      node.id,
      node.kind,
      node.content,
      toBlob(node.embedding),
      JSON.stringify(node.metadata ?? {}),
      millis(node.createTime, "createTime"),
    );
  }

  async getMemoryNode(namespace: string, id: string): Promise<MemoryNode | undefined> {
    const row = this.statement<MemoryNodeRow>("SELECT * FROM memory_nodes WHERE namespace = ? AND id = ?").get(namespace, id);
    return row ? rowToMemoryNode(row) : undefined;
  }

  async deleteMemoryNodes(namespace: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    this.statement("DELETE FROM memory_nodes WHERE namespace = ? AND id IN (SELECT value FROM json_each(?))").run(namespace, JSON.stringify(ids));
  }

  async listMemoryNodes(namespace: string, page: { after?: { createTime: Date; id: string }; limit: number }): Promise<MemoryNode[]> {
    this.open();
    if (!(page.limit > 0)) return [];
    const after = page.after ? millis(page.after.createTime, "after.createTime") : undefined;
    const rows =
      after === undefined
        ? this.statement<MemoryNodeRow>("SELECT * FROM memory_nodes WHERE namespace = ? ORDER BY create_time, id LIMIT ?").all(namespace, Math.floor(page.limit))
        : this.statement<MemoryNodeRow>(
            "SELECT * FROM memory_nodes WHERE namespace = ? AND (create_time > ? OR (create_time = ? AND id > ?)) ORDER BY create_time, id LIMIT ?",
          ).all(namespace, after, after, page.after!.id, Math.floor(page.limit));
    return rows.map(rowToMemoryNode);
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
    return this.statement<{ namespace: string }>(
      "SELECT namespace FROM facts UNION SELECT namespace FROM procedures UNION SELECT namespace FROM memory_nodes ORDER BY namespace",
    )
      .all()
      .map((row) => row.namespace);
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
      return report(true, "sqlite ok");
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
    db?.close();
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

function rowToMemoryNode(row: MemoryNodeRow): MemoryNode {
  return {
    id: row.id,
    namespace: row.namespace,
    kind: row.kind,
    content: row.content,
    embedding: fromBlob(row.embedding),
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    createTime: new Date(row.create_time),
  };
}
