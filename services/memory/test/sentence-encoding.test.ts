import { describe, expect, it } from "vitest";
import { fitToWindow, meanPoolNormalize, padBatch } from "../dist/embedding/sentence-encoding.js";

describe("fitToWindow", () => {
  it("keeps maxTokens - 2 content ids between [CLS] and [SEP], and says when it cut", () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => 1000 + i);
    expect(fitToWindow(ids(254), 256, 101, 102)).toMatchObject({ truncated: false });
    expect(fitToWindow(ids(254), 256, 101, 102).ids).toHaveLength(256);
    const cut = fitToWindow(ids(255), 256, 101, 102);
    expect(cut.truncated).toBe(true);
    expect(cut.ids).toHaveLength(256);
    expect(cut.ids[0]).toBe(101);
    expect(cut.ids.at(-2)).toBe(1253);
    expect(cut.ids.at(-1)).toBe(102);
    expect(fitToWindow([], 256, 101, 102)).toEqual({ ids: [101, 102], truncated: false });
  });
});

describe("padBatch", () => {
  it("pads to the longest row only, with mask 0 on the padding", () => {
    const batch = padBatch([[101, 7, 102], [101, 102]], 0);
    expect(batch.sequence).toBe(3);
    expect([...batch.inputIds]).toEqual([101n, 7n, 102n, 101n, 102n, 0n]);
    expect([...batch.attentionMask]).toEqual([1n, 1n, 1n, 1n, 1n, 0n]);
    expect([...batch.tokenTypeIds]).toEqual([0n, 0n, 0n, 0n, 0n, 0n]);
  });
});

describe("meanPoolNormalize", () => {
  it("averages the real tokens only and returns unit vectors", () => {
    // Row 0: tokens (1,0) and (3,0); row 1: token (0,2) and a padding token (100,100) that must not count.
    const hidden = Float32Array.from([1, 0, 3, 0, 0, 2, 100, 100]);
    const mask = BigInt64Array.from([1n, 1n, 1n, 0n]);
    const [a, b] = meanPoolNormalize(hidden, mask, 2, 2, 2);
    expect([...a!]).toEqual([1, 0]);
    expect([...b!]).toEqual([0, 1]);
  });
});
