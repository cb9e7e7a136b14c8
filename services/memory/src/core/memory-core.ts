import { randomUUID } from "node:crypto";
import type { LearningState, TraceInput } from "@t4dm/learning";
import type { memoryV1 } from "@t4dm/proto";
import type { CommitPipeline } from "../pipeline/commit-pipeline.js";
import type { Embedder } from "../embedding/embedder.js";
import { LongTermMemories } from "../storage/long-term-memories.js";
import type { Stores } from "../storage/store-sync.js";
import type { MemoryContext, MemoryHooks } from "./memory-context.js";
import { Recall } from "./recall.js";
import { Reinforce } from "./reinforce.js";
import { Remember } from "./remember.js";
import type { Limits } from "./validation.js";

/**
 * Remember, recall and reinforce on the learning state, one use case per
 * file (remember.ts, recall.ts, reinforce.ts) over one shared context: each
 * plans against the projected state and submits in the same tick, so every
 * plan sees the ones sequenced before it.
 */
export class MemoryCore {
  private readonly rememberCase: Remember;
  private readonly recallCase: Recall;
  private readonly reinforceCase: Reinforce;
  private readonly context: MemoryContext;

  constructor(
    pipeline: CommitPipeline,
    stores: Stores,
    embedder: Embedder,
    limits: Limits,
    clock: () => Date,
    hooks: MemoryHooks = {},
    newId: () => string = randomUUID,
  ) {
    this.context = { pipeline, stores, longTerm: new LongTermMemories(stores), embedder, limits, clock, hooks, newId };
    this.rememberCase = new Remember(this.context);
    this.recallCase = new Recall(this.context);
    this.reinforceCase = new Reinforce(this.context);
  }

  /** What readers see: the durable state only. */
  get state(): LearningState {
    return this.context.pipeline.durable;
  }

  remember(request: memoryV1.RememberRequest): Promise<memoryV1.RememberResponse> {
    return this.rememberCase.remember(request);
  }

  batchRemember(request: memoryV1.BatchRememberRequest): Promise<memoryV1.BatchRememberResponse> {
    return this.rememberCase.batchRemember(request);
  }

  recall(request: memoryV1.RecallRequest): Promise<memoryV1.RecallResponse> {
    return this.recallCase.recall(request);
  }

  traceProcedureMatch(namespace: string, items: readonly TraceInput[], now: Date): string {
    return this.recallCase.traceProcedureMatch(namespace, items, now);
  }

  reinforce(request: memoryV1.ReinforceRequest): Promise<memoryV1.ReinforceResponse> {
    return this.reinforceCase.reinforce(request);
  }
}
