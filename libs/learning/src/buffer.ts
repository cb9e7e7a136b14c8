import { stateV1, walV1 } from "@t4dm/proto";
import { floatsOf, memoryEmbedding, ownedVector } from "./packed-floats.js";

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

  inNamespace(namespace: string): BufferedItem[] {
    return [...this.items.values()].filter((item) => item.memory.namespace === namespace);
  }

  apply(operation: NonNullable<walV1.WalEntry["operation"]>): void {
    switch (operation.$case) {
      case "bufferAdd": {
        const { memory, embedding } = bufferedMemory(operation.value.memory!);
        this.items.set(memory.id, {
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
        this.items.delete(operation.value.memoryId);
        this.promotingItems.delete(operation.value.memoryId);
        return;
      case "bufferPromote": {
        const item = this.items.get(operation.value.memoryId);
        if (!item) return;
        this.items.delete(operation.value.memoryId);
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
        if (operation.value.mergedId) this.items.delete(operation.value.mergedId);
        return;
      }
      default:
        return;
    }
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
    });
    return { buffer: [...this.items.values()].map(encode), promoting: [...this.promotingItems.values()].map(encode) };
  }

  static restore(buffer: readonly stateV1.BufferedMemory[], promoting: readonly stateV1.BufferedMemory[]): MemoryBuffer {
    const restored = new MemoryBuffer();
    const decode = (entry: stateV1.BufferedMemory): BufferedItem => {
      const { memory, embedding } = bufferedMemory(entry.memory!);
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
    for (const entry of buffer) restored.items.set(entry.memory!.id, decode(entry));
    for (const entry of promoting) restored.promotingItems.set(entry.memory!.id, decode(entry));
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

/**
 * Metadata with its keys sorted, so a state built live and one restored from
 * a checkpoint encode to the same bytes (and hash). Packed vectors are
 * copied: decoded bytes are views into the whole message they came in.
 */
function canonicalMemory(memory: walV1.MemoryRecord, ownedEmbeddingF32?: Uint8Array): walV1.MemoryRecord {
  const metadata: Record<string, unknown> = {};
  for (const key of Object.keys(memory.metadata ?? {}).sort()) metadata[key] = memory.metadata[key];
  return { ...memory, metadata, embeddingF32: ownedEmbeddingF32 ?? ownedBytes(memory.embeddingF32), gateFeaturesF32: ownedBytes(memory.gateFeaturesF32) };
}

/** The canonical memory and its embedding as floats; a packed embedding is copied once for both. */
function bufferedMemory(source: walV1.MemoryRecord): { memory: walV1.MemoryRecord; embedding: Float32Array } {
  if (source.embeddingF32 !== undefined && source.embeddingF32.byteLength > 0) {
    const vector = ownedVector(source.embeddingF32);
    return { memory: canonicalMemory(source, vector.bytes), embedding: vector.floats };
  }
  const memory = canonicalMemory(source);
  return { memory, embedding: memoryEmbedding(memory) };
}

const NO_BYTES = new Uint8Array(0);

/** A copy of `bytes` that owns its memory (empty stays the shared empty array). */
function ownedBytes(bytes: Uint8Array | undefined): Uint8Array {
  return bytes === undefined || bytes.byteLength === 0 ? NO_BYTES : new Uint8Array(bytes);
}
