import { describe, expect, it } from "vitest";
import { embedText, validateEmbedding } from "../src/embedder.js";
import { cosine, norm } from "../src/vector.js";

const DIM = 384;

/**
 * The feature hashing written out from its description, with TextEncoder for
 * UTF-8, for a text of one word: w:<word> at 1.0 and each c:<trigram> of
 * "<word>" at 0.3, bucket FNV-1a % dim, sign from murmur3's finalizer.
 */
function referenceOneWord(word: string, dim: number): Float32Array {
  const fnv = (text: string): number => {
    let hash = 0x811c9dc5;
    for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
    return hash;
  };
  const mix = (h0: number): number => {
    let h = Math.imul(h0 ^ (h0 >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  const chars = Array.from(`<${word}>`);
  const features: [string, number][] = [[`w:${word}`, 1]];
  for (let i = 0; i + 3 <= chars.length; i++) features.push([`c:${chars.slice(i, i + 3).join("")}`, 0.3]);
  const sum = new Float64Array(dim);
  for (const [feature, weight] of features) {
    const h = fnv(feature);
    sum[h % dim] = sum[h % dim]! + ((mix(h) & 1) === 0 ? weight : -weight);
  }
  const length = Math.hypot(...sum);
  return Float32Array.from(sum, (x) => x / length);
}

describe("embedText", () => {
  it("is deterministic and unit length", () => {
    const text = "Remember that the deploy key rotates every Friday.";
    const a = embedText(text, DIM);
    expect(a).toBeInstanceOf(Float32Array);
    expect(a).toHaveLength(DIM);
    expect(embedText(text, DIM)).toEqual(a);
    expect(norm(a)).toBeCloseTo(1, 6);
  });

  it("respects the requested dimension and refuses nonsense ones", () => {
    for (const dim of [1, 7, 64, 1536]) {
      const v = embedText("dimension check", dim);
      expect(v).toHaveLength(dim);
      expect(norm(v)).toBeCloseTo(1, 6);
    }
    expect(() => embedText("x", 0)).toThrow(RangeError);
    expect(() => embedText("x", 2.5)).toThrow(RangeError);
  });

  it("puts similar texts closer than unrelated ones", () => {
    const cat = embedText("the cat sat on the mat", DIM);
    const aCat = embedText("a cat sat on a mat", DIM);
    const tax = embedText("quarterly tax filing deadline", DIM);
    expect(cosine(cat, aCat)).toBeGreaterThan(0.4);
    expect(Math.abs(cosine(cat, tax))).toBeLessThan(0.15);
    expect(cosine(cat, aCat)).toBeGreaterThan(cosine(cat, tax) + 0.3);
    // Character trigrams relate word forms that share no whole word.
    expect(cosine(embedText("running quickly", DIM), embedText("runner quick", DIM))).toBeGreaterThan(
      cosine(embedText("running quickly", DIM), embedText("banana bread", DIM)) + 0.1,
    );
  });

  it("sees word order through bigrams", () => {
    const a = embedText("dog bites man", DIM);
    const b = embedText("man bites dog", DIM);
    expect(cosine(a, b)).toBeGreaterThan(0.5);
    expect(cosine(a, b)).toBeLessThan(0.99);
  });

  it("ignores case, punctuation and compatibility forms", () => {
    const plain = embedText("cafe deja vu", DIM);
    expect(embedText("CAFE, Deja-Vu!", DIM)).toEqual(plain);
    expect(embedText("ＣＡＦＥ deja vu", DIM)).toEqual(plain);
    expect(embedText("Café", DIM)).toEqual(embedText("cafe\u0301", DIM));
  });

  it("tokenizes any script", () => {
    for (const text of ["Привет мир", "東京タワー", "مرحبا بالعالم", "हिन्दी भाषा"]) {
      expect(norm(embedText(text, DIM))).toBeCloseTo(1, 6);
    }
    expect(cosine(embedText("Привет мир", DIM), embedText("привет, мир", DIM))).toBeCloseTo(1, 6);
  });

  it("hashes UTF-8 with FNV-1a as documented", () => {
    for (const word of ["ab", "zoë", "日本", "\u{10428}x"]) {
      expect(embedText(word, 1024)).toEqual(referenceOneWord(word, 1024));
    }
  });

  it("gives the zero vector for text without words", () => {
    for (const text of ["", "   ", "?!… -- 🙂 ***"]) {
      const v = embedText(text, 16);
      expect(v).toHaveLength(16);
      expect(Array.from(v).every((x) => x === 0)).toBe(true);
    }
  });

  it("matches the golden vector, so stored embeddings stay comparable", () => {
    // Changing any feature, weight or hash changes this; bump the embedder
    // version instead of editing it, or old embeddings stop lining up.
    const bytes = Buffer.from(embedText("Hello, world!", 16).buffer).toString("hex");
    expect(bytes).toBe(
      "547d073f00000000659622be00000000547d073f6596223e659622be659622be00000000659622be6596223e6596a23e659622be659622be0000000076afbd3e",
    );
  });
});

describe("validateEmbedding", () => {
  it("accepts a usable embedding", () => {
    expect(validateEmbedding([0, 0.5, -2], 3)).toBeUndefined();
    expect(validateEmbedding(embedText("fine", 8), 8)).toBeUndefined();
  });

  it("names what is wrong", () => {
    expect(validateEmbedding([1, 2], 3)).toBe("embedding has 2 dimensions, expected 3");
    expect(validateEmbedding([1, Number.NaN, 3], 3)).toBe("embedding value at index 1 is NaN");
    expect(validateEmbedding([1, 2, Number.NEGATIVE_INFINITY], 3)).toBe("embedding value at index 2 is infinite");
    expect(validateEmbedding([1e39, 0, 0], 3)).toBe("embedding value at index 0 is too large for float32");
    expect(validateEmbedding([0, 0, 0], 3)).toBe("embedding is all zeros");
    expect(validateEmbedding(embedText("", 3), 3)).toBe("embedding is all zeros");
    // Non-zero as a double, zero once stored as float32.
    expect(validateEmbedding([1e-50, 0, 0], 3)).toBe("embedding is all zeros");
  });
});
