import { randomUUID } from "node:crypto";
import { planRecall, planReinforce, planRemember, type LearningState, type RememberPlan } from "@t4dm/learning";
import { memoryV1 } from "@t4dm/proto";
import { NotFoundError } from "@t4dm/rpc";
import { toPublicMemory } from "./convert.js";
import type { CommitPipeline } from "./pipeline/commit-pipeline.js";
import { validateBatch, validateGet, validateRecall, validateReinforce, validateRemember, type Limits, type ValidRemember } from "./validation.js";

/**
 * Remember, recall and reinforce on the learning state: validate (nothing is
 * logged for bad input), plan against the projected state, submit in the
 * same tick, and answer once the records are durable and applied.
 */
export class MemoryCore {
  private readonly reinforced = new Map<string, memoryV1.ReinforceResponse>();

  constructor(
    private readonly pipeline: CommitPipeline,
    private readonly limits: Limits,
    private readonly clock: () => Date,
    private readonly newId: () => string = randomUUID,
  ) {}

  /** What readers see: the durable state only. */
  get state(): LearningState {
    return this.pipeline.durable;
  }

  async remember(request: memoryV1.RememberRequest): Promise<memoryV1.RememberResponse> {
    const now = this.clock();
    const input = validateRemember(request, this.limits, now);
    const { plan, done } = this.sequenceRemember(input, now);
    return this.rememberResponse(plan, await done);
  }

  async batchRemember(request: memoryV1.BatchRememberRequest): Promise<memoryV1.BatchRememberResponse> {
    const now = this.clock();
    const inputs = validateBatch(request.requests, this.limits, now);
    // Sequenced back to back in this tick: each sees the ones before it.
    const sequenced = inputs.map((input) => this.sequenceRemember(input, now));
    const responses: memoryV1.RememberResponse[] = [];
    for (const { plan, done } of sequenced) responses.push(this.rememberResponse(plan, await done));
    return { responses };
  }

  async recall(request: memoryV1.RecallRequest): Promise<memoryV1.RecallResponse> {
    const input = validateRecall(request, this.limits);
    const now = this.clock();
    const plan = planRecall(this.pipeline.projected, { ...input }, { now, newId: this.newId });
    await this.pipeline.submit(plan.operations, now);
    return {
      recallId: plan.recallId,
      memories: plan.results.map((result) => ({
        memory: toPublicMemory(
          result.item,
          result.fromBuffer ? memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED : memoryV1.MemoryStatus.MEMORY_STATUS_PENDING_PROMOTION,
          input.includeEmbeddings,
        ),
        score: result.score,
        similarity: result.similarity,
        source: result.fromBuffer ? memoryV1.MemorySource.MEMORY_SOURCE_BUFFER : memoryV1.MemorySource.MEMORY_SOURCE_STORE,
      })),
    };
  }

  async reinforce(request: memoryV1.ReinforceRequest): Promise<memoryV1.ReinforceResponse> {
    const input = validateReinforce(request);
    const key = input.requestId ? `${input.namespace}\u0000${input.requestId}` : undefined;
    const earlier = key ? this.reinforced.get(key) : undefined;
    if (earlier) return earlier;
    const plan = planReinforce(this.pipeline.projected, input);
    if (!plan.found) {
      throw new NotFoundError(`recall ${input.recallId} is unknown in namespace ${input.namespace}, or was already reinforced or expired`, "RECALL_NOT_FOUND", {
        metadata: { recall_id: input.recallId },
      });
    }
    const lsn = await this.pipeline.submit(plan.operations, this.clock());
    const response = { rewardPredictionError: plan.rewardPredictionError, creditedMemories: plan.credited, lsn };
    if (key) {
      this.reinforced.set(key, response);
      if (this.reinforced.size > 10_000) this.reinforced.delete(this.reinforced.keys().next().value!);
    }
    return response;
  }

  /**
   * A memory the state holds (buffered, or promoted and awaiting its store
   * write). Another namespace's memory is NOT_FOUND, never revealed.
   */
  async getMemory(request: memoryV1.GetMemoryRequest): Promise<memoryV1.GetMemoryResponse> {
    const { namespace, id } = validateGet(request);
    const buffered = this.state.buffer.get(id);
    const item = buffered ?? this.state.buffer.getPromoting(id);
    if (!item || item.memory.namespace !== namespace) {
      throw new NotFoundError(`memory ${id} not found in namespace ${namespace}`, "MEMORY_NOT_FOUND", { metadata: { id } });
    }
    const status = buffered ? memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED : memoryV1.MemoryStatus.MEMORY_STATUS_PENDING_PROMOTION;
    return { memory: toPublicMemory(item, status, request.includeEmbedding) };
  }

  private sequenceRemember(input: ValidRemember, now: Date): { plan: RememberPlan; done: Promise<number> } {
    const plan = planRemember(this.pipeline.projected, input, { now, newId: this.newId });
    return { plan, done: this.pipeline.submit(plan.operations, now) };
  }

  private rememberResponse(plan: RememberPlan, lsn: number): memoryV1.RememberResponse {
    if (plan.decision === "rejected") {
      return { memory: undefined, decision: memoryV1.AdmissionDecision.ADMISSION_DECISION_REJECTED, admitProbability: plan.admitProbability, lsn };
    }
    const id = plan.decision === "admitted" ? plan.memory.id : plan.memoryId;
    const item = this.state.buffer.get(id) ?? this.state.buffer.getPromoting(id);
    const status = this.state.buffer.get(id) ? memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED : memoryV1.MemoryStatus.MEMORY_STATUS_PENDING_PROMOTION;
    return {
      memory: item ? toPublicMemory(item, status, false) : undefined,
      decision: memoryV1.AdmissionDecision.ADMISSION_DECISION_ADMITTED,
      admitProbability: plan.decision === "admitted" ? plan.admitProbability : item?.memory.admitProbability ?? 1,
      lsn,
    };
  }
}
