import { validateEmbedding } from "@t4dm/learning";
import { adminV1, memoryV1 } from "@t4dm/proto";
import { FailedPreconditionError, InvalidArgumentError } from "@t4dm/rpc";
import { validatePolicy } from "../core/retention.js";
import { checkMetadata, checkNamespace, Violations, type Limits } from "../core/validation.js";

/** The statuses an export writes: the live ones. */
const IMPORTABLE_STATUSES = new Set([
  memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED,
  memoryV1.MemoryStatus.MEMORY_STATUS_PENDING_PROMOTION,
  memoryV1.MemoryStatus.MEMORY_STATUS_STORED,
]);

const MAX_ID = 128;

/**
 * Checks a whole import batch before anything is written: one bad item
 * refuses the batch with every violation named by its index (items[i].field).
 * Pure: the target's dimension and limits come in.
 */
export function validateImport(request: adminV1.ImportMemoriesRequest, limits: Limits): void {
  const v = new Violations();
  checkNamespace(request.namespace, v);
  if (request.items.length === 0) v.add("items", "must hold at least one item");
  if (request.items.length > limits.maxBatchSize) v.add("items", `holds ${request.items.length} items; the limit is ${limits.maxBatchSize}`);
  request.items.forEach((entry, i) => {
    const at = `items[${i}]`;
    const item = entry.item;
    if (!item) return v.add(at, "must hold a memory, a fact, a procedure, a retention policy or a learned scorer");
    const field = `${at}.${item.$case}`;
    if (item.value.namespace !== request.namespace) v.add(`${field}.namespace`, "must equal the request's namespace");
    if (item.$case === "retentionPolicy") return checkPolicy(item.value, field, v);
    // Its content is checked against the target's learning state when planned (learned-scorer.ts).
    if (item.$case === "learnedScorer") return;
    checkId(item.value.id, `${field}.id`, v);
    switch (item.$case) {
      case "memory":
        return checkMemory(item.value, limits, field, v);
      case "fact":
        return checkFact(item.value, limits, field, v);
      case "procedure":
        return checkProcedure(item.value, limits, field, v);
    }
  });
  v.throwIfAny();
}

/**
 * Vectors of two embedders cannot be mixed (as at start-up and in re-embed):
 * a batch carrying vectors must name the target's embedder, model and dimension.
 */
export function checkEmbedder(request: adminV1.ImportMemoriesRequest, target: adminV1.EmbedderIdentity): void {
  const carriesVectors = request.items.some((entry) => entry.item?.$case === "memory" || entry.item?.$case === "procedure");
  if (!carriesVectors) return;
  const given = request.embedder;
  const same = given && given.embedder === target.embedder && given.model === target.model && given.dimensions === target.dimensions;
  if (same) return;
  const describe = (identity: adminV1.EmbedderIdentity | undefined) => (identity ? `${identity.embedder} ${identity.model} (${identity.dimensions} dimensions)` : "(not named)");
  throw new FailedPreconditionError(
    `the dump's vectors are from ${describe(given)}, this data directory's from ${describe(target)}; import into a directory of the same embedder, then re-embed it`,
    "EMBEDDER_MISMATCH",
    { metadata: { expected: `${target.embedder} ${target.model} ${target.dimensions}` } },
  );
}

function checkMemory(memory: adminV1.ExportedMemory, limits: Limits, field: string, v: Violations): void {
  if (memory.kind === memoryV1.MemoryType.UNRECOGNIZED || memory.kind < 1 || memory.kind > 4) v.add(`${field}.kind`, "must be a known memory type (not unspecified)");
  if (memory.content.trim().length === 0) v.add(`${field}.content`, "must not be empty");
  const bytes = Buffer.byteLength(memory.content, "utf8");
  if (bytes > limits.maxContentBytes) v.add(`${field}.content`, `is ${bytes} bytes; the limit is ${limits.maxContentBytes}`);
  checkMetadata(memory.metadata, limits, `${field}.metadata`, v);
  checkUnit(memory.importance, `${field}.importance`, v);
  if (!IMPORTABLE_STATUSES.has(memory.status)) v.add(`${field}.status`, "must be BUFFERED, PENDING_PROMOTION or STORED");
  if (!memory.createTime) v.add(`${field}.create_time`, "is required");
  if (memory.expireTime && memory.kind !== memoryV1.MemoryType.MEMORY_TYPE_WORKING) v.add(`${field}.expire_time`, "is only for working memory");
  const problem = validateEmbedding(memory.embedding, limits.embeddingDim);
  if (problem) v.add(`${field}.embedding`, problem);
  if (!Number.isFinite(memory.evidence) || memory.evidence < 0) v.add(`${field}.evidence`, "must be a finite number, at least 0");
  if (!Number.isFinite(memory.rewardSum)) v.add(`${field}.reward_sum`, "must be finite");
}

function checkFact(fact: memoryV1.Fact, limits: Limits, field: string, v: Violations): void {
  for (const [name, value] of [["subject", fact.subject], ["predicate", fact.predicate], ["object", fact.object]] as const) {
    if (value.trim().length === 0) v.add(`${field}.${name}`, "must not be empty");
    else if (Buffer.byteLength(value, "utf8") > 1024) v.add(`${field}.${name}`, "must be at most 1024 bytes");
  }
  checkUnit(fact.confidence, `${field}.confidence`, v);
  if (!fact.validStartTime) v.add(`${field}.valid_start_time`, "is required");
  if (!fact.recordTime) v.add(`${field}.record_time`, "is required");
  if (fact.validStartTime && fact.validEndTime && fact.validEndTime.getTime() < fact.validStartTime.getTime()) {
    v.add(`${field}.valid_end_time`, "must not be before valid_start_time");
  }
  checkMetadata(fact.metadata, limits, `${field}.metadata`, v);
}

function checkProcedure(procedure: adminV1.ExportedProcedure, limits: Limits, field: string, v: Violations): void {
  if (procedure.name.trim().length === 0) v.add(`${field}.name`, "must not be empty");
  if (procedure.trigger.trim().length === 0) v.add(`${field}.trigger`, "must not be empty");
  const problem = validateEmbedding(procedure.triggerEmbedding, limits.embeddingDim);
  if (problem) v.add(`${field}.trigger_embedding`, problem);
  if (procedure.successCount > procedure.executionCount) v.add(`${field}.success_count`, "must not exceed execution_count");
  if (!procedure.createTime) v.add(`${field}.create_time`, "is required");
  if (!procedure.updateTime) v.add(`${field}.update_time`, "is required");
  checkMetadata(procedure.metadata, limits, `${field}.metadata`, v);
}

function checkPolicy(exported: adminV1.ExportedRetentionPolicy, field: string, v: Violations): void {
  try {
    validatePolicy({ namespace: exported.namespace, policy: exported.policy });
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    for (const violation of error.violations) if (violation.field !== "namespace") v.add(`${field}.${violation.field}`, violation.description);
  }
}

function checkId(id: string, field: string, v: Violations): void {
  if (!id) v.add(field, "is required");
  else if (id.length > MAX_ID) v.add(field, `must be at most ${MAX_ID} characters`);
}

function checkUnit(value: number, field: string, v: Violations): void {
  if (!Number.isFinite(value) || value < 0 || value > 1) v.add(field, "must be between 0 and 1");
}
