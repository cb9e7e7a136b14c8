import { StoreInputError } from "../errors.js";

/** The embedding's float32 bytes, as SQLite stores them (platform byte order: little-endian on every target we ship). */
export function toBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** Copies, because SQLite's buffer may not be 4-byte aligned and is reused. */
export function fromBlob(blob: Buffer): Float32Array {
  const bytes = new Uint8Array(blob.byteLength);
  bytes.set(blob);
  return new Float32Array(bytes.buffer);
}

/** Cosine similarity in double precision; 0 when either vector is zero. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

export function checkEmbedding(vector: Float32Array, dimensions: number, what: string): void {
  if (!(vector instanceof Float32Array)) throw new StoreInputError(`${what} must be a Float32Array`);
  if (vector.length !== dimensions) throw new StoreInputError(`${what} has ${vector.length} dimensions; this store holds ${dimensions}`);
  for (const x of vector) if (!Number.isFinite(x)) throw new StoreInputError(`${what} has a non-finite component`);
}

/** Milliseconds since the epoch; a bad Date would otherwise be stored as NULL and silently lost. */
export function millis(date: Date, what: string): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new StoreInputError(`${what} is not a valid Date`);
  return ms;
}
