import { describe, expect, it } from "vitest";
import { termFrequency } from "../src/embedded/term-frequency.js";

describe("termFrequency", () => {
  it("counts whole terms only, at the ends and in the middle", () => {
    expect(termFrequency("cat concat cat cats scat cat", "cat")).toBe(3);
    expect(termFrequency("cat", "cat")).toBe(1);
    expect(termFrequency("", "cat")).toBe(0);
    expect(termFrequency("cats", "cat")).toBe(0);
    expect(termFrequency("bobcat cat", "cat")).toBe(1);
  });
});
