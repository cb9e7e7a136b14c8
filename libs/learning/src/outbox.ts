import type { stateV1, walV1 } from "@t4dm/proto";

/** Recently evicted memories are remembered (bounded) so GetMemory can say why they are gone. */
export const MAX_EVICTIONS = 10_000;

/**
 * What the long-term stores still owe the WAL: deletes of forgotten memories
 * and concepts from deep consolidation (promoted memories wait in the
 * buffer's `promoting` list). Entries leave only through a STORE_SYNCED
 * record, so after a crash the state says exactly which store writes to redo.
 * Also keeps the bounded record of recent evictions.
 */
export class StoreOutbox {
  readonly pendingDeletes = new Map<string, string>();
  readonly pendingConcepts = new Map<string, walV1.ConceptForm>();
  readonly evictions = new Map<string, stateV1.Eviction>();

  addDelete(memoryId: string, namespace: string): void {
    this.pendingDeletes.set(memoryId, namespace);
  }

  addConcept(concept: walV1.ConceptForm): void {
    this.pendingConcepts.set(concept.conceptId, concept);
  }

  recordEviction(eviction: stateV1.Eviction): void {
    this.evictions.delete(eviction.memoryId);
    this.evictions.set(eviction.memoryId, eviction);
    while (this.evictions.size > MAX_EVICTIONS) this.evictions.delete(this.evictions.keys().next().value!);
  }

  synced(record: walV1.StoreSynced): void {
    for (const id of record.deletedIds) this.pendingDeletes.delete(id);
    for (const id of record.conceptIds) this.pendingConcepts.delete(id);
  }

  snapshot(): Pick<stateV1.LearningState, "evictions" | "pendingDeletes" | "pendingConcepts"> {
    return {
      evictions: [...this.evictions.values()],
      pendingDeletes: [...this.pendingDeletes].map(([memoryId, namespace]) => ({ memoryId, namespace })),
      pendingConcepts: [...this.pendingConcepts.values()],
    };
  }

  static restore(snapshot: Pick<stateV1.LearningState, "evictions" | "pendingDeletes" | "pendingConcepts">): StoreOutbox {
    const outbox = new StoreOutbox();
    for (const eviction of snapshot.evictions) outbox.evictions.set(eviction.memoryId, eviction);
    for (const { memoryId, namespace } of snapshot.pendingDeletes) outbox.pendingDeletes.set(memoryId, namespace);
    for (const concept of snapshot.pendingConcepts) outbox.pendingConcepts.set(concept.conceptId, concept);
    return outbox;
  }
}
