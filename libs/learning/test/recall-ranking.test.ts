import { describe, expect, it } from "vitest";
import { walV1 } from "@t4dm/proto";
import { bm25, corpusOf, documentTerms, embedText, planRemember, queryTerms, rankRecall, type BufferedItem, type RecallInput } from "../src/index.js";
import { Driver, mulberry32 } from "./support/driver.js";

const DIM = 64;
const NS = "ns";
const CONTENTS = ["Alice adopted a cat named Tom", "What does Bob have for lunch?", "What does the office have in the kitchen?", "the deploy pipeline runs on Fridays"];

function setUp(): Driver {
  const driver = new Driver(mulberry32(3));
  driver.start({ seed: 5, embeddingDim: DIM, bufferCapacity: 50 });
  CONTENTS.forEach((content, i) => {
    const time = driver.now();
    const plan = planRemember(
      driver.state,
      { namespace: NS, content, kind: i === 3 ? walV1.MemoryKind.MEMORY_KIND_WORKING : walV1.MemoryKind.MEMORY_KIND_EPISODIC, metadata: {}, importance: 0.5, embedding: embedText(content, DIM), always: true, requestId: "" },
      driver.context(time),
    );
    driver.commit(plan.operations, time);
  });
  return driver;
}

const input = (text: string, extra: Partial<RecallInput> = {}): RecallInput => ({
  namespace: NS,
  query: embedText(text, DIM),
  queryTerms: queryTerms(text),
  topK: 10,
  minScore: -Infinity,
  filter: {},
  ...extra,
});
const contents = (results: { item: BufferedItem }[]) => results.map((r) => r.item.memory.content);

describe("rankRecall", () => {
  const driver = setUp();
  const now = new Date(Date.UTC(2026, 0, 2));

  it("HYBRID lets the keyword side lift a memory the vector side ranks low", () => {
    // The hashing embedder of these tests ranks Bob's lunch first (it shares "what does ... have");
    // the cat memory holds every term of the query.
    const query = "what does Alice have, a cat?";
    expect(contents(rankRecall(driver.state, input(query, { mode: "semantic" }), now))[0]).not.toBe(CONTENTS[0]);
    const hybrid = rankRecall(driver.state, input(query, { mode: "hybrid" }), now);
    expect(contents(hybrid)[0]).toBe(CONTENTS[0]);
    expect(hybrid[0]!.signals.lexicalRank).toBe(1);
  });

  it("ranks the same whichever memory has the smaller id, when BM25 barely prefers the other", () => {
    // BM25 prefers the shorter "Alice is vegetarian" (the same one shared term), the vector side the
    // cat: a reciprocal rank fusion would tie them (1/2 against 2/1). Both insertion orders (so both
    // id orders) must agree, and the embedding must decide.
    const unit = (x: number, y: number) => Float32Array.from({ length: DIM }, (_, i) => (i === 0 ? x : i === 1 ? y : 0));
    const memories = [
      // Far enough apart (cosine 0.8) not to be merged as near-duplicates.
      { content: "Alice adopted a cat", embedding: unit(0.9, Math.sqrt(0.19)) },
      { content: "Alice is vegetarian", embedding: unit(Math.sqrt(0.19), 0.9) },
    ];
    for (const order of [memories, [...memories].reverse()]) {
      const tied = new Driver(mulberry32(3));
      tied.start({ seed: 5, embeddingDim: DIM, bufferCapacity: 50 });
      for (const { content, embedding } of order) {
        const time = tied.now();
        const plan = planRemember(
          tied.state,
          { namespace: NS, content, kind: walV1.MemoryKind.MEMORY_KIND_EPISODIC, metadata: {}, importance: 0.5, embedding, always: true, requestId: "" },
          tied.context(time),
        );
        tied.commit(plan.operations, time);
      }
      const ranked = rankRecall(tied.state, input("what pet does Alice have", { mode: "hybrid", query: unit(1, 0) }), tied.now());
      expect(ranked[1]!.signals.bm25).toBeGreaterThan(ranked[0]!.signals.bm25);
      expect(contents(ranked)).toEqual(["Alice adopted a cat", "Alice is vegetarian"]);
    }
  });

  it("ranks a HYBRID query without keyword terms exactly as SEMANTIC, cosine as the base", () => {
    for (const text of ["what does it have", "deploy"]) {
      const semantic = rankRecall(driver.state, input(text, { mode: "semantic" }), now);
      const noTerms = rankRecall(driver.state, input(text, { mode: "hybrid", queryTerms: [] }), now);
      expect(noTerms.map((r) => [r.item.memory.id, r.score])).toEqual(semantic.map((r) => [r.item.memory.id, r.score]));
      expect(semantic.every((r) => r.score === Math.fround(r.similarity))).toBe(true);
    }
  });

  it("an untrained scorer adds nothing to the fused base, so it cannot reorder the fused list", () => {
    const results = rankRecall(driver.state, input("what does Alice have, a cat?", { mode: "hybrid" }), now);
    expect(results.length).toBe(CONTENTS.length);
    for (const r of results) {
      expect(r.signals.correction).toBe(0);
      expect(r.score).toBe(Math.fround(r.signals.fused));
      expect(r.signals.fused).toBeGreaterThanOrEqual(0);
      expect(r.signals.fused).toBeLessThanOrEqual(1);
    }
    const fused = results.map((r) => r.signals.fused);
    expect(fused).toEqual([...fused].sort((a, b) => b - a));
  });

  it("KEYWORD returns only memories sharing a term", () => {
    expect(contents(rankRecall(driver.state, input("deploy Fridays", { mode: "keyword" }), now))).toEqual([CONTENTS[3]]);
  });

  it("applies the filter before ranking: top 1 of the working memories, not the top 1 filtered", () => {
    const results = rankRecall(driver.state, input("what pet does Alice have", { mode: "hybrid", topK: 1, filter: { kinds: [walV1.MemoryKind.MEMORY_KIND_WORKING] } }), now);
    expect(contents(results)).toEqual([CONTENTS[3]]);
  });

  it("scores buffered memories against buffer and store statistics as one corpus", () => {
    const terms = queryTerms("alice cat");
    const alone = rankRecall(driver.state, input("alice cat", { mode: "keyword" }), now)[0]!;
    // The store holds 20 more memories, each mentioning Alice (and none a cat): the statistics change.
    const stored = Array.from({ length: 20 }, () => documentTerms("Alice says hello"));
    const withStore = rankRecall(driver.state, input("alice cat", { mode: "keyword", storedLexical: { items: [], corpus: corpusOf(stored, terms) } }), now)[0]!;
    expect(withStore.item.memory.content).toBe(CONTENTS[0]);
    expect(withStore.signals.bm25).not.toBeCloseTo(alone.signals.bm25, 3);
    const union = corpusOf([...CONTENTS.map(documentTerms), ...stored], terms);
    expect(withStore.signals.bm25).toBeCloseTo(bm25(terms, documentTerms(CONTENTS[0]!), union), 12);
  });
});
