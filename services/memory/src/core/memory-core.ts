import { randomUUID } from "node:crypto";
import {
  findReusedRequestIds,
  modulationOf,
  planRecallRecords,
  planReinforce,
  planRemember,
  rankRecall,
  type LearningState,
  type Recalled,
  type RecallSignals,
  type RememberPlan,
  type TraceInput,
} from "@t4dm/learning";
import { memoryV1, walV1 } from "@t4dm/proto";
import { NotFoundError } from "@t4dm/rpc";
import { plannedItem, publicEvictionReason, storedItem, toPublicMemory } from "./convert.js";
import { checkFeedbackTargets } from "./feedback-targets.js";
import { IdempotentCalls, requestIdReused } from "./idempotent-calls.js";
import { heldItem } from "./memory-reads.js";
import type { CommitPipeline } from "../pipeline/commit-pipeline.js";
import { embedMissing, embedMissingDetailed } from "../embedding/embed-inputs.js";
import type { Embedder } from "../embedding/embedder.js";
import { LongTermMemories } from "../storage/long-term-memories.js";
import type { Stores } from "../storage/store-sync.js";
import { toStoreFilter } from "../storage/store-filter.js";
import { validateBatch, validateRecall, validateReinforce, validateRemember, type Limits, type ValidReinforce, type ValidRemember } from "./validation.js";

/** Trace contexts of procedure matches end with this; their rewards count as outcomes. */
export const PROCEDURE_CONTEXT = "#procedures";

/**
 * Remember, recall and reinforce on the learning state: validate (nothing is
 * logged for bad input), plan against the projected state, submit in the
 * same tick, and answer once the records are durable and applied — except
 * Recall, a read, which answers from the durable state without waiting for
 * the learning records it submits.
 */
export class MemoryCore {
  private readonly reinforced = new IdempotentCalls<memoryV1.ReinforceResponse>();
  private readonly longTerm: LongTermMemories;

  constructor(
    private readonly pipeline: CommitPipeline,
    private readonly stores: Stores,
    private readonly embedder: Embedder,
    private readonly limits: Limits,
    private readonly clock: () => Date,
    private readonly hooks: {
      onProceduresReinforced?: (namespace: string, outcomes: { id: string; success: boolean }[]) => Promise<void>;
      /** For metrics: each Remember's gate decision, each Reinforce's prediction error. */
      onDecision?: (decision: "admitted" | "rejected" | "duplicate" | "merged") => void;
      onRewardPredictionError?: (rpe: number) => void;
      /** A recall's learning records could not be logged (its recall id will answer NOT_FOUND). */
      onRecallRecordsLost?: (error: unknown) => void;
    } = {},
    private readonly newId: () => string = randomUUID,
  ) {
    this.longTerm = new LongTermMemories(stores);
  }

  /** What readers see: the durable state only. */
  get state(): LearningState {
    return this.pipeline.durable;
  }

  async remember(request: memoryV1.RememberRequest): Promise<memoryV1.RememberResponse> {
    const now = this.clock();
    const input = validateRemember(request, this.limits, now);
    const [embedding] = await embedMissing(this.embedder, [{ embedding: input.embedding, text: input.content, field: "content" }]);
    const { plan, done } = this.sequenceRemember({ ...input, embedding: embedding! }, this.clock());
    return this.rememberResponse(plan, await done, input.namespace);
  }

  async batchRemember(request: memoryV1.BatchRememberRequest): Promise<memoryV1.BatchRememberResponse> {
    const inputs = validateBatch(request.requests, this.limits, this.clock());
    const embeddings = await embedMissing(
      this.embedder,
      inputs.map((input, i) => ({ embedding: input.embedding, text: input.content, field: `requests[${i}].content` })),
    );
    const now = this.clock();
    // Checked in the same tick as the sequencing, so a refused batch logs nothing.
    const [reused] = findReusedRequestIds(this.pipeline.projected, inputs);
    if (reused !== undefined) throw requestIdReused(inputs[reused]!.namespace, inputs[reused]!.requestId, `requests[${reused}].request_id`);
    // Sequenced back to back in this tick: each sees the ones before it.
    const sequenced = inputs.map((input, i) => this.sequenceRemember({ ...input, embedding: embeddings[i]! }, now));
    // Await them together: when the pipeline fails them all at once (shutdown, a refused WAL),
    // awaiting one by one would leave the others' rejections unhandled, which ends the process.
    const lsns = await Promise.all(sequenced.map(({ done }) => done));
    return { responses: sequenced.map(({ plan }, i) => this.rememberResponse(plan, lsns[i]!, inputs[i]!.namespace)) };
  }

