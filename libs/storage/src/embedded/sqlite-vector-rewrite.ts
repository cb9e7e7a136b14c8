import { existsSync } from "node:fs";
import { join } from "node:path";
import { StoreConfigError, StoreInputError } from "../errors.js";
import type { RewriteItem, StagedVector, VectorRewrite } from "../vector-rewrite.js";
import { fromBlob, toBlob } from "./embedding-blob.js";
import { MetaTable, openDatabase, type SqliteDatabase } from "./sqlite-database.js";

/** A table whose vector column is rewritten from its text column; rows are addressed by rowid. */
interface RewrittenTable {
  table: string;
  text: string;
  vector: string;
  /** Memories carry the cluster they joined; procedures do not. */
  cluster?: string;
}

interface Layout {
  name: string;
  file: string;
  tables: RewrittenTable[];
  /** Runs inside the commit transaction, after the vectors are switched. */
  onCommit?: (db: SqliteDatabase, meta: MetaTable, dimensions: number) => void;
}

// The HNSW file holds the old vectors: forgetting its hash makes the next open rebuild it from the rows.
function forgetVectorIndex(_db: SqliteDatabase, meta: MetaTable, dimensions: number): void {
  meta.set("dimensions", dimensions);
  meta.set("generation", Number(meta.get("generation") ?? 0) + 1);
  meta.set("index_generation", -1);
  meta.set("index_sha256", "");
}

const EPISODIC: Layout = {
  name: "episodic",
  file: "episodic.sqlite",
  tables: [{ table: "memories", text: "content", vector: "embedding", cluster: "cluster_id" }],
  onCommit: forgetVectorIndex,
};

// Graph memory nodes are in no cluster of the learning state (its clusters are the episodic store's and the buffer's).
const GRAPH_MEMORIES: Layout = {
  name: "graph memories",
  file: "graph-memories.sqlite",
  tables: [{ table: "memories", text: "content", vector: "embedding" }],
  onCommit: forgetVectorIndex,
};

const GRAPH: Layout = {
  name: "graph",
  file: "graph.sqlite",
  tables: [
    { table: "memory_nodes", text: "content", vector: "embedding" },
    { table: "procedures", text: "trigger_text", vector: "trigger_embedding" },
  ],
};

/**
 * The embedded stores' rewrite: staged vectors sit in `reembed_<table>`
 * tables of the same SQLite file (committed with synchronous=FULL, so they
 * survive a crash), keyed by rowid; `reembed_state` names the target they
 * were made for. `commit` copies them over in one transaction and drops them.
 * Concept centroids are left as they are (nothing searches by them).
 */
export class SqliteVectorRewrite implements VectorRewrite {
  private cursor = new Map<string, number>();

  private constructor(
    private readonly layout: Layout,
    private readonly db: SqliteDatabase | undefined,
    private readonly meta: MetaTable | undefined,
  ) {}

  static episodic(dir: string, target: string): SqliteVectorRewrite {
    return SqliteVectorRewrite.open(EPISODIC, dir, target);
  }

  static graph(dir: string, target: string): SqliteVectorRewrite {
    return SqliteVectorRewrite.open(GRAPH, dir, target);
  }

  /** The embedded graph store's memory nodes (their own memory table, see SqliteGraphStore). */
  static graphMemories(dir: string, target: string): SqliteVectorRewrite {
    return SqliteVectorRewrite.open(GRAPH_MEMORIES, dir, target);
  }

  get name(): string {
    return this.layout.name;
  }

