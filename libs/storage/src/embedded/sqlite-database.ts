import Database from "better-sqlite3";
import { StoreConfigError } from "../errors.js";

export type SqliteDatabase = Database.Database;
export type Statement<Params extends unknown[] | {} = unknown[], Row = unknown> = Database.Statement<Params, Row>;

/**
 * Opens a SQLite file for a store: WAL so readers never block the writer.
 * synchronous=FULL (the default) so a committed transaction survives power
 * loss before the write resolves; NORMAL only for a store that awaits a
 * SqliteWalSync before it resolves a write (the sync then runs off the event
 * loop instead of inside the commit).
 */
export function openDatabase(path: string, synchronous: "FULL" | "NORMAL" = "FULL"): SqliteDatabase {
  const db = new Database(path);
  try {
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal") throw new StoreConfigError(`${path}: SQLite refused WAL journal mode (got ${String(mode)})`);
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma("busy_timeout = 5000");
    db.pragma("foreign_keys = ON");
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** A small key/value table for schema version, dimensions and index bookkeeping. */
export class MetaTable {
  private readonly read: Database.Statement<[string], { value: string }>;
  private readonly write: Database.Statement<[string, string]>;

  constructor(db: SqliteDatabase) {
    db.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    this.read = db.prepare("SELECT value FROM meta WHERE key = ?");
    this.write = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  }

  get(key: string): string | undefined {
    return this.read.get(key)?.value;
  }

  set(key: string, value: string | number): void {
    this.write.run(key, String(value));
  }
}

/** Refuses a data directory written by a newer schema than this code knows. */
export function checkSchemaVersion(meta: MetaTable, file: string, version: number): void {
  const stored = meta.get("schema_version");
  if (stored === undefined) meta.set("schema_version", version);
  else if (Number(stored) !== version) {
    throw new StoreConfigError(`${file} has schema version ${stored}; this build reads version ${version}`);
  }
}

/** Statements prepared once per SQL text; filters vary only in shape, so the set stays small (and is bounded anyway). */
export class StatementCache {
  private readonly statements = new Map<string, Statement<unknown[], unknown>>();

  constructor(
    readonly db: SqliteDatabase,
    private readonly limit = 256,
  ) {}

  get<Row = unknown>(sql: string): Statement<unknown[], Row> {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      if (this.statements.size >= this.limit) this.statements.clear();
      prepared = this.db.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared as Statement<unknown[], Row>;
  }
}
