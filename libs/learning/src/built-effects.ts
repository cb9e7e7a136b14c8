import type { walV1 } from "@t4dm/proto";
import { memoryEmbedding, ownedVector } from "./packed-floats.js";
import { requestBodyHash } from "./request-match.js";

/**
 * What applying a memory record builds from the record alone: its canonical
 * form, its float32 vector and its request body hash. The sequencer applies
 * each decoded entry twice — to the projected state when proposed and to the
 * durable state when acknowledged — so the second apply reuses what the first
 * built instead of copying, unpacking and hashing again. Kept with the decoded
 * record object (a replay decodes fresh objects and builds its own). The
 * results are shared by both states, so they are never changed in place:
 * every update replaces an item's `memory` or `embedding` whole.
 */
export interface BuiltMemory {
  memory: walV1.MemoryRecord;
  embedding: Float32Array;
}

/*
 * Kept on the decoded record itself, under non-enumerable symbols, not in a
 * WeakMap: a replay decodes hundreds of thousands of records, and a WeakMap
 * entry per record (an ephemeron the collector must trace) added time
 * in GC tracing (bench/replay-apply.mjs: 22.9–24.0 µs per record before,
 * 20.4–22.5 after).
 */
const BUILT = Symbol("built memory");
const BODY_HASH = Symbol("request body hash");

interface Carrying {
  [BUILT]?: BuiltMemory;
  [BODY_HASH]?: Uint8Array;
}

function remember<K extends typeof BUILT | typeof BODY_HASH>(record: walV1.MemoryRecord, key: K, value: NonNullable<Carrying[K]>): void {
  Object.defineProperty(record, key, { value, enumerable: false });
}

export function builtMemory(record: walV1.MemoryRecord): BuiltMemory {
  let built = (record as Carrying)[BUILT];
  if (!built) {
    built = buildMemory(record);
    remember(record, BUILT, built);
  }
  return built;
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

/** The request body hash of a remembered record (see requestBodyHash). */
export function builtBodyHash(record: walV1.MemoryRecord): Uint8Array {
  let hash = (record as Carrying)[BODY_HASH];
  if (!hash) {
    hash = requestBodyHash(record);
    remember(record, BODY_HASH, hash);
  }
  return hash;
}

/**
 * Takes a body hash the record logged (a REMEMBER record's
 * request_body_sha256) as the memory's, so applying it does not hash the body.
 * Copied: decoded bytes are a view into the whole batch they came in, which a
 * request key must not keep alive. Empty (older records, no request id):
 * nothing is primed and the hash is computed when needed.
 */
export function primeBodyHash(record: walV1.MemoryRecord, logged: Uint8Array): void {
  if (logged.byteLength === 0 || (record as Carrying)[BODY_HASH]) return;
  // A Buffer of its own (Buffer.alloc is never pooled), like the digest a computed hash is.
  const copy = Buffer.alloc(logged.byteLength);
  copy.set(logged);
  remember(record, BODY_HASH, copy);
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
