import { describe, expect, it } from "vitest";
import { cosine, cosineFloat32, norm } from "../src/vector.js";
import { Prng } from "../src/prng.js";

describe("cosineFloat32", () => {
  it("agrees with the generic cosine on every length, including ones not a multiple of four", () => {
    const prng = Prng.fromSeed(3);
    for (const length of [1, 2, 3, 4, 5, 7, 8, 383, 384, 385]) {
      const a = Float32Array.from({ length }, () => prng.nextFloat() - 0.5);
      const b = Float32Array.from({ length }, () => prng.nextFloat() - 0.5);
      expect(cosineFloat32(a, norm(a), b, norm(b))).toBeCloseTo(cosine(a, b), 12);
    }
  });

  it("is 0 when either vector is zero", () => {
    const zero = new Float32Array(8);
    const one = Float32Array.from({ length: 8 }, () => 1);
    expect(cosineFloat32(zero, 0, one, norm(one))).toBe(0);
    expect(cosineFloat32(one, norm(one), zero, 0)).toBe(0);
  });
});
