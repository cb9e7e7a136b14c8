import { describe, expect, it } from "vitest";
import { addCorpora, bm25, corpusOf, idf, idfMass } from "../src/lexical/bm25.js";
import { fuse, HYBRID_ALPHA, lexicalEvidence, RRF_K } from "../src/lexical/fusion.js";
import { documentTerms, lexicalTerms, lexicalTokens, queryTerms } from "../src/lexical/tokenizer.js";
import { mulberry32 } from "./support/driver.js";

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
  const mass = 5;
  const fusedOf = (cosine: number, bm25: number, idfMass = mass) => fuse("hybrid", [{ id: "x", cosine, bm25 }], idfMass)[0]!.fused;

  it("combines clamped cosine and the matched share of the query's idf mass, convexly", () => {
    const fused = fuse("hybrid", candidates, mass);
    expect(fused.map((f) => [f.vectorRank, f.lexicalRank])).toEqual([[1, undefined], [3, 1], [2, 2]]);
    expect(fused[0]!.fused).toBeCloseTo(HYBRID_ALPHA * 0.9, 12);
    expect(fused[1]!.fused).toBeCloseTo(HYBRID_ALPHA * 0.5 + (1 - HYBRID_ALPHA) * (2.5 / mass), 12);
    expect(fusedOf(1, 9)).toBe(1);
    expect(fusedOf(-0.4, 0)).toBe(0);
    // Without query terms there is no lexical scale: only the cosine counts.
    expect(fusedOf(0.6, 3, 0)).toBeCloseTo(HYBRID_ALPHA * 0.6, 12);
  });

  it("stays within [0, 1] and never falls when either signal rises", () => {
    const random = mulberry32(7);
    for (let i = 0; i < 500; i++) {
      const cosine = random() * 2 - 1;
      const bm25 = random() < 0.3 ? 0 : random() * 20;
      const idfMass = 0.1 + random() * 15;
      const base = fusedOf(cosine, bm25, idfMass);
      expect(base).toBeGreaterThanOrEqual(0);
      expect(base).toBeLessThanOrEqual(1);
      expect(fusedOf(Math.min(1, cosine + random() * 0.5), bm25, idfMass)).toBeGreaterThanOrEqual(base);
      expect(fusedOf(cosine, bm25 + random() * 5, idfMass)).toBeGreaterThanOrEqual(base);
    }
  });

  it("measures a lexical match on the query's idf mass: every term once at average length is a full match", () => {
    const docs = ["alice adopted a cat", "bob eats lunch at noon", "the office kitchen has coffee", "alice likes coffee"].map(documentTerms);
    const terms = queryTerms("alice cat coffee");
    const corpus = corpusOf(docs, terms);
    const mass = idfMass(terms, corpus);
    expect(mass).toBeCloseTo(terms.reduce((sum, t) => sum + idf(4, corpus.documentFrequency.get(t)!), 0), 12);
    // A document holding every query term once, at the corpus's average length, scores exactly the mass.
    const average = { length: corpus.totalLength / corpus.documents, counts: new Map(terms.map((t) => [t, 1])) };
    expect(lexicalEvidence(bm25(terms, average, corpus), mass)).toBeCloseTo(1, 12);
    // Holding only "alice" (in two of four documents) is a small share of a query that also asks for a cat.
    const aliceOnly = lexicalEvidence(bm25(terms, docs[3]!, corpus), mass);
    expect(aliceOnly).toBeGreaterThan(0);
    expect(aliceOnly).toBeLessThan(0.7);
    expect(lexicalEvidence(0, mass)).toBe(0);
    expect(lexicalEvidence(50, mass)).toBe(1);
  });

  it("does not let a weak lexical list push out a strong dense match", () => {
    // The vector side's clear first shares no word with the query; the next ten share one common word.
    const pool = [{ id: "strong", cosine: 0.7, bm25: 0 }, ...Array.from({ length: 10 }, (_, i) => ({ id: `weak${i}`, cosine: 0.55 - i * 0.01, bm25: 0.4 }))];
    const fused = fuse("hybrid", pool, 8);
    const best = fused.reduce((b, f, i) => (f.fused > fused[b]!.fused ? i : b), 0);
    expect(pool[best]!.id).toBe("strong");
    // Reciprocal rank fusion put the first weak one ahead: second in one list and first in the other.
    const rrf = (f: { vectorRank?: number; lexicalRank?: number }) => (f.vectorRank ? 1 / (RRF_K + f.vectorRank) : 0) + (f.lexicalRank ? 1 / (RRF_K + f.lexicalRank) : 0);
    expect(rrf(fused[1]!)).toBeGreaterThan(rrf(fused[0]!));
  });

  it("lets a strong exact lexical match lift a memory the dense side missed", () => {
    // Dense ranks it 12th of 12; it holds every rare query term (a full match).
    const pool = [...Array.from({ length: 11 }, (_, i) => ({ id: `dense${i}`, cosine: 0.55 - i * 0.01, bm25: 0 })), { id: "exact", cosine: 0.3, bm25: 8 }];
    const fused = fuse("hybrid", pool, 8);
    expect(fused[11]!.vectorRank).toBe(12);
    expect(fused.every((f, i) => i === 11 || f.fused < fused[11]!.fused)).toBe(true);
  });

  it("keeps cosine as the base in SEMANTIC mode and ranks only matches in KEYWORD mode", () => {
    expect(fuse("semantic", candidates, mass).map((f) => f.fused)).toEqual([0.9, 0.5, 0.7]);
    expect(fuse("semantic", candidates, mass).every((f) => f.lexicalRank === undefined)).toBe(true);
    const keyword = fuse("keyword", candidates, mass);
    expect(keyword.map((f) => f.lexicalRank)).toEqual([undefined, 1, 2]);
    expect(keyword[1]!.fused).toBe(1);
    expect(keyword[2]!.fused).toBeCloseTo((RRF_K + 1) / (RRF_K + 2), 12);
    expect(keyword[0]!.fused).toBe(0);
  });

  it("gives equal values the same rank and the same fused score", () => {
    const tied = fuse("hybrid", [{ id: "b", cosine: 0.5, bm25: 1 }, { id: "a", cosine: 0.5, bm25: 1 }], mass);
    expect(tied.map((f) => f.vectorRank)).toEqual([1, 1]);
    expect(tied[0]!.fused).toBe(tied[1]!.fused);
    // "what pet does Alice have": BM25 cannot tell the two Alice memories apart (one shared term, same
    // length); the vector side can, and whichever id is smaller must not matter.
    for (const [cat, diet] of [["a-cat", "b-diet"], ["b-cat", "a-diet"]] as const) {
      const [catFused, dietFused] = fuse(
        "hybrid",
        [
          { id: cat, cosine: 0.6, bm25: 0.8 },
          { id: diet, cosine: 0.4, bm25: 0.8 },
        ],
        mass,
      );
      expect(catFused!.lexicalRank).toBe(1);
      expect(dietFused!.lexicalRank).toBe(1);
      expect(catFused!.fused).toBeGreaterThan(dietFused!.fused);
    }
    const competition = fuse("keyword", [3, 5, 5, 1].map((bm25, i) => ({ id: `m${i}`, cosine: 0, bm25 })));
    expect(competition.map((f) => f.lexicalRank)).toEqual([3, 1, 1, 4]);
  });
});
