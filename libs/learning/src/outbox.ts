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
  /**
   * Evictions oldest first, to trim from. Taking the oldest from the Map
   * itself (keys().next()) walks over every deleted slot V8 has not yet
   * compacted, which made replaying evictions cost O(capacity) each.
   * Entries superseded by a later eviction of the same id are skipped.
   */
  private evictionOrder: stateV1.Eviction[] = [];
  private evictionHead = 0;

  addDelete(memoryId: string, namespace: string): void {
    this.pendingDeletes.set(memoryId, namespace);
  }

  addConcept(concept: walV1.ConceptForm): void {
    this.pendingConcepts.set(concept.conceptId, concept);
  }

  recordEviction(eviction: stateV1.Eviction): void {
    this.evictions.delete(eviction.memoryId);
    this.evictions.set(eviction.memoryId, eviction);
    this.evictionOrder.push(eviction);
    while (this.evictions.size > MAX_EVICTIONS) {
      const oldest = this.evictionOrder[this.evictionHead++]!;
      if (this.evictions.get(oldest.memoryId) === oldest) this.evictions.delete(oldest.memoryId);
    }
    if (this.evictionHead > MAX_EVICTIONS) {
      this.evictionOrder = this.evictionOrder.slice(this.evictionHead);
      this.evictionHead = 0;
    }
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
    for (const eviction of snapshot.evictions) outbox.recordEviction(eviction);
    for (const { memoryId, namespace } of snapshot.pendingDeletes) outbox.pendingDeletes.set(memoryId, namespace);
    for (const concept of snapshot.pendingConcepts) outbox.pendingConcepts.set(concept.conceptId, concept);
    return outbox;
  }
}
