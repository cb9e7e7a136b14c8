import { walV1 } from "@t4dm/proto";
import type { LearningState } from "./learning-state.js";
import type { Operation } from "./wal-entries.js";

/**
 * The MEMORY_DELETE a Forget would log: every id it resolved to (from the
 * state and, resolved by the caller, from the stores), so replay needs no
 * store lookups. Nothing to log when nothing matched.
 */
export function planForget(
  state: LearningState,
  namespace: string,
  ids: readonly string[],
  reason: walV1.RemovalReason = walV1.RemovalReason.REMOVAL_REASON_FORGOTTEN,
): Operation[] {
  const unique = [...new Set(ids)].filter((id) => !state.outbox.pendingDeletes.has(id));
  if (unique.length === 0) return [];
  return [{ $case: "memoryDelete", value: { namespace, memoryIds: unique, reason } }];
}
