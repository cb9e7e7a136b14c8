import type { StoredMemory } from "../episodic-store.js";
import { fromBlob } from "./embedding-blob.js";

/** 2 added the keyword index (lexical-schema.ts); a version-1 store is migrated on open. */
export const EPISODIC_SCHEMA_VERSION = 2;

/**
 * `key` is the row's stable integer identity and the vector index's key;
 * AUTOINCREMENT so a deleted key is never reused (a stale index file could
 * otherwise confuse an old vector with a new memory). `gen` is the
 * generation of the row's last write, so a stale index catches up with
 * `gen > saved generation` instead of being rebuilt. The wide columns come
 * last, so filters on the narrow ones never read a large embedding's
 * overflow pages.
 */
export const EPISODIC_SCHEMA = `
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
  lexical_terms    TEXT    NOT NULL DEFAULT '',
  lexical_length   INTEGER NOT NULL DEFAULT 0,
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

export interface MemoryRow {
  key: number;
  namespace: string;
  id: string;
  kind: number;
  content: string;
  embedding: Buffer;
  metadata: string;
  importance: number;
  create_time: number;
  expire_time: number | null;
  evidence: number;
  access_count: number;
  last_access_time: number | null;
  reward_sum: number;
  reward_count: number;
  cluster_id: number;
  gen: number;
  lexical_terms: string;
  lexical_length: number;
}

export function rowToMemory(row: MemoryRow): StoredMemory {
  const memory: StoredMemory = {
    id: row.id,
    namespace: row.namespace,
    kind: row.kind,
    content: row.content,
    embedding: fromBlob(row.embedding),
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    importance: row.importance,
    createTime: new Date(row.create_time),
    evidence: row.evidence,
    accessCount: row.access_count,
    rewardSum: row.reward_sum,
    rewardCount: row.reward_count,
    clusterId: row.cluster_id,
  };
  if (row.expire_time !== null) memory.expireTime = new Date(row.expire_time);
  if (row.last_access_time !== null) memory.lastAccessTime = new Date(row.last_access_time);
  return memory;
}
