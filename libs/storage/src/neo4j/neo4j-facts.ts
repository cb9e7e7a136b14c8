import neo4j, { type ManagedTransaction } from "neo4j-driver";
import { StoreInputError } from "../errors.js";
import type { FactInput, FactQuery, StoredFact } from "../graph-store.js";
import { epochMillis, FACT_PROJECTION, type FactRecord, toFact } from "./neo4j-records.js";
import { keyOf } from "./neo4j-schema.js";

/*
 * Fact timelines, as the embedded store keeps them (see SqliteGraphStore): a known fact id
 * is a replay and refreshes confidence and metadata only; the open fact's object again is a
 * re-assertion of it; another object closes the open fact at the new validStart, unless the
 * open fact started later, in which case the new fact is stored already closed where the
 * open one starts. Each function runs inside one managed transaction, so a retry of the
 * whole unit of work sees the graph as it was.
 *
 * A fact is a relationship rather than a node: every query is a single pattern
 * (s)-[f]->(o), the subject and object are shared Entity nodes others can traverse, and the
 * uniqueness constraint on FACT.key (Community supports relationship uniqueness) makes a
 * replay a MERGE like everything else.
 */

const BY_KEY = `MATCH (s:Entity)-[f:FACT {key: $key}]->(o:Entity) RETURN ${FACT_PROJECTION} AS fact`;

const OPEN_ON_TIMELINE = `MATCH (s:Entity {key: $subjectKey})-[f:FACT]->(o:Entity)
WHERE f.namespace = $namespace AND f.predicate = $predicate AND f.validEnd IS NULL
RETURN ${FACT_PROJECTION} AS fact ORDER BY f.validStart, f.id`;

const REFRESH = `MATCH (s:Entity)-[f:FACT {key: $key}]->(o:Entity)
SET f.confidence = $confidence, f.metadata = $metadata
RETURN ${FACT_PROJECTION} AS fact`;

const CLOSE = `UNWIND $keys AS key
MATCH ()-[f:FACT {key: key}]->()
SET f.validEnd = datetime({epochMillis: $validEnd})`;

const CREATE = `MERGE (s:Entity {key: $subjectKey}) ON CREATE SET s.namespace = $namespace, s.name = $subject
MERGE (o:Entity {key: $objectKey}) ON CREATE SET o.namespace = $namespace, o.name = $object
MERGE (s)-[f:FACT {key: $key}]->(o)
  ON CREATE SET f.namespace = $namespace, f.id = $id, f.predicate = $predicate, f.confidence = $confidence,
    f.validStart = datetime({epochMillis: $validStart}),
    f.validEnd = CASE WHEN $validEnd IS NULL THEN null ELSE datetime({epochMillis: $validEnd}) END,
    f.recordTime = datetime({epochMillis: $recordTime}), f.metadata = $metadata
RETURN ${FACT_PROJECTION} AS fact`;

export async function upsertFactIn(tx: ManagedTransaction, fact: FactInput): Promise<{ fact: StoredFact; closed: StoredFact[] }> {
  const key = keyOf(fact.namespace, fact.id);
  const validStart = epochMillis(fact.validStartTime, "validStartTime");
  const recordTime = epochMillis(fact.recordTime, "recordTime");
  const metadata = JSON.stringify(fact.metadata ?? {});
  const reassert = async (stored: FactRecord) => {
    const result = await tx.run<{ fact: FactRecord }>(REFRESH, { key: keyOf(stored.namespace, stored.id), confidence: fact.confidence, metadata });
    return { fact: toFact(result.records[0]!.get("fact")), closed: [] };
  };

  const replay = (await tx.run<{ fact: FactRecord }>(BY_KEY, { key })).records[0]?.get("fact");
  if (replay) {
    if (replay.subject !== fact.subject || replay.predicate !== fact.predicate || replay.object !== fact.object) {
      throw new StoreInputError(`fact ${fact.id} already holds another (subject, predicate, object)`);
    }
    return reassert(replay);
  }

  const subjectKey = keyOf(fact.namespace, fact.subject);
  const open = (await tx.run<{ fact: FactRecord }>(OPEN_ON_TIMELINE, { subjectKey, namespace: fact.namespace, predicate: fact.predicate })).records.map(
    (r) => r.get("fact"),
  );
  const same = open.find((f) => f.object === fact.object);
  if (same) return reassert(same);

  const start = validStart.toNumber();
  const superseded = open.filter((f) => f.validStart <= start);
  const later = open.filter((f) => f.validStart > start);
  const validEnd = later.length > 0 ? neo4j.int(Math.min(...later.map((f) => f.validStart))) : null;
  if (superseded.length > 0) {
    await tx.run(CLOSE, { keys: superseded.map((f) => keyOf(f.namespace, f.id)), validEnd: validStart });
  }
  const created = await tx.run<{ fact: FactRecord }>(CREATE, {
    key,
    subjectKey,
    objectKey: keyOf(fact.namespace, fact.object),
    namespace: fact.namespace,
    id: fact.id,
    subject: fact.subject,
    predicate: fact.predicate,
    object: fact.object,
    confidence: fact.confidence,
    validStart,
    validEnd,
    recordTime,
    metadata,
  });
  return {
    fact: toFact(created.records[0]!.get("fact")),
    closed: superseded.map((f) => toFact(f, start)),
  };
}

