import { describe, expect, it } from "vitest";
import { assembleContext, estimateTokens } from "../src/memory-context.js";

const memory = (id: string, chars: number, score = 1) => ({ id, content: "x".repeat(chars), score });

describe("memory_context assembly", () => {
  it("keeps rank order and every id in front of its memory", () => {
    const context = assembleContext("H", [memory("a", 10), memory("b", 10)], 100);
    expect(context.text).toBe(`H\n\n[a] ${"x".repeat(10)}\n\n[b] ${"x".repeat(10)}`);
    expect(context.includedIds).toEqual(["a", "b"]);
    expect(context.omittedCount).toBe(0);
  });

  it("never exceeds the budget, and a long memory does not crowd out shorter ones below it", () => {
    const candidates = [memory("a", 100), memory("long", 2000), memory("b", 100), memory("c", 100)];
    for (const budget of [1, 10, 40, 60, 80, 120, 500, 1000]) {
      const context = assembleContext("Header line", candidates, budget);
      expect(context.estimatedTokens, `budget ${budget}`).toBeLessThanOrEqual(budget);
      expect(estimateTokens(context.text)).toBe(context.estimatedTokens);
      expect(context.includedIds.length + context.omittedCount).toBe(candidates.length);
    }
    const context = assembleContext("Header line", candidates, 120);
    expect(context.includedIds).toEqual(["a", "b", "c"]);
    expect(context.omittedCount).toBe(1);
  });

  it("is empty when nothing fits or nothing was found", () => {
    expect(assembleContext("Header", [memory("a", 400)], 20)).toMatchObject({ text: "", includedIds: [], omittedCount: 1, estimatedTokens: 0 });
    expect(assembleContext("Header", [], 1000)).toMatchObject({ text: "", includedIds: [] });
  });
});
