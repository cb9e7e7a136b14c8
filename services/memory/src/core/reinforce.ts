import { planReinforce } from "@t4dm/learning";
import type { memoryV1 } from "@t4dm/proto";
import { NotFoundError } from "@t4dm/rpc";
import { checkFeedbackTargets } from "./feedback-targets.js";
import { IdempotentCalls } from "./idempotent-calls.js";
import { PROCEDURE_CONTEXT, type MemoryContext } from "./memory-context.js";
import { validateReinforce, type ValidReinforce } from "./validation.js";

/**
 * Reinforce: a reward for what a recall returned. The reward-prediction error
 * (δ = r − V(context), dopamine) and the weight updates it drives through the
 * eligibility traces are planned by libs/learning `planReinforce`; this use
 * case validates, finds the recall's trace, submits the plan, answers with
 * the RPE once durable, and credits stored memories' statistics.
 */
export class Reinforce {
  private readonly reinforced = new IdempotentCalls<memoryV1.ReinforceResponse>();

  constructor(private readonly context: MemoryContext) {}

  async reinforce(request: memoryV1.ReinforceRequest): Promise<memoryV1.ReinforceResponse> {
    const input = validateReinforce(request);
    const body = { recallId: input.recallId, reward: input.reward, memoryRewards: input.memoryRewards };
    return this.reinforced.run(input.namespace, input.requestId, body, () => this.reinforceOnce(input));
  }

  private async reinforceOnce(input: ValidReinforce): Promise<memoryV1.ReinforceResponse> {
    const named = this.context.pipeline.projected.traces.get(input.recallId);
    // Procedure recalls name procedures, not memories.
    if (named?.namespace === input.namespace && !named.context.endsWith(PROCEDURE_CONTEXT)) {
      await checkFeedbackTargets(this.context.pipeline.projected, this.context.stores, named, input.memoryRewards);
    }
    // Read again after the store lookups: a concurrent Reinforce may have consumed the recall.
    const trace = this.context.pipeline.projected.traces.get(input.recallId);
    const plan = planReinforce(this.context.pipeline.projected, input);
    if (!plan.found || !trace) {
      throw new NotFoundError(`recall ${input.recallId} is unknown in namespace ${input.namespace}, or was already reinforced or expired`, "RECALL_NOT_FOUND", {
        metadata: { recall_id: input.recallId },
      });
    }
    const lsn = await this.context.pipeline.submit(plan.operations, this.context.clock());
    const rewardOf = (id: string) => input.memoryRewards[id] ?? input.reward;
    if (trace.context.endsWith(PROCEDURE_CONTEXT)) {
      await this.context.hooks.onProceduresReinforced?.(input.namespace, trace.items.map((item) => ({ id: item.memoryId, success: rewardOf(item.memoryId) > 0 })));
    } else {
      await this.creditStored(input.namespace, trace.items.map((item) => item.memoryId), rewardOf);
    }
    this.context.hooks.onRewardPredictionError?.(plan.rewardPredictionError);
    return { rewardPredictionError: plan.rewardPredictionError, creditedMemories: plan.credited, lsn };
  }

  /** Reward statistics of credited memories that live in the store (store data, best effort). */
  private async creditStored(namespace: string, ids: readonly string[], rewardOf: (id: string) => number): Promise<void> {
    const state = this.context.pipeline.durable;
    const stored = ids.filter((id) => !state.buffer.get(id) && !state.buffer.getPromoting(id));
    if (stored.length === 0) return;
    try {
      const memories = await this.context.longTerm.getMany(namespace, stored);
      await this.context.longTerm.recordAccess(
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
}
