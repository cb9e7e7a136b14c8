import { stateV1, walV1 } from "@t4dm/proto";
import { buildMemory, canonicalMemory, ownedBytes, type BuiltEffects } from "./built-effects.js";
import { floatsOf } from "./packed-floats.js";
import { targetStoreOf } from "./target-store.js";

const NO_ITEMS: ReadonlyMap<string, BufferedItem> = new Map();

/** A memory waiting in the buffer, with the evidence that decides its fate. */
export interface BufferedItem {
  memory: walV1.MemoryRecord;
  /** memory.embedding as float32, for fast similarity. */
  embedding: Float32Array;
  evidence: number;
  accessCount: number;
  lastAccessTime?: Date;
  rewardSum: number;
  rewardCount: number;
  /** Set once promoted: the store its BUFFER_PROMOTE names. */
  targetStore?: walV1.TargetStore;
}

/** Half-life of unconfirmed evidence: a day without hits or reward halves it. */
export const EVIDENCE_HALF_LIFE_SECONDS = 86_400;
/** Effective evidence at or above this earns promotion instead of eviction. */
export const PROMOTION_THRESHOLD = 0.3;

/**
 * Pending memories, oldest first, plus those promoted but not yet confirmed
 * stored. Changes only through BUFFER_* records; the sequencer, not this
 * class, keeps the size within capacity by logging promotions and evictions
 * first — never a silent drop.
 */
export class MemoryBuffer {
  private readonly items = new Map<string, BufferedItem>();
  private readonly promotingItems = new Map<string, BufferedItem>();
  /**
   * The same buffered items by namespace, each oldest first as in `items`:
   * every Remember compares itself with its namespace's items (novelty,
   * near-duplicates) and every Recall ranks them, which scanned the whole
   * buffer when it was shared by many namespaces.
   */
  private readonly namespaces = new Map<string, Map<string, BufferedItem>>();

  get size(): number {
    return this.items.size;
  }

  /** Promoted memories whose store write is not confirmed yet. */
  get promotingCount(): number {
    return this.promotingItems.size;
  }

  get(id: string): BufferedItem | undefined {
    return this.items.get(id);
  }

  /** A promoted memory whose store write is not confirmed yet. */
  getPromoting(id: string): BufferedItem | undefined {
    return this.promotingItems.get(id);
  }

  /** Buffered items, oldest first. */
  all(): IterableIterator<BufferedItem> {
    return this.items.values();
  }

  promoting(): IterableIterator<BufferedItem> {
    return this.promotingItems.values();
  }

  /** Buffered items of one namespace, oldest first. */
  inNamespace(namespace: string): BufferedItem[] {
    return [...this.namespaceItems(namespace)];
  }

  /** Buffered items of one namespace, oldest first, without a copy: do not change the buffer while iterating. */
  namespaceItems(namespace: string): IterableIterator<BufferedItem> {
    return (this.namespaces.get(namespace) ?? NO_ITEMS).values();
  }

  apply(operation: NonNullable<walV1.WalEntry["operation"]>, built?: BuiltEffects): void {
    switch (operation.$case) {
      case "bufferAdd": {
        // Built once per record: the projected and the durable state share it (see built-effects).
        const record = operation.value.memory!;
        const { memory, embedding } = built ? built.memoryOf(record) : buildMemory(record);
        this.hold({
          memory,
          embedding,
          evidence: initialEvidence(memory),
          accessCount: 0,
          rewardSum: 0,
          rewardCount: 0,
        });
        return;
      }
      case "bufferRemove":
        this.release(operation.value.memoryId);
        this.promotingItems.delete(operation.value.memoryId);
        return;
      case "bufferPromote": {
        const item = this.items.get(operation.value.memoryId);
        if (!item) return;
        this.release(operation.value.memoryId);
        // Older records may leave it unspecified: the rule they followed then decides.
        item.targetStore = operation.value.targetStore || targetStoreOf(item.memory.kind);
        this.promotingItems.set(item.memory.id, item);
        return;
      }
      case "bufferEvidence": {
        const item = this.items.get(operation.value.memoryId) ?? this.promotingItems.get(operation.value.memoryId);
        if (!item) return;
        item.evidence = operation.value.evidence;
        item.accessCount = operation.value.accessCount;
        item.lastAccessTime = operation.value.lastAccessTime;
        item.rewardSum = operation.value.rewardSum;
        item.rewardCount = operation.value.rewardCount;
        return;
      }
      case "bufferReembed": {
        // A memory's record keeps its history (gate features, cluster id); only the vector moves to the new embedder.
        for (const { memoryId, embedding, embeddingF32 } of operation.value.memories) {
          const item = this.items.get(memoryId) ?? this.promotingItems.get(memoryId);
          if (!item) continue;
          // The record's form replaces the old one whole, so the state is what the record says.
          item.memory = { ...item.memory, embedding, embeddingF32: ownedBytes(embeddingF32) };
          item.embedding = floatsOf(embeddingF32, embedding);
        }
        return;
      }
      case "memoryMerge": {
        // Only a buffered keeper takes a merge (see nearDuplicate): a promoting one may already be stored.
        const item = this.items.get(operation.value.intoId);
        if (item) {
          item.memory = canonicalMemory({ ...item.memory, metadata: operation.value.metadata, importance: operation.value.importance });
          item.evidence = operation.value.evidence;
        }
        if (operation.value.mergedId) this.release(operation.value.mergedId);
        return;
      }
      default:
        return;
    }
  }

