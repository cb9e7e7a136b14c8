import { describe, expect, it } from "vitest";
import { addCorpora, bm25, corpusOf, idf } from "../src/lexical/bm25.js";
import { fuse, RRF_K } from "../src/lexical/fusion.js";
import { documentTerms, lexicalTerms, lexicalTokens, queryTerms } from "../src/lexical/tokenizer.js";

describe("the lexical tokenizer", () => {
  it("folds case and diacritics as FTS5 unicode61 remove_diacritics 2 does, and splits on punctuation", () => {
    expect(lexicalTokens("Café CRÈME, naïve_user@example.org: 42°C")).toEqual(["cafe", "creme", "naive", "user", "example", "org", "42", "c"]);
  });

  it("drops stop words from documents and queries alike, and dedupes query terms", () => {
    expect(lexicalTerms("What pet does Alice have?")).toEqual(["pet", "alice"]);
    expect(queryTerms("alice ALICE pet")).toEqual(["alice", "pet"]);
    expect(queryTerms("what is the")).toEqual([]);
    expect(documentTerms("Alice has a cat; the cat is old")).toEqual({ length: 4, counts: new Map([["alice", 1], ["cat", 2], ["old", 1]]) });
  });
});

describe("BM25", () => {
  const docs = ["alice has a cat named tom", "bob walks his dog every morning", "the cat sat on the mat", "tom builds the deploy pipeline"].map(documentTerms);

  it("ranks a rare term above a common one and rewards repetition with saturation", () => {
    const corpus = corpusOf(docs, ["cat", "alice"]);
    expect(corpus.documentFrequency.get("cat")).toBe(2);
    expect(corpus.documents).toBe(4);
    const [alice, , mat] = docs.map((d) => bm25(["cat", "alice"], d, corpus));
    expect(alice).toBeGreaterThan(mat!);
    expect(bm25(["zebra"], docs[0]!, corpusOf(docs, ["zebra"]))).toBe(0);
    const once = bm25(["cat"], documentTerms("cat dog"), corpus);
    const twice = bm25(["cat"], documentTerms("cat cat"), corpus);
    expect(twice).toBeGreaterThan(once);
    expect(twice).toBeLessThan(2 * once);
  });

  it("has a positive IDF even for a term in every document", () => {
    expect(idf(4, 4)).toBeGreaterThan(0);
    expect(idf(4, 1)).toBeGreaterThan(idf(4, 3));
  });

  it("scores the same over two corpora added as over their union", () => {
    const terms = ["cat", "tom"];
    const union = corpusOf(docs, terms);
    const split = addCorpora(corpusOf(docs.slice(0, 1), terms), corpusOf(docs.slice(1), terms));
    expect(split).toEqual(union);
    for (const d of docs) expect(bm25(terms, d, split)).toBe(bm25(terms, d, union));
  });
});

describe("fusion", () => {
  const candidates = [
    { id: "a", cosine: 0.9, bm25: 0 },
    { id: "b", cosine: 0.5, bm25: 2.5 },
    { id: "c", cosine: 0.7, bm25: 1 },
  ];

  it("fuses by reciprocal rank, scaled so first in both lists is 1", () => {
    const fused = fuse("hybrid", candidates);
    expect(fused.map((f) => [f.vectorRank, f.lexicalRank])).toEqual([[1, undefined], [3, 1], [2, 2]]);
    const best = 2 / (RRF_K + 1);
    expect(fused[0]!.fused).toBeCloseTo(1 / (RRF_K + 1) / best, 12);
    expect(fused[1]!.fused).toBeCloseTo((1 / (RRF_K + 3) + 1 / (RRF_K + 1)) / best, 12);
    // Second in both lists beats first in one.
    expect(fused[2]!.fused).toBeGreaterThan(fused[0]!.fused);
    expect(fuse("hybrid", [{ id: "x", cosine: 1, bm25: 9 }])[0]!.fused).toBe(1);
  });

  it("keeps cosine as the base in SEMANTIC mode and ranks only matches in KEYWORD mode", () => {
    expect(fuse("semantic", candidates).map((f) => f.fused)).toEqual([0.9, 0.5, 0.7]);
    expect(fuse("semantic", candidates).every((f) => f.lexicalRank === undefined)).toBe(true);
    const keyword = fuse("keyword", candidates);
    expect(keyword.map((f) => f.lexicalRank)).toEqual([undefined, 1, 2]);
    expect(keyword[1]!.fused).toBe(1);
    expect(keyword[0]!.fused).toBe(0);
  });

  it("gives equal values the same rank, so the other list decides", () => {
    const tied = fuse("hybrid", [{ id: "b", cosine: 0.5, bm25: 1 }, { id: "a", cosine: 0.5, bm25: 1 }]);
    expect(tied.map((f) => f.vectorRank)).toEqual([1, 1]);
    expect(tied[0]!.fused).toBe(tied[1]!.fused);
    // "what pet does Alice have": BM25 cannot tell the two Alice memories apart (one shared term, same
    // length); the vector list can, and whichever id is smaller must not matter.
    for (const [cat, diet] of [["a-cat", "b-diet"], ["b-cat", "a-diet"]] as const) {
      const [catFused, dietFused] = fuse("hybrid", [
        { id: cat, cosine: 0.6, bm25: 0.8 },
        { id: diet, cosine: 0.4, bm25: 0.8 },
      ]);
      expect(catFused!.lexicalRank).toBe(1);
      expect(dietFused!.lexicalRank).toBe(1);
      expect(catFused!.fused).toBeGreaterThan(dietFused!.fused);
    }
    const competition = fuse("keyword", [3, 5, 5, 1].map((bm25, i) => ({ id: `m${i}`, cosine: 0, bm25 })));
    expect(competition.map((f) => f.lexicalRank)).toEqual([3, 1, 1, 4]);
  });
});
