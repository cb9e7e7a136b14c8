import { targetStoreOf } from "@t4dm/learning";
import { walV1 } from "@t4dm/proto";

/**
 * Whether memories of this kind live in the episodic store (else in the
 * graph store, as memory nodes): where reads, access statistics and an
 * import look for a stored memory. The rule is libs/learning's
 * `targetStoreOf`, the one the planner records in every BUFFER_PROMOTE; a
 * promotion itself goes where its record says (promote-to-stores.ts).
 */
export function isEpisodic(kind: number): boolean {
  return targetStoreOf(kind) === walV1.TargetStore.TARGET_STORE_EPISODIC;
}