  /** Puts an item in the buffer (an id already there keeps its place, as Map.set does). */
  private hold(item: BufferedItem): void {
    const id = item.memory.id;
    const previous = this.items.get(id);
    if (previous && previous.memory.namespace !== item.memory.namespace) this.release(id);
    this.items.set(id, item);
    const namespace = item.memory.namespace;
    let held = this.namespaces.get(namespace);
    if (!held) {
      held = new Map();
      this.namespaces.set(namespace, held);
    }
    held.set(id, item);
  }

  private release(id: string): void {
    const item = this.items.get(id);
    if (!item) return;
    this.items.delete(id);
    const held = this.namespaces.get(item.memory.namespace)!;
    held.delete(id);
    if (held.size === 0) this.namespaces.delete(item.memory.namespace);
  }

  /** Forgets a promoted memory once the store confirmed it (or it was deleted). */
  confirmStored(id: string): void {
    this.promotingItems.delete(id);
  }

  snapshot(): { buffer: stateV1.BufferedMemory[]; promoting: stateV1.BufferedMemory[] } {
    const encode = (item: BufferedItem): stateV1.BufferedMemory => ({
      memory: item.memory,
      evidence: item.evidence,
      accessCount: item.accessCount,
      lastAccessTime: item.lastAccessTime,
      rewardSum: item.rewardSum,
      rewardCount: item.rewardCount,
      // Kept only where it is not the kind's rule, so states that follow the rule (all so far) encode as before.
      targetStore: item.targetStore !== undefined && item.targetStore !== targetStoreOf(item.memory.kind) ? item.targetStore : 0,
    });
    return { buffer: [...this.items.values()].map(encode), promoting: [...this.promotingItems.values()].map(encode) };
  }

  static restore(buffer: readonly stateV1.BufferedMemory[], promoting: readonly stateV1.BufferedMemory[]): MemoryBuffer {
    const restored = new MemoryBuffer();
    const decode = (entry: stateV1.BufferedMemory): BufferedItem => {
      const { memory, embedding } = buildMemory(entry.memory!);
      return {
        memory,
        embedding,
        evidence: entry.evidence,
        accessCount: entry.accessCount,
        lastAccessTime: entry.lastAccessTime,
        rewardSum: entry.rewardSum,
        rewardCount: entry.rewardCount,
      };
    };
    for (const entry of buffer) restored.hold(decode(entry));
    for (const entry of promoting) {
      const item = decode(entry);
      item.targetStore = entry.targetStore || targetStoreOf(item.memory.kind);
      restored.promotingItems.set(item.memory.id, item);
    }
    return restored;
  }
}

/**
 * Evidence a new memory starts with. The caller's importance counts most;
 * the gate's opinion alone (at most 0.25) stays below the promotion
 * threshold, so an unimportant memory must earn promotion with recall hits
 * or reward.
 */
export function initialEvidence(memory: Pick<walV1.MemoryRecord, "admitProbability" | "importance">): number {
  return Math.fround(0.25 * memory.admitProbability + 0.5 * memory.importance);
}

/** Evidence discounted by the time since it was last confirmed (a hit or a reward). */
export function effectiveEvidence(item: BufferedItem, now: Date): number {
  const since = item.lastAccessTime ?? item.memory.createTime ?? now;
  const ageSeconds = Math.max(0, (now.getTime() - since.getTime()) / 1000);
  return item.evidence * Math.pow(0.5, ageSeconds / EVIDENCE_HALF_LIFE_SECONDS);
}
