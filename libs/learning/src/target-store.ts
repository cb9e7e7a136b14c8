import { walV1 } from "@t4dm/proto";

/**
 * The store a memory of `kind` is promoted to, the rule every BUFFER_PROMOTE
 * the planner logs follows: semantic and procedural memories in the graph
 * store, every other kind — unspecified, or one this build does not know — in
 * the episodic store. Its one copy: the planner records it, and the memory
 * service asks it only where no record says (an import's records, which store
 * to read a stored memory back from).
 */
export function targetStoreOf(kind: number): walV1.TargetStore {
  return kind === walV1.MemoryKind.MEMORY_KIND_SEMANTIC || kind === walV1.MemoryKind.MEMORY_KIND_PROCEDURAL
    ? walV1.TargetStore.TARGET_STORE_GRAPH
    : walV1.TargetStore.TARGET_STORE_EPISODIC;
}
