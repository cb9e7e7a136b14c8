import { randomUUID } from "node:crypto";
import { cosine } from "@t4dm/learning";
import { memoryV1 } from "@t4dm/proto";
import { InvalidArgumentError, NotFoundError, type FieldViolation } from "@t4dm/rpc";
import type { GraphStore, StoredFact, StoredProcedure } from "@t4dm/storage";
import { IdempotentCalls } from "./idempotent-calls.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import { checkNamespaceValue } from "./validation.js";
import { embedMissing } from "../embedding/embed-inputs.js";
import type { Embedder } from "../embedding/embedder.js";

const MAX_TEXT = 1024;

/**
 * Facts and procedures, kept in the graph store. The store is durable on its
 * own (SQLite with synchronous=FULL, or Neo4j's transaction log), so these
 * calls answer once its write commits; they do not touch the learning state.
 */
export class KnowledgeCore {
  private readonly upserted = new IdempotentCalls<memoryV1.UpsertFactResponse>();

  constructor(
    private readonly graph: GraphStore,
    private readonly embedder: Embedder,
    private readonly clock: () => Date,
    private readonly newId: () => string = randomUUID,
  ) {}

  async upsertFact(request: memoryV1.UpsertFactRequest): Promise<memoryV1.UpsertFactResponse> {
    const violations: FieldViolation[] = [];
    checkNamespaceValue(request.namespace, violations);
    for (const field of ["subject", "predicate", "object"] as const) {
      if (!request[field].trim()) violations.push({ field, description: "is required" });
      else if (request[field].length > MAX_TEXT) violations.push({ field, description: `must be at most ${MAX_TEXT} characters` });
    }
    const confidence = request.confidence ?? 1;
    if (!Number.isFinite(confidence) || confidence < 0 || confidence > 1) violations.push({ field: "confidence", description: "must be between 0 and 1" });
    if (request.requestId.length > 128) violations.push({ field: "request_id", description: "must be at most 128 characters" });
    if (violations.length > 0) throw new InvalidArgumentError(violations);
    const { namespace, subject, predicate, object, validStartTime, metadata } = request;
    const body = { subject, predicate, object, confidence, validStartTime, metadata };
    return this.upserted.run(namespace, request.requestId, body, () => this.upsertFactOnce(request, confidence));
  }

  private async upsertFactOnce(request: memoryV1.UpsertFactRequest, confidence: number): Promise<memoryV1.UpsertFactResponse> {
    const now = this.clock();
    const { fact, closed } = await this.graph.upsertFact({
      id: this.newId(),
      namespace: request.namespace,
      subject: request.subject.trim(),
      predicate: request.predicate.trim(),
      object: request.object.trim(),
      confidence,
      validStartTime: request.validStartTime ?? now,
      recordTime: now,
      metadata: request.metadata,
    });
    return { fact: toFact(fact), closedFacts: closed.map(toFact) };
  }

  async queryFacts(request: memoryV1.QueryFactsRequest): Promise<memoryV1.QueryFactsResponse> {
    const violations: FieldViolation[] = [];
    checkNamespaceValue(request.namespace, violations);
    if (request.pageSize < 0 || request.pageSize > 1000) violations.push({ field: "page_size", description: "must be between 0 and 1000" });
    const query = { subject: request.subject, predicate: request.predicate, object: request.object, asOf: request.asOfTime?.getTime() ?? null, history: request.includeHistory };
    const after = request.pageToken ? decodePageToken(request.pageToken, "facts", request.namespace, query, violations) : undefined;
    if (violations.length > 0) throw new InvalidArgumentError(violations);
    const limit = request.pageSize || 50;
    const facts = await this.graph.queryFacts({
      namespace: request.namespace,
      subject: request.subject || undefined,
      predicate: request.predicate || undefined,
      object: request.object || undefined,
      asOf: request.asOfTime ?? this.clock(),
      includeHistory: request.includeHistory,
      after: after ? { recordTime: new Date(after.time), id: after.id } : undefined,
      limit: limit + 1,
    });
    const page = facts.slice(0, limit);
    const last = page.at(-1);
    return {
      facts: page.map(toFact),
      nextPageToken: facts.length > limit && last ? encodePageToken("facts", request.namespace, query, { time: last.recordTime.getTime(), id: last.id }) : "",
    };
  }

