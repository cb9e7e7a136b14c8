import { describe, expect, it } from "vitest";
import { DocumentFrequencies, termFrequency } from "../src/embedded/document-frequencies.js";

describe("termFrequency", () => {
  it("counts whole terms only, at the ends and in the middle", () => {
    expect(termFrequency("cat concat cat cats scat cat", "cat")).toBe(3);
    expect(termFrequency("cat", "cat")).toBe(1);
    expect(termFrequency("", "cat")).toBe(0);
    expect(termFrequency("cats", "cat")).toBe(0);
    expect(termFrequency("tom cat", "tom cat")).toBe(1);
  });
});

describe("DocumentFrequencies", () => {
  it("asks once per term and namespace until the namespace changes", () => {
    const cache = new DocumentFrequencies();
    const asked: string[] = [];
    const count = (namespace: string) => (term: string) => {
      asked.push(`${namespace}/${term}`);
      return term.length;
    };
    expect(cache.lookup("a", ["cat", "mouse"], count("a"))).toEqual(new Map([["cat", 3], ["mouse", 5]]));
    expect(cache.lookup("a", ["cat"], count("a"))).toEqual(new Map([["cat", 3]]));
    cache.lookup("b", ["cat"], count("b"));
    cache.changed("a");
    cache.lookup("a", ["cat"], count("a"));
    cache.lookup("b", ["cat"], count("b"));
    expect(asked).toEqual(["a/cat", "a/mouse", "b/cat", "a/cat"]);
  });

  it("stays within its capacity by starting over", () => {
    const cache = new DocumentFrequencies(2);
    let asked = 0;
    const count = () => ++asked;
    cache.lookup("a", ["x", "y"], count);
    cache.lookup("a", ["z"], count);
    cache.lookup("a", ["x", "z"], count);
    expect(asked).toBe(4);
  });
});
