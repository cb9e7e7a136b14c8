import { walV1 } from "@t4dm/proto";

/**
 * The store a memory of `kind` lives in, by the rule the planner records in
 * every BUFFER_PROMOTE (libs/learning `leaveBuffer`): semantic and procedural
 * memories in the graph store, every other kind — unspecified, or one this
 * build does not know — in the episodic store.
 *
 * Why derive it here at all: libs/learning's MemoryBuffer keeps a promoted
 * item but not the record's `target_store` (nor does a checkpoint), so the
 * store sync cannot read it back. This is the memory service's one copy of
 * the rule (promotion, reads, access statistics and an import's records all
 * ask it); it used to be a second, differently phrased decision that sent a
 * kind unknown to this build to the graph store while the record said
 * episodic.
 */
export function targetStoreOf(kind: number): walV1.TargetStore {
  return kind === walV1.MemoryKind.MEMORY_KIND_SEMANTIC || kind === walV1.MemoryKind.MEMORY_KIND_PROCEDURAL
    ? walV1.TargetStore.TARGET_STORE_GRAPH
    : walV1.TargetStore.TARGET_STORE_EPISODIC;
}

/** Whether memories of this kind live in the episodic store (else in the graph store, as memory nodes). */
export function isEpisodic(kind: number): boolean {
  return targetStoreOf(kind) === walV1.TargetStore.TARGET_STORE_EPISODIC;
}