  /**
   * A read: ranks what is durable and answers. Its learning records (trace,
   * evidence, acetylcholine) are planned against the projected state and
   * submitted in the same tick, so they are sequenced before any later
   * Reinforce (which plans against the projected state too and so finds the
   * trace), and group-committed with whatever else is in flight, but the
   * answer does not wait for them. If they never become durable (a crash, a
   * refused WAL), Reinforce for this recall answers NOT_FOUND.
   */
  async recall(request: memoryV1.RecallRequest): Promise<memoryV1.RecallResponse> {
    const valid = validateRecall(request, this.limits);
    const now = this.clock();
    // Baseline widening under NAMESPACE scope: another tenant's arousal must not resize this pool (modulation.ts).
    const fetch = Math.ceil(valid.topK * 2 * modulationOf(this.state).recallWidening);
    const filter = toStoreFilter(valid.filter, now);
    // The keyword search needs no embedding: it runs while the model embeds the query.
    const [embedded, lexical] = await Promise.all([
      embedMissingDetailed(this.embedder, [{ embedding: valid.query, text: valid.queryText, field: "query" }]),
      valid.queryTerms.length === 0 ? undefined : this.longTerm.lexicalSearch(valid.namespace, valid.queryTerms, fetch, filter),
    ]);
    const input = { ...valid, query: embedded.vectors[0]! };
    const vectorHits = input.mode === "keyword" ? [] : await this.longTerm.search(input.namespace, input.query, fetch, filter);
    const results = rankRecall(
      this.state,
      {
        ...input,
        stored: vectorHits.map((hit) => storedItem(hit.memory)),
        storedLexical: lexical && { items: lexical.hits.map((hit) => storedItem(hit.memory)), corpus: lexical.corpus },
      },
      now,
    );
    const recallId = input.readOnly ? "" : this.learnFrom(input.namespace, input.query, results, now);
    const statuses = {
      buffer: memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED,
      promoting: memoryV1.MemoryStatus.MEMORY_STATUS_PENDING_PROMOTION,
      store: memoryV1.MemoryStatus.MEMORY_STATUS_STORED,
    } as const;
    return {
      recallId,
      queryTruncated: embedded.truncated[0] ?? false,
      memories: results.map((result) => ({
        memory: toPublicMemory(result.item, statuses[result.source], input.includeEmbeddings),
        score: result.score,
        similarity: result.similarity,
        source: result.source === "buffer" ? memoryV1.MemorySource.MEMORY_SOURCE_BUFFER : memoryV1.MemorySource.MEMORY_SOURCE_STORE,
        explanation: input.explain ? explanation(result.signals) : undefined,
      })),
    };
  }

  /** Submits a recall's learning records without waiting for them, and counts the access of stored hits; returns the recall id. */
  private learnFrom(namespace: string, query: Float32Array, results: readonly Recalled[], now: Date): string {
    // At the WAL's size cap the recall still answers, but records nothing: no recall id, nothing to reinforce.
    if (this.pipeline.walFull) return "";
    const recallId = this.newId();
    const operations = planRecallRecords(this.pipeline.projected, namespace, query, recallId, results, now);
    // Not awaited: a failure only means this recall cannot be reinforced (NOT_FOUND), never a lost acknowledged write.
    this.pipeline.submit(operations, now).catch((error: unknown) => this.hooks.onRecallRecordsLost?.(error));
    // Access statistics of stored memories are store data, not learning state: best effort.
    const accessed = results
      .filter((result) => result.source === "store")
      .map(({ item }) => ({
        id: item.memory.id,
        kind: item.memory.kind,
        accessCount: item.accessCount + 1,
        lastAccessTime: now,
        rewardSum: item.rewardSum,
        rewardCount: item.rewardCount,
      }));
    void this.longTerm.recordAccess(namespace, accessed).catch(() => undefined);
    return recallId;
  }

  /**
   * A procedure match's trace, so Reinforce with the returned id records the
   * procedures' outcomes. Submitted like a recall's records, not awaited: the
   * match is a read. Empty at the WAL's size cap (nothing to reinforce).
   */
  traceProcedureMatch(namespace: string, items: readonly TraceInput[], now: Date): string {
    if (this.pipeline.walFull) return "";
    const recallId = this.newId();
    const traces = this.pipeline.projected.traces;
    const operations = [...(traces.live(namespace).length > 0 ? [traces.planDecay(namespace)] : []), traces.planCreate(recallId, namespace, `${namespace}${PROCEDURE_CONTEXT}`, items)];
    this.pipeline.submit(operations, now).catch((error: unknown) => this.hooks.onRecallRecordsLost?.(error));
    return recallId;
  }

  async reinforce(request: memoryV1.ReinforceRequest): Promise<memoryV1.ReinforceResponse> {
    const input = validateReinforce(request);
    const body = { recallId: input.recallId, reward: input.reward, memoryRewards: input.memoryRewards };
    return this.reinforced.run(input.namespace, input.requestId, body, () => this.reinforceOnce(input));
  }

