import type { ProcedureStep, StoredFact, StoredProcedure } from "../graph-store.js";
import { fromBlob } from "./embedding-blob.js";

/** 2 moved memory nodes to their own memory table (sqlite-graph-store.ts); a version-1 store is migrated on open. */
export const GRAPH_SCHEMA_VERSION = 2;

/**
 * Facts are bi-temporal: valid_start/valid_end say when the fact held in the
 * world, record_time when we learnt it. At most one fact per (namespace,
 * subject, predicate) is open (valid_end NULL) at a time; the partial index
 * finds it.
 */
export const GRAPH_SCHEMA = `
CREATE TABLE IF NOT EXISTS facts (
  namespace   TEXT    NOT NULL,
  id          TEXT    NOT NULL,
  subject     TEXT    NOT NULL,
  predicate   TEXT    NOT NULL,
  object      TEXT    NOT NULL,
  confidence  REAL    NOT NULL,
  valid_start INTEGER NOT NULL,
  valid_end   INTEGER,
  record_time INTEGER NOT NULL,
  metadata    TEXT    NOT NULL,
  PRIMARY KEY (namespace, id)
);
CREATE INDEX IF NOT EXISTS facts_open ON facts (namespace, subject, predicate) WHERE valid_end IS NULL;
CREATE INDEX IF NOT EXISTS facts_by_subject ON facts (namespace, subject, predicate, valid_start);
CREATE INDEX IF NOT EXISTS facts_by_record_time ON facts (namespace, record_time, id);

CREATE TABLE IF NOT EXISTS procedures (
  namespace         TEXT    NOT NULL,
  id                TEXT    NOT NULL,
  name              TEXT    NOT NULL,
  trigger_text      TEXT    NOT NULL,
  trigger_embedding BLOB    NOT NULL,
  steps             TEXT    NOT NULL,
  metadata          TEXT    NOT NULL,
  success_count     INTEGER NOT NULL DEFAULT 0,
  execution_count   INTEGER NOT NULL DEFAULT 0,
  create_time       INTEGER NOT NULL,
  update_time       INTEGER NOT NULL,
  PRIMARY KEY (namespace, id),
  UNIQUE (namespace, name)
);

-- Schema version 1's memory nodes; empty from version 2 on (kept so a re-embed of a version-1 store still finds it).
CREATE TABLE IF NOT EXISTS memory_nodes (
  namespace   TEXT    NOT NULL,
  id          TEXT    NOT NULL,
  kind        INTEGER NOT NULL,
  content     TEXT    NOT NULL,
  embedding   BLOB    NOT NULL,
  metadata    TEXT    NOT NULL,
  create_time INTEGER NOT NULL,
  PRIMARY KEY (namespace, id)
);

CREATE TABLE IF NOT EXISTS concepts (
  namespace   TEXT    NOT NULL,
  id          TEXT    NOT NULL,
  label       TEXT    NOT NULL,
  centroid    BLOB    NOT NULL,
  create_time INTEGER NOT NULL,
  PRIMARY KEY (namespace, id)
);
CREATE TABLE IF NOT EXISTS concept_episodes (
  namespace  TEXT    NOT NULL,
  concept_id TEXT    NOT NULL,
  position   INTEGER NOT NULL,
  episode_id TEXT    NOT NULL,
  PRIMARY KEY (namespace, concept_id, position),
  FOREIGN KEY (namespace, concept_id) REFERENCES concepts (namespace, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS concept_episodes_by_episode ON concept_episodes (namespace, episode_id);
`;

export interface FactRow {
  namespace: string;
  id: string;
  subject: string;
  predicate: string;
  object: string;
  confidence: number;
  valid_start: number;
  valid_end: number | null;
  record_time: number;
  metadata: string;
}

export function rowToFact(row: FactRow): StoredFact {
  const fact: StoredFact = {
    id: row.id,
    namespace: row.namespace,
    subject: row.subject,
    predicate: row.predicate,
    object: row.object,
    confidence: row.confidence,
    validStartTime: new Date(row.valid_start),
    recordTime: new Date(row.record_time),
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  };
  if (row.valid_end !== null) fact.validEndTime = new Date(row.valid_end);
  return fact;
}

export interface ProcedureRow {
  namespace: string;
  id: string;
  name: string;
  trigger_text: string;
  trigger_embedding: Buffer;
  steps: string;
  metadata: string;
  success_count: number;
  execution_count: number;
  create_time: number;
  update_time: number;
}

export function rowToProcedure(row: ProcedureRow): StoredProcedure {
  return {
    id: row.id,
    namespace: row.namespace,
    name: row.name,
    trigger: row.trigger_text,
    triggerEmbedding: fromBlob(row.trigger_embedding),
    steps: JSON.parse(row.steps) as ProcedureStep[],
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    successCount: row.success_count,
    executionCount: row.execution_count,
    createTime: new Date(row.create_time),
    updateTime: new Date(row.update_time),
  };
}

export interface MemoryNodeRow {
  namespace: string;
  id: string;
  kind: number;
  content: string;
  embedding: Buffer;
  metadata: string;
  create_time: number;
}

export interface ConceptRow {
  namespace: string;
  id: string;
  label: string;
  centroid: Buffer;
  create_time: number;
  /** JSON array of episode ids in link order. */
  episodes: string;
}
