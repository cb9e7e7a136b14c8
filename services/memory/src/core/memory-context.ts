import type { LongTermMemories } from "../storage/long-term-memories.js";
import type { Stores } from "../storage/store-sync.js";
import type { CommitPipeline } from "../pipeline/commit-pipeline.js";
import type { Embedder } from "../embedding/embedder.js";
import type { Limits } from "./validation.js";

/** Trace contexts of procedure matches end with this; their rewards count as outcomes. */
export const PROCEDURE_CONTEXT = "#procedures";

export interface MemoryHooks {
  onProceduresReinforced?: (namespace: string, outcomes: { id: string; success: boolean }[]) => Promise<void>;
  /** For metrics: each Remember's gate decision, each Reinforce's prediction error. */
  onDecision?: (decision: "admitted" | "rejected" | "duplicate" | "merged") => void;
  onRewardPredictionError?: (rpe: number) => void;
  /** A recall's learning records could not be logged (its recall id will answer NOT_FOUND). */
  onRecallRecordsLost?: (error: unknown) => void;
  /** Resolves when the long-term store's backlog has room for more promotions (storage/store-backlog.ts). */
  waitForStoreRoom?: () => Promise<void>;
}

/**
 * What remember, recall and reinforce share: the pipeline they plan against
 * and submit to (readers see only `pipeline.durable`), the stores, the
 * embedder, the limits, the clock and the id source.
 */
export interface MemoryContext {
  readonly pipeline: CommitPipeline;
  readonly stores: Stores;
  readonly longTerm: LongTermMemories;
  readonly embedder: Embedder;
  readonly limits: Limits;
  readonly clock: () => Date;
  readonly hooks: MemoryHooks;
  readonly newId: () => string;
}
