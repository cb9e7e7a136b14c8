/** Small vector helpers over Float32Array; results are plain numbers (doubles). */

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) sum += a[i]! * b[i]!;
  return sum;
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/**
 * The norm of a vector that is never mutated after creation (buffer
 * embeddings), remembered by identity: novelty compares every Remember with
 * every buffered item, and recomputing both norms tripled that cost.
 */
const norms = new WeakMap<Float32Array, number>();
export function frozenNorm(a: Float32Array): number {
  let n = norms.get(a);
  if (n === undefined) {
    n = norm(a);
    norms.set(a, n);
  }
  return n;
}

/** Cosine similarity; 0 when either vector is zero. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return cosineWithNorms(a, norm(a), b, norm(b));
}

/** Cosine similarity from norms the caller already has; 0 when either is zero. */
export function cosineWithNorms(a: ArrayLike<number>, normA: number, b: ArrayLike<number>, normB: number): number {
  const denominator = normA * normB;
  return denominator === 0 ? 0 : dot(a, b) / denominator;
}

/** A unit-length copy (float32); a zero vector stays zero. */
export function normalize(a: ArrayLike<number>): Float32Array {
  const length = norm(a);
  const out = new Float32Array(a.length);
  if (length === 0) return out;
  for (let i = 0; i < a.length; i++) out[i] = a[i]! / length;
  return out;
}

export function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}
