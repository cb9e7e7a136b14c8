import { findReusedRequestIds, planRemember, type RememberPlan } from "@t4dm/learning";
import { memoryV1, walV1 } from "@t4dm/proto";
import { plannedItem, publicEvictionReason, toPublicMemory } from "./convert.js";
import { requestIdReused } from "./idempotent-calls.js";
import { heldItem } from "./memory-reads.js";
import type { MemoryContext } from "./memory-context.js";
import { validateBatch, validateRemember, type ValidRemember } from "./validation.js";
import { embedMissing } from "../embedding/embed-inputs.js";

/**
 * Remember and BatchRemember: validate (nothing is logged for bad input),
 * embed, wait while the long-term store's backlog is full (backpressure),
 * plan against the projected state (the gate decides admission in
 * libs/learning `planRemember`), submit in the same tick, and answer once
 * the records are durable and applied.
 */
export class Remember {
  constructor(private readonly context: MemoryContext) {}

  async remember(request: memoryV1.RememberRequest): Promise<memoryV1.RememberResponse> {
    const now = this.context.clock();
    const input = validateRemember(request, this.context.limits, now);
    const [embedding] = await embedMissing(this.context.embedder, [{ embedding: input.embedding, text: input.content, field: "content" }]);
    await this.context.hooks.waitForStoreRoom?.();
    const { plan, done } = this.sequenceRemember({ ...input, embedding: embedding! }, this.context.clock());
    return this.rememberResponse(plan, await done, input.namespace);
  }

  async batchRemember(request: memoryV1.BatchRememberRequest): Promise<memoryV1.BatchRememberResponse> {
    const inputs = validateBatch(request.requests, this.context.limits, this.context.clock());
    const embeddings = await embedMissing(
      this.context.embedder,
      inputs.map((input, i) => ({ embedding: input.embedding, text: input.content, field: `requests[${i}].content` })),
    );
    await this.context.hooks.waitForStoreRoom?.();
    const now = this.context.clock();
    // Checked in the same tick as the sequencing, so a refused batch logs nothing.
    const [reused] = findReusedRequestIds(this.context.pipeline.projected, inputs);
    if (reused !== undefined) throw requestIdReused(inputs[reused]!.namespace, inputs[reused]!.requestId, `requests[${reused}].request_id`);
    // Sequenced back to back in this tick: each sees the ones before it.
    const sequenced = inputs.map((input, i) => this.sequenceRemember({ ...input, embedding: embeddings[i]! }, now));
    // Await them together: when the pipeline fails them all at once (shutdown, a refused WAL),
    // awaiting one by one would leave the others' rejections unhandled, which ends the process.
    const lsns = await Promise.all(sequenced.map(({ done }) => done));
    return { responses: sequenced.map(({ plan }, i) => this.rememberResponse(plan, lsns[i]!, inputs[i]!.namespace)) };
  }

  private sequenceRemember(input: ValidRemember & { embedding: Float32Array }, now: Date): { plan: Exclude<RememberPlan, { decision: "reused" }>; done: Promise<number> } {
    const plan = planRemember(this.context.pipeline.projected, input, { now, newId: this.context.newId });
    if (plan.decision === "reused") throw requestIdReused(input.namespace, input.requestId);
    return { plan, done: this.context.pipeline.submit(plan.operations, now) };
  }

  private rememberResponse(plan: Exclude<RememberPlan, { decision: "reused" }>, lsn: number, namespace: string): memoryV1.RememberResponse {
    this.context.hooks.onDecision?.(plan.decision);
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
    const held = heldItem(this.context.pipeline.durable, id);
    if (held) return toPublicMemory(held.item, held.status, false);
    const eviction = this.context.pipeline.durable.outbox.evictions.get(id);
    const left = planned
      ? toPublicMemory(plannedItem(planned), memoryV1.MemoryStatus.MEMORY_STATUS_STORED, false)
      : memoryV1.Memory.fromPartial({ id, namespace, status: memoryV1.MemoryStatus.MEMORY_STATUS_STORED });
    if (!eviction) return left;
    if (eviction.mergedIntoId) return { ...left, status: memoryV1.MemoryStatus.MEMORY_STATUS_MERGED, mergedIntoId: eviction.mergedIntoId, updateTime: eviction.time };
    return { ...left, status: memoryV1.MemoryStatus.MEMORY_STATUS_EVICTED, evictionReason: publicEvictionReason(eviction.reason), updateTime: eviction.time };
  }
}
