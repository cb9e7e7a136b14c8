import { normalize, queryTerms, validateEmbedding, type MemoryFilter, type MetadataCondition, type RecallMode } from "@t4dm/learning";
import { memoryV1, walV1 } from "@t4dm/proto";
import { InvalidArgumentError, type FieldViolation } from "@t4dm/rpc";
import type { Config } from "@t4dm/config";

const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const DEFAULT_WORKING_TTL_MS = 60 * 60 * 1000;

export type Limits = Pick<Config, "embeddingDim" | "maxContentBytes" | "maxMetadataEntries" | "maxBatchSize" | "maxTopK">;

/**
 * Collects field violations for one request, so a caller hears about every
 * bad field at once, then throws one InvalidArgumentError (nothing logged).
 */
export class Violations {
  readonly list: FieldViolation[] = [];
  add(field: string, description: string): void {
    this.list.push({ field, description });
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new InvalidArgumentError(this.list);
  }
}

export function checkNamespace(namespace: string, violations: Violations, field = "namespace"): void {
  if (!namespace) violations.add(field, "is required");
  else if (!NAMESPACE.test(namespace)) violations.add(field, "must be 1-128 characters of letters, digits and . _ : / - (starting with a letter or digit)");
}

export interface ValidRemember {
  namespace: string;
  content: string;
  kind: walV1.MemoryKind;
  metadata: Record<string, unknown>;
  importance: number;
  /** The caller's embedding (normalised); undefined when the content must be embedded. */
  embedding?: Float32Array;
  always: boolean;
  requestId: string;
  expireTime?: Date;
}

export function validateRemember(request: memoryV1.RememberRequest, limits: Limits, now: Date, prefix = ""): ValidRemember {
  const v = new Violations();
  checkRemember(request, limits, now, prefix, v);
  v.throwIfAny();
  return toValidRemember(request, limits, now);
}

/** Validates a whole batch first: one bad item refuses the batch and nothing is logged. */
export function validateBatch(requests: readonly memoryV1.RememberRequest[], limits: Limits, now: Date): ValidRemember[] {
  const v = new Violations();
  if (requests.length === 0) v.add("requests", "must hold at least one request");
  if (requests.length > limits.maxBatchSize) v.add("requests", `holds ${requests.length} requests; the limit is ${limits.maxBatchSize}`);
  requests.forEach((request, i) => checkRemember(request, limits, now, `requests[${i}].`, v));
  v.throwIfAny();
  return requests.map((request) => toValidRemember(request, limits, now));
}

function checkRemember(request: memoryV1.RememberRequest, limits: Limits, now: Date, prefix: string, v: Violations): void {
  checkNamespace(request.namespace, v, `${prefix}namespace`);
  if (request.content.trim().length === 0) v.add(`${prefix}content`, "must not be empty");
  const bytes = Buffer.byteLength(request.content, "utf8");
  if (bytes > limits.maxContentBytes) v.add(`${prefix}content`, `is ${bytes} bytes; the limit is ${limits.maxContentBytes}`);
  if (request.type === memoryV1.MemoryType.UNRECOGNIZED || request.type < 0 || request.type > 4) v.add(`${prefix}type`, "is not a known memory type");
  if (request.admission === memoryV1.AdmissionMode.UNRECOGNIZED || request.admission < 0 || request.admission > 2) v.add(`${prefix}admission`, "is not a known admission mode");
  if (!Number.isFinite(request.importance) || request.importance < 0 || request.importance > 1) v.add(`${prefix}importance`, "must be between 0 and 1");
  checkMetadata(request.metadata, limits, `${prefix}metadata`, v);
  if (request.requestId.length > 128) v.add(`${prefix}request_id`, "must be at most 128 characters");
  if (request.embedding.length > 0) {
    const problem = validateEmbedding(request.embedding, limits.embeddingDim);
    if (problem) v.add(`${prefix}embedding`, problem);
  }
  if (request.ttl && (request.ttl.seconds < 0 || request.ttl.nanos < 0)) v.add(`${prefix}ttl`, "must not be negative");
  void now;
}

