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

/** Cosine similarity; 0 when either vector is zero. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const denominator = norm(a) * norm(b);
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
