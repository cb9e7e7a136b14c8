import Database from "better-sqlite3";

/** The embedded episodic store's schema version 1 (before the keyword index), as it shipped. */
const EPISODIC_SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS memories (
  key              INTEGER PRIMARY KEY AUTOINCREMENT,
  namespace        TEXT    NOT NULL,
  id               TEXT    NOT NULL,
  kind             INTEGER NOT NULL,
  importance       REAL    NOT NULL,
  create_time      INTEGER NOT NULL,
  expire_time      INTEGER,
  evidence         REAL    NOT NULL,
  access_count     REAL    NOT NULL,
  last_access_time INTEGER,
  reward_sum       REAL    NOT NULL,
  reward_count     REAL    NOT NULL,
  cluster_id       INTEGER NOT NULL,
  gen              INTEGER NOT NULL,
  metadata         TEXT    NOT NULL,
  content          TEXT    NOT NULL,
  embedding        BLOB    NOT NULL,
  UNIQUE (namespace, id)
);
CREATE INDEX IF NOT EXISTS memories_by_time ON memories (namespace, create_time, id);
CREATE INDEX IF NOT EXISTS memories_by_kind ON memories (namespace, kind);
CREATE INDEX IF NOT EXISTS memories_by_gen ON memories (gen);
CREATE TABLE IF NOT EXISTS vector_tombstones (
  key INTEGER PRIMARY KEY,
  gen INTEGER NOT NULL
);
`;

/**
 * Writes `episodic.sqlite` in `dir` as the version-1 store did: no lexical
 * columns, no FTS table. Embeddings are float32 little-endian blobs.
 */
export function writeVersion1Store(dir: string, dimensions: number, rows: readonly { namespace: string; id: string; content: string; embedding: Float32Array }[]): void {
  const db = new Database(`${dir}/episodic.sqlite`);
  try {
    db.pragma("journal_mode = WAL");
    db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    db.exec(EPISODIC_SCHEMA_V1);
    const meta = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
    meta.run("schema_version", "1");
    meta.run("dimensions", String(dimensions));
    meta.run("generation", "1");
    const insert = db.prepare(
      `INSERT INTO memories (namespace, id, kind, importance, create_time, evidence, access_count, reward_sum, reward_count, cluster_id, gen, metadata, content, embedding)
       VALUES (?, ?, 1, 0.5, ?, 0.25, 0, 0, 0, 0, 1, '{}', ?, ?)`,
    );
    rows.forEach((row, i) => insert.run(row.namespace, row.id, Date.UTC(2025, 0, 1) + i, row.content, Buffer.from(row.embedding.buffer, row.embedding.byteOffset, row.embedding.byteLength)));
  } finally {
    db.close();
  }
}