function toValidRemember(request: memoryV1.RememberRequest, limits: Limits, now: Date): ValidRemember {
  const kind = (request.type || memoryV1.MemoryType.MEMORY_TYPE_EPISODIC) as number as walV1.MemoryKind;
  const embedding = request.embedding.length > 0 ? normalize(request.embedding) : undefined;
  let expireTime: Date | undefined;
  if (kind === walV1.MemoryKind.MEMORY_KIND_WORKING) {
    const ttlMs = request.ttl ? request.ttl.seconds * 1000 + Math.floor(request.ttl.nanos / 1e6) : DEFAULT_WORKING_TTL_MS;
    expireTime = new Date(now.getTime() + (ttlMs > 0 ? ttlMs : DEFAULT_WORKING_TTL_MS));
  }
  return {
    namespace: request.namespace,
    content: request.content,
    kind,
    metadata: request.metadata,
    importance: request.importance,
    embedding,
    always: request.admission === memoryV1.AdmissionMode.ADMISSION_MODE_ALWAYS,
    requestId: request.requestId,
    expireTime,
  };
}

export function checkMetadata(metadata: Record<string, unknown>, limits: Limits, field: string, v: Violations): void {
  const keys = Object.keys(metadata);
  if (keys.length > limits.maxMetadataEntries) v.add(field, `has ${keys.length} entries; the limit is ${limits.maxMetadataEntries}`);
  for (const key of keys) {
    if (key.length === 0 || key.length > 128) v.add(`${field}.${key}`, "keys must be 1-128 characters");
    if (JSON.stringify(metadata[key] ?? null).length > 4096) v.add(`${field}.${key}`, "values must encode to at most 4096 characters");
  }
}

export interface ValidRecall {
  namespace: string;
  /** The caller's query embedding (normalised), or undefined: embed `queryText`. */
  query?: Float32Array;
  queryText: string;
  topK: number;
  minScore: number;
  filter: MemoryFilter;
  includeEmbeddings: boolean;
  mode: RecallMode;
  /** The query's distinct lexical terms (empty in SEMANTIC mode). */
  queryTerms: string[];
  explain: boolean;
  readOnly: boolean;
}

const RECALL_MODES: Partial<Record<memoryV1.RecallMode, RecallMode>> = {
  [memoryV1.RecallMode.RECALL_MODE_UNSPECIFIED]: "hybrid",
  [memoryV1.RecallMode.RECALL_MODE_HYBRID]: "hybrid",
  [memoryV1.RecallMode.RECALL_MODE_SEMANTIC]: "semantic",
  [memoryV1.RecallMode.RECALL_MODE_KEYWORD]: "keyword",
};

export function validateRecall(request: memoryV1.RecallRequest, limits: Limits): ValidRecall {
  const v = new Violations();
  checkNamespace(request.namespace, v);
  const hasQuery = request.query.trim().length > 0;
  if (!hasQuery && request.queryEmbedding.length === 0) v.add("query", "is required unless query_embedding is given");
  if (Buffer.byteLength(request.query, "utf8") > limits.maxContentBytes) v.add("query", `is longer than ${limits.maxContentBytes} bytes`);
  let query: Float32Array | undefined;
  if (request.queryEmbedding.length > 0) {
    const problem = validateEmbedding(request.queryEmbedding, limits.embeddingDim);
    if (problem) v.add("query_embedding", problem);
    else query = normalize(request.queryEmbedding);
  }
  if (request.topK > limits.maxTopK) v.add("top_k", `must be at most ${limits.maxTopK}`);
  if (!Number.isFinite(request.minScore)) v.add("min_score", "must be a finite number");
  request.types.forEach((type, i) => {
    if (type === memoryV1.MemoryType.UNRECOGNIZED || type < 0 || type > 4) v.add(`types[${i}]`, "is not a known memory type");
  });
  const conditions = checkFilters(request.filters, "filters", v);
  const range = request.createTimeRange;
  if (range?.startTime && range.endTime && range.startTime > range.endTime) v.add("create_time_range", "start_time is after end_time");
  const mode = RECALL_MODES[request.mode];
  if (mode === undefined) v.add("mode", "is not a known recall mode");
  const terms = mode === "semantic" ? [] : queryTerms(request.query);
  // Only when the query is otherwise fine, so an empty query gets one violation, not two.
  if (mode === "keyword" && terms.length === 0 && !v.list.some((violation) => violation.field === "query")) {
    v.add("query", "has no keyword to search for in KEYWORD mode: it is empty or only stop words (the, what, does, …)");
  }
  v.throwIfAny();
  return {
    namespace: request.namespace,
    query,
    queryText: request.query,
    mode: mode!,
    queryTerms: terms,
    explain: request.explain,
    readOnly: request.readOnly,
    topK: request.topK || 10,
    minScore: request.minScore === 0 ? -Infinity : request.minScore,
    filter: { kinds: request.types.filter((t) => t !== 0), conditions, createdAfter: range?.startTime, createdBefore: range?.endTime },
    includeEmbeddings: request.includeEmbeddings,
  };
}