  private static open(layout: Layout, dir: string, target: string): SqliteVectorRewrite {
    const file = join(dir, layout.file);
    // A store never opened has nothing to rewrite (and must not be created here, without its schema).
    if (!existsSync(file)) return new SqliteVectorRewrite({ ...layout, tables: [] }, undefined, undefined);
    const db = openDatabase(file);
    try {
      const meta = new MetaTable(db);
      const present = new Set(db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((row) => row.name));
      const tables = layout.tables.filter((t) => present.has(t.table));
      db.transaction(() => {
        for (const t of tables) db.exec(`CREATE TABLE IF NOT EXISTS reembed_${t.table} (row INTEGER PRIMARY KEY, vector BLOB NOT NULL)`);
        // Vectors staged for another target (a re-embed abandoned for other settings) are of no use.
        if (meta.get("reembed_target") !== target) {
          for (const t of tables) db.exec(`DELETE FROM reembed_${t.table}`);
          meta.set("reembed_target", target);
          meta.set("reembed_committed", 0);
        }
      })();
      return new SqliteVectorRewrite({ ...layout, tables }, db, meta);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  private get committed(): boolean {
    return this.meta?.get("reembed_committed") === "1";
  }

  async progress(): Promise<{ done: number; total: number }> {
    let done = 0;
    let total = 0;
    for (const t of this.layout.tables) {
      const rows = this.db!.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${t.table}`).get()!.n;
      total += rows;
      done += this.committed ? rows : this.db!.prepare<[], { n: number }>(`SELECT count(*) AS n FROM reembed_${t.table}`).get()!.n;
    }
    return { done, total };
  }

  async pending(limit: number): Promise<RewriteItem[]> {
    if (this.committed) return [];
    const items: RewriteItem[] = [];
    for (const [index, t] of this.layout.tables.entries()) {
      if (items.length >= limit) break;
      // Rows are staged in rowid order, so a cursor skips what this process staged; staged rows of a killed run are skipped by the join.
      const after = this.cursor.get(t.table) ?? 0;
      const rows = this.db!.prepare<[number, number], { row: number; text: string }>(
        `SELECT t.rowid AS row, t.${t.text} AS text FROM ${t.table} t LEFT JOIN reembed_${t.table} s ON s.row = t.rowid
         WHERE t.rowid > ? AND s.row IS NULL ORDER BY t.rowid LIMIT ?`,
      ).all(after, limit - items.length);
      for (const row of rows) items.push({ ref: `${index}:${row.row}`, text: row.text });
    }
    return items;
  }

  async stage(vectors: readonly StagedVector[]): Promise<void> {
    if (vectors.length === 0) return;
    const parsed = vectors.map(({ ref, vector }) => {
      const [index, row] = ref.split(":").map(Number);
      const table = this.layout.tables[index!];
      if (!table || !Number.isSafeInteger(row)) throw new StoreInputError(`not a ${this.name} rewrite reference: ${ref}`);
      for (const x of vector) if (!Number.isFinite(x)) throw new StoreInputError(`the new vector for ${ref} has a non-finite component`);
      return { table, row: row!, vector };
    });
    this.db!.transaction(() => {
      for (const { table, row, vector } of parsed) {
        this.db!.prepare(`INSERT OR REPLACE INTO reembed_${table.table} (row, vector) VALUES (?, ?)`).run(row, toBlob(vector));
      }
    })();
    for (const { table, row } of parsed) this.cursor.set(table.table, Math.max(this.cursor.get(table.table) ?? 0, row));
  }

  async *members(): AsyncIterable<{ namespace: string; clusterId: number; vector: Float32Array }> {
    for (const t of this.layout.tables) {
      if (!t.cluster) continue;
      const sql = this.committed
        ? `SELECT namespace, ${t.cluster} AS cluster, ${t.vector} AS vector FROM ${t.table}`
        : `SELECT t.namespace AS namespace, t.${t.cluster} AS cluster, s.vector AS vector FROM ${t.table} t JOIN reembed_${t.table} s ON s.row = t.rowid`;
      for (const row of this.db!.prepare<[], { namespace: string; cluster: number; vector: Buffer }>(sql).iterate()) {
        yield { namespace: row.namespace, clusterId: row.cluster, vector: fromBlob(row.vector) };
      }
    }
  }

  async commit(dimensions: number): Promise<void> {
    if (!this.db || this.committed) return;
    const db = this.db;
    db.transaction(() => {
      for (const t of this.layout.tables) {
        const missing = db
          .prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${t.table} t LEFT JOIN reembed_${t.table} s ON s.row = t.rowid WHERE s.row IS NULL`)
          .get()!.n;
        if (missing > 0) throw new StoreConfigError(`${this.name} store: ${missing} rows of ${t.table} have no new vector yet; finish staging first`);
        const wrong = db.prepare<[number], { n: number }>(`SELECT count(*) AS n FROM reembed_${t.table} WHERE length(vector) != ?`).get(4 * dimensions)!.n;
        if (wrong > 0) throw new StoreConfigError(`${this.name} store: ${wrong} staged vectors of ${t.table} are not ${dimensions}-dimensional`);
        db.exec(`UPDATE ${t.table} SET ${t.vector} = (SELECT vector FROM reembed_${t.table} s WHERE s.row = ${t.table}.rowid)`);
        db.exec(`DELETE FROM reembed_${t.table}`);
      }
      this.layout.onCommit?.(db, this.meta!, dimensions);
      this.meta!.set("reembed_committed", 1);
    })();
  }

  async close(): Promise<void> {
    this.db?.close();
  }
}
