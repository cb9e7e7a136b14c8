
import { mulberry32 as seededRandom } from "@t4dm/testkit";

export { seededRandom };
/** A standard normal sample (Box–Muller). */
export function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export function normalize(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const x of vector) norm += x * x;
  norm = Math.sqrt(norm);
  return vector.map((x) => x / norm);
}

export function unitVector(values: readonly number[]): Float32Array {
  return normalize(Float32Array.from(values));
}

export function randomUnit(random: () => number, dimensions: number): Float32Array {
  return normalize(Float32Array.from({ length: dimensions }, () => gaussian(random)));
}

/** Cosine similarity in double precision, the reference the stores are checked against. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}
