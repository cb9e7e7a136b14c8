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

/**
 * Cosine over two float32 vectors from known norms, for the buffer scans of
 * every Remember (novelty, near-duplicates). A separate function on purpose:
 * the generic one sees number[] and Float32Array from many call sites and V8
 * compiles its loop for both. Summed in another order than cosineWithNorms,
 * so the last bits may differ: only planning uses it, never replay.
 */
export function cosineFloat32(a: Float32Array, normA: number, b: Float32Array, normB: number): number {
  const denominator = normA * normB;
  if (denominator === 0) return 0;
  // Four running sums: independent additions the CPU overlaps (V8 does not vectorise this loop).
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = Math.min(a.length, b.length);
  const whole = n - (n % 4);
  let i = 0;
  for (; i < whole; i += 4) {
    s0 += a[i]! * b[i]!;
    s1 += a[i + 1]! * b[i + 1]!;
    s2 += a[i + 2]! * b[i + 2]!;
    s3 += a[i + 3]! * b[i + 3]!;
  }
  for (; i < n; i++) s0 += a[i]! * b[i]!;
  return (s0 + s1 + s2 + s3) / denominator;
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
