import type { LearningState, TraceState } from "@t4dm/learning";
import { NotFoundError } from "@t4dm/rpc";
import { heldItem } from "./memory-reads.js";
import type { Stores } from "../storage/store-sync.js";
import { Violations } from "./validation.js";

/**
 * Per-memory rewards may only name memories the recall returned that are
 * still remembered. Naming one it did not return is a caller's mistake
 * (INVALID_ARGUMENT); naming one that was forgotten, expired or merged since
 * answers NOT_FOUND, because learning from a memory the caller ended would
 * keep what Forget removed. Checked before anything is planned, so a refused
 * Reinforce logs nothing and still finds its recall afterwards.
 */
export async function checkFeedbackTargets(state: LearningState, stores: Stores, trace: TraceState, memoryRewards: Record<string, number>): Promise<void> {
  const named = Object.keys(memoryRewards);
  if (named.length === 0) return;
  const returned = new Set(trace.items.map((item) => item.memoryId));
  const violations = new Violations();
  for (const id of named) if (!returned.has(id)) violations.add(`memory_rewards.${id}`, "is not a memory this recall returned");
  violations.throwIfAny();
  for (const id of named) {
    if (!(await stillRemembered(state, stores, trace.namespace, id))) {
      throw new NotFoundError(`memory ${id} is no longer remembered in namespace ${trace.namespace} (forgotten, expired or merged); feedback cannot name it`, "MEMORY_NOT_FOUND", {
        metadata: { id },
      });
    }
  }
}

/** Held by the state, or in a store and not ended: the same answer GetMemory gives. */
async function stillRemembered(state: LearningState, stores: Stores, namespace: string, id: string): Promise<boolean> {
  if (heldItem(state, id)) return true;
  if (state.outbox.evictions.has(id) || state.outbox.pendingDeletes.has(id)) return false;
  if (await stores.episodic.get(namespace, id)) return true;
  return (await stores.graph.getMemoryNode(namespace, id)) !== undefined;
}