export function checkFilters(filters: readonly memoryV1.MetadataFilter[], field: string, v: Violations): MetadataCondition[] {
  const conditions: MetadataCondition[] = [];
  filters.forEach((filter, i) => {
    if (!filter.key) v.add(`${field}[${i}].key`, "is required");
    const condition = filter.condition;
    if (!condition) v.add(`${field}[${i}]`, "needs equals or range");
    else if (condition.$case === "equals") conditions.push({ key: filter.key, equals: condition.value });
    else {
      const { gte, lte } = condition.value;
      if (gte === undefined && lte === undefined) v.add(`${field}[${i}].range`, "needs gte or lte");
      if ((gte !== undefined && !Number.isFinite(gte)) || (lte !== undefined && !Number.isFinite(lte))) v.add(`${field}[${i}].range`, "bounds must be finite");
      if (gte !== undefined && lte !== undefined && gte > lte) v.add(`${field}[${i}].range`, "gte is greater than lte");
      conditions.push({ key: filter.key, range: { gte, lte } });
    }
  });
  return conditions;
}

export interface ValidReinforce {
  namespace: string;
  recallId: string;
  reward: number;
  memoryRewards: Record<string, number>;
  requestId: string;
}

export function validateReinforce(request: memoryV1.ReinforceRequest): ValidReinforce {
  const v = new Violations();
  checkNamespace(request.namespace, v);
  if (!request.recallId) v.add("recall_id", "is required");
  // Kept as an idempotency key: bounded like Remember's.
  if (request.requestId.length > 128) v.add("request_id", "must be at most 128 characters");
  if (!Number.isFinite(request.reward) || request.reward < -1 || request.reward > 1) v.add("reward", "must be between -1 and 1");
  for (const [id, reward] of Object.entries(request.memoryRewards)) {
    if (!Number.isFinite(reward) || reward < -1 || reward > 1) v.add(`memory_rewards.${id}`, "must be between -1 and 1");
  }
  v.throwIfAny();
  return { namespace: request.namespace, recallId: request.recallId, reward: request.reward, memoryRewards: request.memoryRewards, requestId: request.requestId };
}

export function isZero(vector: Float32Array): boolean {
  return vector.every((x) => x === 0);
}

export function validateGet(request: memoryV1.GetMemoryRequest): { namespace: string; id: string } {
  const v = new Violations();
  checkNamespace(request.namespace, v);
  if (!request.id) v.add("id", "is required");
  else if (request.id.length > 128) v.add("id", "must be at most 128 characters");
  v.throwIfAny();
  return { namespace: request.namespace, id: request.id };
}

/** Namespace check for code that collects violations in a plain list. */
export function checkNamespaceValue(namespace: string, violations: FieldViolation[], field = "namespace"): void {
  const v = new Violations();
  checkNamespace(namespace, v, field);
  violations.push(...v.list);
}
