import type { walV1 } from "@t4dm/proto";
import { centroidOf, memoryEmbedding, ownedVector } from "./packed-floats.js";
import { requestBodyHash } from "./request-match.js";

/**
 * What applying one record builds from the record alone: a memory's canonical
 * form and float32 vector, its request body hash, a cluster update's centroid.
 * The sequencer applies each record twice — to the projected state when
 * proposed and to the durable state when acknowledged — and hands both applies
 * the same BuiltEffects: the first builds into it, the second takes what was
 * built instead of copying, unpacking and hashing again. A replay applies each
 * record once, with a fresh one. What is built is shared by both states, so it
 * is never changed in place: an item's `memory` or `embedding`, a cluster's
 * centroid, are replaced whole.
 *
 * An explicit object, not properties on the decoded record: defining
 * non-enumerable properties on a record made V8 slow every later access to it
 * (`bench/apply-twice.mjs`), and a WeakMap entry per record added GC tracing
 * to every replayed record (`bench/replay-apply.mjs`).
 */
export class BuiltEffects {
  private readonly memory = new BuiltFrom<walV1.MemoryRecord, BuiltMemory>();
  private readonly bodyHash = new BuiltFrom<walV1.MemoryRecord, Uint8Array>();
  private readonly centroid = new BuiltFrom<walV1.ClusterUpdate, Float32Array>();

  /** The canonical memory and its float32 vector, built once per record. */
  memoryOf(record: walV1.MemoryRecord): BuiltMemory {
    return this.memory.get(record, buildMemory);
  }

  /** The request body hash: the one the record logged (see primeBodyHash), else computed once. */
  bodyHashOf(record: walV1.MemoryRecord): Uint8Array {
    return this.bodyHash.get(record, requestBodyHash);
  }

  /**
   * Takes a body hash the record logged (a REMEMBER record's
   * request_body_sha256) as the memory's, so applying it does not hash the
   * body. Copied: decoded bytes are a view into the whole batch they came in,
   * which a request key must not keep alive. Empty (older records, no request
   * id): the hash is computed when needed.
   */
  primeBodyHash(record: walV1.MemoryRecord, logged: Uint8Array): void {
    if (logged.byteLength === 0) return;
    this.bodyHash.get(record, () => {
      // A Buffer of its own (Buffer.alloc is never pooled), like the digest a computed hash is.
      const copy = Buffer.alloc(logged.byteLength);
      copy.set(logged);
      return copy;
    });
  }

  /** A cluster update's centroid as floats, built once per record. */
  centroidOf(update: walV1.ClusterUpdate): Float32Array {
    return this.centroid.get(update, centroidOf);
  }
}

/** One value built from a record object, kept for the next apply of that same object. */
class BuiltFrom<Source extends object, Value> {
  private source: Source | undefined = undefined;
  private value: Value | undefined = undefined;

  get(source: Source, build: (source: Source) => Value): Value {
    if (this.source !== source || this.value === undefined) {
      this.value = build(source);
      this.source = source;
    }
    return this.value;
  }
}

export interface BuiltMemory {
  memory: walV1.MemoryRecord;
  embedding: Float32Array;
}

/**
 * The canonical memory and its float32 vector, uncached (a checkpoint's
 * restore). A packed embedding is copied once for both: the owned bytes and
 * the float view share one buffer (neither is written after this).
 */
export function buildMemory(record: walV1.MemoryRecord): BuiltMemory {
  if (record.embeddingF32 !== undefined && record.embeddingF32.byteLength > 0) {
    const vector = ownedVector(record.embeddingF32);
    return { memory: canonicalMemory(record, vector.bytes), embedding: vector.floats };
  }
  const memory = canonicalMemory(record);
  return { memory, embedding: memoryEmbedding(memory) };
}

/**
 * Metadata with its keys sorted, so a state built live and one restored from
 * a checkpoint encode to the same bytes (and hash). Packed vectors are
 * copied: decoded bytes are views into the whole message they came in.
 */
export function canonicalMemory(memory: walV1.MemoryRecord, ownedEmbeddingF32?: Uint8Array): walV1.MemoryRecord {
  const metadata: Record<string, unknown> = {};
  for (const key of Object.keys(memory.metadata ?? {}).sort()) metadata[key] = memory.metadata[key];
  return { ...memory, metadata, embeddingF32: ownedEmbeddingF32 ?? ownedBytes(memory.embeddingF32), gateFeaturesF32: ownedBytes(memory.gateFeaturesF32) };
}

const NO_BYTES = new Uint8Array(0);

/** A copy of `bytes` that owns its memory (empty stays the shared empty array). */
export function ownedBytes(bytes: Uint8Array | undefined): Uint8Array {
  return bytes === undefined || bytes.byteLength === 0 ? NO_BYTES : new Uint8Array(bytes);
}
