import neo4j, { type Integer } from "neo4j-driver";
import { millis } from "../embedded/embedding-blob.js";
import { StoreInputError } from "../errors.js";
import type { StoredMemory } from "../episodic-store.js";
import { MEMORY_NODE_DEFAULTS, type ProcedureStep, type StoredConcept, type StoredFact, type StoredProcedure } from "../graph-store.js";

/*
 * What the Cypher returns and how it becomes the interface's types. Every query projects
 * its nodes into plain maps with the times as epoch milliseconds (`x.epochMillis`), so the
 * driver hands back JS numbers and strings only (the driver runs with
 * disableLosslessIntegers; epoch milliseconds and counts stay far below 2^53).
 */

/** A time as a query parameter: an integer, which the Cypher turns into a UTC DATETIME. */
export function epochMillis(date: Date, what: string): Integer {
  return neo4j.int(millis(date, what));
}

/** Binds `s`, `f`, `o` of `(s:Entity)-[f:FACT]->(o:Entity)`. */
export const FACT_PROJECTION = `{id: f.id, namespace: f.namespace, subject: s.name, predicate: f.predicate, object: o.name,
  confidence: f.confidence, validStart: f.validStart.epochMillis, validEnd: f.validEnd.epochMillis,
  recordTime: f.recordTime.epochMillis, metadata: f.metadata}`;

export interface FactRecord {
  id: string;
  namespace: string;
  subject: string;
  predicate: string;
  object: string;
  confidence: number;
  validStart: number;
  validEnd: number | null;
  recordTime: number;
  metadata: string;
}

export function toFact(record: FactRecord, validEnd: number | null = record.validEnd): StoredFact {
  const fact: StoredFact = {
    id: record.id,
    namespace: record.namespace,
    subject: record.subject,
    predicate: record.predicate,
    object: record.object,
    confidence: record.confidence,
    validStartTime: new Date(record.validStart),
    recordTime: new Date(record.recordTime),
    metadata: JSON.parse(record.metadata) as Record<string, unknown>,
  };
  if (validEnd !== null) fact.validEndTime = new Date(validEnd);
  return fact;
}

/** Binds `p:Procedure`. */
export const PROCEDURE_PROJECTION = `{id: p.id, namespace: p.namespace, name: p.name, trigger: p.trigger,
  triggerEmbedding: p.triggerEmbedding, steps: p.steps, metadata: p.metadata, successCount: p.successCount,
  executionCount: p.executionCount, createTime: p.createTime.epochMillis, updateTime: p.updateTime.epochMillis}`;

export interface ProcedureRecord {
  id: string;
  namespace: string;
  name: string;
  trigger: string;
  triggerEmbedding: number[];
  steps: string;
  metadata: string;
  successCount: number;
  executionCount: number;
  createTime: number;
  updateTime: number;
}

export function toProcedure(record: ProcedureRecord): StoredProcedure {
  return {
    id: record.id,
    namespace: record.namespace,
    name: record.name,
    trigger: record.trigger,
    triggerEmbedding: Float32Array.from(record.triggerEmbedding),
    steps: JSON.parse(record.steps) as ProcedureStep[],
    metadata: JSON.parse(record.metadata) as Record<string, unknown>,
    successCount: record.successCount,
    executionCount: record.executionCount,
    createTime: new Date(record.createTime),
    updateTime: new Date(record.updateTime),
  };
}

/** Binds `m:Memory`. Nodes written before graph search lack the ranking properties (null here, defaults in toStoredMemory). */
export const MEMORY_PROJECTION = `{id: m.id, namespace: m.namespace, kind: m.kind, content: m.content,
  embedding: m.embedding, metadata: m.metadata, createTime: m.createTime.epochMillis, importance: m.importance,
  evidence: m.evidence, clusterId: m.clusterId, expireTime: m.expireTime.epochMillis, accessCount: m.accessCount,
  lastAccessTime: m.lastAccessTime.epochMillis, rewardSum: m.rewardSum, rewardCount: m.rewardCount,
  lexicalTerms: m.lexicalTerms, lexicalLength: m.lexicalLength}`;

export interface MemoryRecord {
  id: string;
  namespace: string;
  kind: number;
  content: string;
  embedding: number[];
  metadata: string;
  createTime: number;
  importance: number | null;
  evidence: number | null;
  clusterId: number | null;
  expireTime: number | null;
  accessCount: number | null;
  lastAccessTime: number | null;
  rewardSum: number | null;
  rewardCount: number | null;
  /** The shared tokenizer's terms joined by spaces (what the fulltext index holds). */
  lexicalTerms: string | null;
  lexicalLength: number | null;
}

export function toStoredMemory(record: MemoryRecord): StoredMemory {
  const memory: StoredMemory = {
    id: record.id,
    namespace: record.namespace,
    kind: record.kind,
    content: record.content,
    embedding: Float32Array.from(record.embedding),
    metadata: JSON.parse(record.metadata) as Record<string, unknown>,
    createTime: new Date(record.createTime),
    importance: record.importance ?? MEMORY_NODE_DEFAULTS.importance,
    evidence: record.evidence ?? MEMORY_NODE_DEFAULTS.evidence,
    clusterId: record.clusterId ?? MEMORY_NODE_DEFAULTS.clusterId,
    accessCount: record.accessCount ?? 0,
    rewardSum: record.rewardSum ?? 0,
    rewardCount: record.rewardCount ?? 0,
  };
  if (record.expireTime !== null) memory.expireTime = new Date(record.expireTime);
  if (record.lastAccessTime !== null) memory.lastAccessTime = new Date(record.lastAccessTime);
  return memory;
}

/** Binds `c:Concept`; the episodes in link order. */
export const CONCEPT_PROJECTION = `{id: c.id, namespace: c.namespace, label: c.label, centroid: c.centroid,
  createTime: c.createTime.epochMillis,
  episodeIds: COLLECT { MATCH (c)-[r:SUMMARISES]->(e:Episode) RETURN e.id ORDER BY r.position }}`;

export interface ConceptRecord {
  id: string;
  namespace: string;
  label: string;
  centroid: number[];
  createTime: number;
  episodeIds: string[];
}

export function toConcept(record: ConceptRecord): StoredConcept {
  return {
    id: record.id,
    namespace: record.namespace,
    label: record.label,
    centroid: Float32Array.from(record.centroid),
    episodeIds: record.episodeIds,
    createTime: new Date(record.createTime),
  };
}

/** Float32 values widen to doubles exactly, and narrow back to the same floats on the way out. */
export function floatList(vector: Float32Array, what: string): number[] {
  if (!(vector instanceof Float32Array)) throw new StoreInputError(`${what} must be a Float32Array`);
  return Array.from(vector);
}