  async upsertProcedure(request: memoryV1.UpsertProcedureRequest): Promise<memoryV1.UpsertProcedureResponse> {
    const violations: FieldViolation[] = [];
    checkNamespaceValue(request.namespace, violations);
    if (!request.name.trim()) violations.push({ field: "name", description: "is required" });
    if (request.name.length > 256) violations.push({ field: "name", description: "must be at most 256 characters" });
    if (!request.trigger.trim()) violations.push({ field: "trigger", description: "is required" });
    if (request.trigger.length > MAX_TEXT) violations.push({ field: "trigger", description: `must be at most ${MAX_TEXT} characters` });
    if (request.steps.length === 0) violations.push({ field: "steps", description: "needs at least one step" });
    if (request.steps.length > 100) violations.push({ field: "steps", description: "must have at most 100 steps" });
    request.steps.forEach((step, i) => {
      if (!step.action.trim()) violations.push({ field: `steps[${i}].action`, description: "is required" });
    });
    if (violations.length > 0) throw new InvalidArgumentError(violations);
    const [triggerEmbedding] = await embedMissing(this.embedder, [{ text: request.trigger, field: "trigger" }]);
    const procedure = await this.graph.upsertProcedure({
      id: this.newId(),
      namespace: request.namespace,
      name: request.name.trim(),
      trigger: request.trigger,
      triggerEmbedding: triggerEmbedding!,
      steps: request.steps.map((s) => ({ action: s.action, tool: s.tool, expectedOutcome: s.expectedOutcome })),
      metadata: request.metadata,
      now: this.clock(),
    });
    return { procedure: toProcedure(procedure) };
  }

  /** Procedures ranked by trigger similarity, nudged by how often they worked (Laplace-smoothed). */
  async matchProcedures(request: memoryV1.MatchProceduresRequest): Promise<{ procedures: memoryV1.MatchedProcedure[]; matched: StoredProcedure[]; similarities: number[] }> {
    const violations: FieldViolation[] = [];
    checkNamespaceValue(request.namespace, violations);
    if (!request.situation.trim()) violations.push({ field: "situation", description: "is required" });
    if (request.topK > 100) violations.push({ field: "top_k", description: "must be at most 100" });
    if (violations.length > 0) throw new InvalidArgumentError(violations);
    const [query] = await embedMissing(this.embedder, [{ text: request.situation, field: "situation" }]);
    const all = await this.graph.listProcedures(request.namespace);
    const scored = all
      .map((procedure) => {
        const similarity = cosine(query!, procedure.triggerEmbedding);
        return { procedure, similarity, score: 0.8 * similarity + 0.2 * smoothedSuccess(procedure) };
      })
      .sort((a, b) => b.score - a.score || (a.procedure.id < b.procedure.id ? -1 : 1))
      .slice(0, request.topK || 5);
    return {
      procedures: scored.map((s) => ({ procedure: toProcedure(s.procedure), score: s.score })),
      matched: scored.map((s) => s.procedure),
      similarities: scored.map((s) => s.similarity),
    };
  }

  async recordOutcome(request: memoryV1.RecordProcedureOutcomeRequest): Promise<memoryV1.RecordProcedureOutcomeResponse> {
    const violations: FieldViolation[] = [];
    checkNamespaceValue(request.namespace, violations);
    if (!request.procedureId) violations.push({ field: "procedure_id", description: "is required" });
    if (violations.length > 0) throw new InvalidArgumentError(violations);
    const procedure = await this.graph.recordOutcome(request.namespace, request.procedureId, request.success, this.clock());
    if (!procedure) throw new NotFoundError(`procedure ${request.procedureId} not found in namespace ${request.namespace}`, "PROCEDURE_NOT_FOUND", { metadata: { id: request.procedureId } });
    return { procedure: toProcedure(procedure) };
  }
}

function smoothedSuccess(procedure: StoredProcedure): number {
  return (procedure.successCount + 1) / (procedure.executionCount + 2);
}

export function toFact(fact: StoredFact): memoryV1.Fact {
  return {
    id: fact.id,
    namespace: fact.namespace,
    subject: fact.subject,
    predicate: fact.predicate,
    object: fact.object,
    confidence: fact.confidence,
    validStartTime: fact.validStartTime,
    validEndTime: fact.validEndTime,
    recordTime: fact.recordTime,
    metadata: fact.metadata,
  };
}

export function toProcedure(procedure: StoredProcedure): memoryV1.Procedure {
  return {
    id: procedure.id,
    namespace: procedure.namespace,
    name: procedure.name,
    trigger: procedure.trigger,
    steps: procedure.steps,
    successRate: procedure.executionCount === 0 ? 0 : procedure.successCount / procedure.executionCount,
    executionCount: procedure.executionCount,
    createTime: procedure.createTime,
    updateTime: procedure.updateTime,
    metadata: procedure.metadata,
  };
}