/*
 * One fixed text per entry point, picked by which filters are set, so the planner can seek
 * the subject or object Entity by its unique key instead of scanning the namespace; the
 * other filters are null-guarded parameters.
 */
const FILTERS = `f.namespace = $namespace
  AND ($predicate IS NULL OR f.predicate = $predicate)
  AND ($objectKey IS NULL OR o.key = $objectKey)
  AND ($includeHistory OR (f.validStart <= datetime({epochMillis: $asOf})
       AND (f.validEnd IS NULL OR f.validEnd > datetime({epochMillis: $asOf}))))
  AND ($afterTime IS NULL OR f.recordTime > datetime({epochMillis: $afterTime})
       OR (f.recordTime = datetime({epochMillis: $afterTime}) AND f.id > $afterId))`;
const PAGE = `RETURN ${FACT_PROJECTION} AS fact ORDER BY f.recordTime, f.id LIMIT $limit`;

const QUERY_BY_SUBJECT = `MATCH (s:Entity {key: $subjectKey})-[f:FACT]->(o:Entity) WHERE ${FILTERS} ${PAGE}`;
const QUERY_BY_OBJECT = `MATCH (s:Entity)-[f:FACT]->(o:Entity {key: $objectKey}) WHERE ${FILTERS} ${PAGE}`;
const QUERY_NAMESPACE = `MATCH (s:Entity)-[f:FACT]->(o:Entity) WHERE ${FILTERS} ${PAGE}`;

export async function queryFactsIn(tx: ManagedTransaction, query: FactQuery): Promise<StoredFact[]> {
  if (!(query.limit > 0)) return [];
  const text = query.subject !== undefined ? QUERY_BY_SUBJECT : query.object !== undefined ? QUERY_BY_OBJECT : QUERY_NAMESPACE;
  const result = await tx.run<{ fact: FactRecord }>(text, {
    namespace: query.namespace,
    subjectKey: query.subject === undefined ? null : keyOf(query.namespace, query.subject),
    predicate: query.predicate ?? null,
    objectKey: query.object === undefined ? null : keyOf(query.namespace, query.object),
    includeHistory: query.includeHistory,
    asOf: epochMillis(query.asOf, "asOf"),
    afterTime: query.after ? epochMillis(query.after.recordTime, "after.recordTime") : null,
    afterId: query.after?.id ?? null,
    limit: neo4j.int(Math.floor(query.limit)),
  });
  return result.records.map((r) => toFact(r.get("fact")));
}

// Import: the fact as exported, both timelines included; nothing else on its timeline moves.
const RESTORE = `MERGE (s:Entity {key: $subjectKey}) ON CREATE SET s.namespace = $namespace, s.name = $subject
MERGE (o:Entity {key: $objectKey}) ON CREATE SET o.namespace = $namespace, o.name = $object
MERGE (s)-[f:FACT {key: $key}]->(o)
SET f.namespace = $namespace, f.id = $id, f.predicate = $predicate, f.confidence = $confidence,
  f.validStart = datetime({epochMillis: $validStart}),
  f.validEnd = CASE WHEN $validEnd IS NULL THEN null ELSE datetime({epochMillis: $validEnd}) END,
  f.recordTime = datetime({epochMillis: $recordTime}), f.metadata = $metadata`;

export async function restoreFactIn(tx: ManagedTransaction, fact: StoredFact): Promise<void> {
  const key = keyOf(fact.namespace, fact.id);
  const stored = (await tx.run<{ fact: FactRecord }>(BY_KEY, { key })).records[0]?.get("fact");
  if (stored && (stored.subject !== fact.subject || stored.predicate !== fact.predicate || stored.object !== fact.object)) {
    throw new StoreInputError(`fact ${fact.id} already holds another (subject, predicate, object)`);
  }
  await tx.run(RESTORE, {
    key,
    subjectKey: keyOf(fact.namespace, fact.subject),
    objectKey: keyOf(fact.namespace, fact.object),
    namespace: fact.namespace,
    id: fact.id,
    subject: fact.subject,
    predicate: fact.predicate,
    object: fact.object,
    confidence: fact.confidence,
    validStart: epochMillis(fact.validStartTime, "validStartTime"),
    validEnd: fact.validEndTime ? epochMillis(fact.validEndTime, "validEndTime") : null,
    recordTime: epochMillis(fact.recordTime, "recordTime"),
    metadata: JSON.stringify(fact.metadata ?? {}),
  });
}
