import type { walV1 } from "@t4dm/proto";
import { memoryEmbedding, ownedVector } from "./packed-floats.js";
import { requestBodyHash } from "./request-match.js";

/**
 * What applying a memory record builds from the record alone: its canonical
 * form, its float32 vector and its request body hash. The sequencer applies
 * each decoded entry twice — to the projected state when proposed and to the
 * durable state when acknowledged — so the second apply reuses what the first
 * built instead of copying, unpacking and hashing again. Keyed by the decoded
 * record object (a replay decodes fresh objects and builds its own). The
 * results are shared by both states, so they are never changed in place:
 * every update replaces an item's `memory` or `embedding` whole.
 */
export interface BuiltMemory {
  memory: walV1.MemoryRecord;
  embedding: Float32Array;
}

const builtMemories = new WeakMap<walV1.MemoryRecord, BuiltMemory>();
const bodyHashes = new WeakMap<walV1.MemoryRecord, Uint8Array>();

export function builtMemory(record: walV1.MemoryRecord): BuiltMemory {
  let built = builtMemories.get(record);
  if (!built) {
    built = buildMemory(record);
    builtMemories.set(record, built);
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
  let hash = bodyHashes.get(record);
  if (!hash) {
    hash = requestBodyHash(record);
    bodyHashes.set(record, hash);
  }
  return hash;
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
