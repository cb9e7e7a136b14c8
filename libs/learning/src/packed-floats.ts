import type { walV1 } from "@t4dm/proto";

/**
 * Vectors in WAL records as packed float32 little-endian bytes (the `*_f32`
 * fields). Older records carry the same vectors as `repeated float`; readers
 * take whichever form a record has, so both formats replay. Decoding is one
 * copy into a Float32Array, not a loop over the floats.
 */

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A packed vector whose length is not a whole number of float32s. */
export class PackedFloatsError extends Error {
  constructor(readonly byteLength: number) {
    super(`packed float32 bytes must be a multiple of 4 long, got ${byteLength}`);
    this.name = "PackedFloatsError";
  }
}

/** The bytes of `values` as float32 little-endian (each value rounded to float32). */
export function packFloat32(values: ArrayLike<number>): Uint8Array {
  const floats = Float32Array.from(values);
  if (!LITTLE_ENDIAN_HOST) {
    const bytes = new Uint8Array(floats.length * 4);
    const view = new DataView(bytes.buffer);
    floats.forEach((value, i) => view.setFloat32(i * 4, value, true));
    return bytes;
  }
  return new Uint8Array(floats.buffer);
}

/**
 * An independent Float32Array of packed float32 little-endian bytes. Always a
 * copy: a decoded `bytes` field is a view into its whole message (a recovery
 * batch, a checkpoint body), which a retained vector must not keep alive, and
 * its offset need not be a multiple of 4.
 */
export function unpackFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new PackedFloatsError(bytes.byteLength);
  if (!LITTLE_ENDIAN_HOST) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return Float32Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
  }
  // A fresh, aligned copy (Buffer#slice would be a view, hence the constructor).
  return new Float32Array(new Uint8Array(bytes).buffer);
}

/**
 * One owned copy of packed float32 bytes, as those bytes and as floats. On a
 * little-endian host both are views of the same memory: a replayed memory
 * costs one vector copy instead of two. Neither view is ever written after
 * decoding (a re-embed replaces the vector), so sharing is safe.
 */
export function ownedVector(bytes: Uint8Array): { bytes: Uint8Array; floats: Float32Array } {
  if (bytes.byteLength % 4 !== 0) throw new PackedFloatsError(bytes.byteLength);
  // A fresh buffer at offset 0, so the float view is aligned.
  const owned = new Uint8Array(bytes);
  return { bytes: owned, floats: LITTLE_ENDIAN_HOST ? new Float32Array(owned.buffer) : unpackFloat32(owned) };
}

/** Whichever form the record carries: the packed bytes if present, else the repeated floats. */
export function floatsOf(packed: Uint8Array, repeated: readonly number[]): Float32Array {
  return packed.byteLength > 0 ? unpackFloat32(packed) : Float32Array.from(repeated);
}

/** A memory's embedding, from either form. */
export function memoryEmbedding(memory: walV1.MemoryRecord): Float32Array {
  return floatsOf(memory.embeddingF32, memory.embedding);
}

/** A memory's gate features at admission, from either form (empty for memories without them). */
export function memoryGateFeatures(memory: walV1.MemoryRecord): Float32Array {
  return floatsOf(memory.gateFeaturesF32, memory.gateFeatures);
}

/** A cluster update's or concept's centroid, from either form. */
export function centroidOf(record: Pick<walV1.ClusterUpdate, "centroid" | "centroidF32">): Float32Array {
  return floatsOf(record.centroidF32, record.centroid);
}

const EMPTY = new Uint8Array(0);

/** The memory with its vectors in the packed form (a no-op for one already packed). */
export function packMemory(memory: walV1.MemoryRecord): walV1.MemoryRecord {
  if (memory.embedding.length === 0 && memory.gateFeatures.length === 0) return memory;
  return {
    ...memory,
    embedding: [],
    embeddingF32: memory.embedding.length > 0 ? packFloat32(memory.embedding) : memory.embeddingF32 ?? EMPTY,
    gateFeatures: [],
    gateFeaturesF32: memory.gateFeatures.length > 0 ? packFloat32(memory.gateFeatures) : memory.gateFeaturesF32 ?? EMPTY,
  };
}

/** The cluster update with its centroid in the packed form. */
export function packClusterUpdate(update: walV1.ClusterUpdate): walV1.ClusterUpdate {
  if (update.centroid.length === 0) return update;
  return { ...update, centroid: [], centroidF32: packFloat32(update.centroid) };
}

/** The re-embedded vector in the packed form. */
export function packMemoryEmbedding(memory: walV1.MemoryEmbedding): walV1.MemoryEmbedding {
  if (memory.embedding.length === 0) return memory;
  return { ...memory, embedding: [], embeddingF32: packFloat32(memory.embedding) };
}