  private async reinforceOnce(input: ValidReinforce): Promise<memoryV1.ReinforceResponse> {
    const named = this.pipeline.projected.traces.get(input.recallId);
    // Procedure recalls name procedures, not memories.
    if (named?.namespace === input.namespace && !named.context.endsWith(PROCEDURE_CONTEXT)) {
      await checkFeedbackTargets(this.pipeline.projected, this.stores, named, input.memoryRewards);
    }
    // Read again after the store lookups: a concurrent Reinforce may have consumed the recall.
    const trace = this.pipeline.projected.traces.get(input.recallId);
    const plan = planReinforce(this.pipeline.projected, input);
    if (!plan.found || !trace) {
      throw new NotFoundError(`recall ${input.recallId} is unknown in namespace ${input.namespace}, or was already reinforced or expired`, "RECALL_NOT_FOUND", {
        metadata: { recall_id: input.recallId },
      });
    }
    const lsn = await this.pipeline.submit(plan.operations, this.clock());
    const rewardOf = (id: string) => input.memoryRewards[id] ?? input.reward;
    if (trace.context.endsWith(PROCEDURE_CONTEXT)) {
      await this.hooks.onProceduresReinforced?.(input.namespace, trace.items.map((item) => ({ id: item.memoryId, success: rewardOf(item.memoryId) > 0 })));
    } else {
      await this.creditStored(input.namespace, trace.items.map((item) => item.memoryId), rewardOf);
    }
    this.hooks.onRewardPredictionError?.(plan.rewardPredictionError);
    return { rewardPredictionError: plan.rewardPredictionError, creditedMemories: plan.credited, lsn };
  }

  /** Reward statistics of credited memories that live in the store (store data, best effort). */
  private async creditStored(namespace: string, ids: readonly string[], rewardOf: (id: string) => number): Promise<void> {
    const state = this.state;
    const stored = ids.filter((id) => !state.buffer.get(id) && !state.buffer.getPromoting(id));
    if (stored.length === 0) return;
    try {
      const memories = await this.longTerm.getMany(namespace, stored);
      await this.longTerm.recordAccess(
        namespace,
        memories.map((memory) => ({
          id: memory.id,
          kind: memory.kind,
          accessCount: memory.accessCount,
          lastAccessTime: memory.lastAccessTime ?? memory.createTime,
          rewardSum: memory.rewardSum + rewardOf(memory.id),
          rewardCount: memory.rewardCount + 1,
        })),
      );
    } catch {
      // Statistics only: the learning itself is already durable in the WAL.
    }
  }

  private sequenceRemember(input: ValidRemember & { embedding: Float32Array }, now: Date): { plan: Exclude<RememberPlan, { decision: "reused" }>; done: Promise<number> } {
    const plan = planRemember(this.pipeline.projected, input, { now, newId: this.newId });
    if (plan.decision === "reused") throw requestIdReused(input.namespace, input.requestId);
    return { plan, done: this.pipeline.submit(plan.operations, now) };
  }

  private rememberResponse(plan: Exclude<RememberPlan, { decision: "reused" }>, lsn: number, namespace: string): memoryV1.RememberResponse {
    this.hooks.onDecision?.(plan.decision);
    if (plan.decision === "rejected") {
      return { memory: undefined, decision: memoryV1.AdmissionDecision.ADMISSION_DECISION_REJECTED, admitProbability: plan.admitProbability, lsn };
    }
    const id = plan.decision === "admitted" ? plan.memory.id : plan.memoryId;
    return {
      memory: this.admittedMemory(id, plan.decision === "admitted" ? plan.memory : undefined, namespace),
      // MERGED names the existing memory that now holds this one; a client that ignores the decision still gets its id.
      decision: plan.decision === "merged" ? memoryV1.AdmissionDecision.ADMISSION_DECISION_MERGED : memoryV1.AdmissionDecision.ADMISSION_DECISION_ADMITTED,
      admitProbability: plan.decision === "duplicate" ? 1 : plan.admitProbability,
      lsn,
    };
  }

  /**
   * The admitted memory as it stands once its records are durable. Under
   * concurrent Remembers it may already have left the buffer (room made for
   * later ones): then it is stored, or evicted with a reason, never absent.
   */
  private admittedMemory(id: string, planned: walV1.MemoryRecord | undefined, namespace: string): memoryV1.Memory {
    const held = heldItem(this.state, id);
    if (held) return toPublicMemory(held.item, held.status, false);
    const eviction = this.state.outbox.evictions.get(id);
    const left = planned
      ? toPublicMemory(plannedItem(planned), memoryV1.MemoryStatus.MEMORY_STATUS_STORED, false)
      : memoryV1.Memory.fromPartial({ id, namespace, status: memoryV1.MemoryStatus.MEMORY_STATUS_STORED });
    if (!eviction) return left;
    if (eviction.mergedIntoId) return { ...left, status: memoryV1.MemoryStatus.MEMORY_STATUS_MERGED, mergedIntoId: eviction.mergedIntoId, updateTime: eviction.time };
    return { ...left, status: memoryV1.MemoryStatus.MEMORY_STATUS_EVICTED, evictionReason: publicEvictionReason(eviction.reason), updateTime: eviction.time };
  }
}

/** The public form of the signals that ranked a memory. */
function explanation(signals: RecallSignals): memoryV1.RecallExplanation {
  return {
    cosine: signals.cosine,
    bm25: signals.bm25,
    vectorRank: signals.vectorRank ?? 0,
    lexicalRank: signals.lexicalRank ?? 0,
    fused: signals.fused,
    recency: signals.recency,
    importance: signals.importance,
    feedback: signals.feedback,
    correction: signals.correction,
  };
}
