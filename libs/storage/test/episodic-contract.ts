import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bm25, documentTerms, lexicalTerms, queryTerms } from "@t4dm/learning";
import type { EpisodicStore, StoredMemory, StoreFilter } from "../src/index.js";
import { ids, memory, sorted } from "./support/memories.js";
import { cosine, randomUnit, seededRandom, unitVector } from "./support/vectors.js";

/** Every implementation is opened with this dimension by the suite's `make`. */
export const CONTRACT_DIMENSIONS = 8;

export interface EpisodicHarness {
  /** An initialised store over fresh, empty data. */
  store: EpisodicStore;
  /**
   * A new, initialised store over the same data. The suite calls it both after
   * `close()` and without closing the old store first (a crash, as far as
   * the data is concerned); the harness closes what is still open in cleanup.
   */
  reopen: () => Promise<EpisodicStore>;
  /** Closes every store the harness opened and removes the data. */
  cleanup: () => Promise<void>;
  /** Opens the same data configured for another dimension; must reject. Leave out if the backend cannot be opened that way. */
  reopenWithDimensions?: (dimensions: number) => Promise<EpisodicStore>;
}

const D = CONTRACT_DIMENSIONS;
const A = "ns-a";
const B = "ns-b";
const T0 = Date.UTC(2025, 0, 1);
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
/** A unit vector along axis i (mixed with a little of axis j when given). */
const axis = (i: number, j?: number, mix = 0) => unitVector(Array.from({ length: D }, (_, n) => (n === i ? 1 : n === j ? mix : 0)));

/** The contract of `EpisodicStore` (see its doc comment), as tests any implementation must pass. */
export function describeEpisodicContract(name: string, make: (options: { dimensions: number }) => Promise<EpisodicHarness>): void {
  describe(`EpisodicStore contract: ${name}`, () => {
    let harness: EpisodicHarness;
    let store: EpisodicStore;

    beforeEach(async () => {
      harness = await make({ dimensions: D });
      store = harness.store;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    describe("upsert and get", () => {
      it("round-trips every field", async () => {
        const full = memory({
          id: "m-full",
          namespace: A,
          kind: 2,
          content: "the whole memory, ünïcödé included",
          embedding: axis(0, 1, 0.5),
          metadata: { source: "chat", turn: 7, ratio: 0.25, flag: true, nested: { deep: ["x", 1] } },
          importance: 0.75,
          createTime: at(1),
          expireTime: at(90),
          evidence: 1.5,
          accessCount: 3,
          lastAccessTime: at(5),
          rewardSum: 2.5,
          rewardCount: 2,
          clusterId: 42,
        });
        await store.upsert([full]);
        expect(await store.get(A, "m-full")).toEqual(full);
      });

      it("leaves optional times absent", async () => {
        await store.upsert([memory({ id: "m", embedding: axis(0) })]);
        const got = await store.get(A, "m");
        expect(got?.expireTime).toBeUndefined();
        expect(got?.lastAccessTime).toBeUndefined();
      });

      it("is idempotent by id: writing the same memory twice leaves one copy", async () => {
        const m = memory({ id: "m", embedding: axis(0) });
        await store.upsert([m]);
        await store.upsert([m]);
        expect(await store.count(A)).toBe(1);
        expect(ids(await store.list(A, {}, { limit: 10 }))).toEqual(["m"]);
        expect(ids((await store.search(A, axis(0), 10, {})).map((hit) => hit.memory))).toEqual(["m"]);
      });

      it("replaces an earlier write, vector included", async () => {
        await store.upsert([memory({ id: "m", embedding: axis(0), content: "old", metadata: { v: 1 } })]);
        await store.upsert([memory({ id: "other", embedding: axis(0, 1, 0.2) })]);
        const replacement = memory({ id: "m", embedding: axis(3), content: "new", metadata: { v: 2 }, importance: 0.9 });
        await store.upsert([replacement]);
        expect(await store.get(A, "m")).toEqual(replacement);
        expect(await store.count(A)).toBe(2);
        const hits = await store.search(A, axis(3), 2, {});
        expect(hits[0]?.memory.id).toBe("m");
        expect(hits[0]?.similarity).toBeCloseTo(1, 5);
        // The old vector is gone: searching for it finds m only at its new similarity.
        const old = await store.search(A, axis(0), 2, {});
        expect(old.map((hit) => hit.memory.id)).toEqual(["other", "m"]);
        expect(old[1]?.similarity).toBeCloseTo(0, 5);
        expect(await store.findIds(A, { equals: [{ key: "v", value: 1 }] })).toEqual([]);
        expect(await store.findIds(A, { equals: [{ key: "v", value: 2 }] })).toEqual(["m"]);
      });

      it("keeps the last write of an id repeated within one batch", async () => {
        await store.upsert([memory({ id: "m", embedding: axis(0), content: "first" }), memory({ id: "m", embedding: axis(1), content: "second" })]);
        expect(await store.count(A)).toBe(1);
        expect((await store.get(A, "m"))?.content).toBe("second");
        expect((await store.search(A, axis(1), 1, {}))[0]?.similarity).toBeCloseTo(1, 5);
      });

      it("accepts an empty batch", async () => {
        await store.upsert([]);
        expect(await store.count(A)).toBe(0);
      });

      it("refuses an embedding of another dimension and writes nothing of that batch", async () => {
        const bad = memory({ id: "bad", embedding: new Float32Array(D + 1).fill(0.1) });
        await expect(store.upsert([memory({ id: "good", embedding: axis(0) }), bad])).rejects.toThrow();
        expect(await store.count(A)).toBe(0);
      });

      it("answers undefined for an unknown id", async () => {
        expect(await store.get(A, "nothing")).toBeUndefined();
      });

      it("getMany returns the memories found and leaves out the rest", async () => {
        await store.upsert([memory({ id: "x", embedding: axis(0) }), memory({ id: "y", embedding: axis(1) }), memory({ id: "z", namespace: B, embedding: axis(2) })]);
        expect(sorted(ids(await store.getMany(A, ["y", "missing", "x", "z"])))).toEqual(["x", "y"]);
        expect(await store.getMany(A, [])).toEqual([]);
        expect(ids(await store.getMany(B, ["x", "z"]))).toEqual(["z"]);
      });

      it("init() again is harmless", async () => {
        await store.upsert([memory({ id: "m", embedding: axis(0) })]);
        await store.init();
        expect(await store.count(A)).toBe(1);
      });
    });

    describe("namespaces", () => {
      beforeEach(async () => {
        await store.upsert([
          memory({ id: "shared", namespace: A, embedding: axis(0), content: "A's", metadata: { tag: "t" } }),
          memory({ id: "only-a", namespace: A, embedding: axis(1), metadata: { tag: "t" } }),
          memory({ id: "shared", namespace: B, embedding: axis(0), content: "B's", metadata: { tag: "t" } }),
          memory({ id: "only-b", namespace: B, embedding: axis(0, 1, 0.1), metadata: { tag: "t" } }),
        ]);
      });

      it("the same id in two namespaces is two memories", async () => {
        expect((await store.get(A, "shared"))?.content).toBe("A's");
        expect((await store.get(B, "shared"))?.content).toBe("B's");
        await store.upsert([memory({ id: "shared", namespace: B, embedding: axis(5), content: "B's again" })]);
        expect((await store.get(A, "shared"))?.content).toBe("A's");
        expect((await store.get(A, "shared"))?.embedding).toEqual(axis(0));
      });

      it("get, getMany, count, findIds, list and search see only their namespace", async () => {
        expect(await store.get(A, "only-b")).toBeUndefined();
        expect(sorted(ids(await store.getMany(A, ["shared", "only-a", "only-b"])))).toEqual(["only-a", "shared"]);
        expect(await store.count(A)).toBe(2);
        expect(await store.count(B)).toBe(2);
        expect(await store.count("ns-empty")).toBe(0);
        expect(sorted(await store.findIds(A, { equals: [{ key: "tag", value: "t" }] }))).toEqual(["only-a", "shared"]);
        const listed = await store.list(B, {}, { limit: 10 });
        expect(sorted(ids(listed))).toEqual(["only-b", "shared"]);
        expect(listed.every((m) => m.namespace === B)).toBe(true);
        const hits = await store.search(A, axis(0), 10, {});
        expect(sorted(hits.map((hit) => hit.memory.id))).toEqual(["only-a", "shared"]);
        expect(hits.every((hit) => hit.memory.namespace === A)).toBe(true);
        expect(await store.search("ns-empty", axis(0), 10, {})).toEqual([]);
      });

      it("delete and recordAccess touch only their namespace", async () => {
        await store.delete(A, ["shared", "only-b"]);
        expect(await store.get(A, "shared")).toBeUndefined();
        expect(await store.get(B, "shared")).toBeDefined();
        expect(await store.get(B, "only-b")).toBeDefined();
        await store.recordAccess(A, [{ id: "only-b", accessCount: 9, lastAccessTime: at(3), rewardSum: 1, rewardCount: 1 }]);
        expect((await store.get(B, "only-b"))?.accessCount).toBe(0);
        expect(await store.count(B)).toBe(2);
      });
    });

    describe("delete", () => {
      it("removes memories from every read", async () => {
        await store.upsert([memory({ id: "keep", embedding: axis(0), metadata: { k: 1 } }), memory({ id: "drop", embedding: axis(0, 1, 0.05), metadata: { k: 1 } })]);
        await store.delete(A, ["drop"]);
        expect(await store.get(A, "drop")).toBeUndefined();
        expect(await store.getMany(A, ["drop"])).toEqual([]);
        expect(await store.count(A)).toBe(1);
        expect(await store.findIds(A, { equals: [{ key: "k", value: 1 }] })).toEqual(["keep"]);
        expect(ids(await store.list(A, {}, { limit: 10 }))).toEqual(["keep"]);
        expect((await store.search(A, axis(0, 1, 0.05), 10, {})).map((hit) => hit.memory.id)).toEqual(["keep"]);
      });

      it("of ids that are not there is not an error (replays repeat it)", async () => {
        await store.delete(A, ["never-was"]);
        await store.delete(A, []);
        await store.upsert([memory({ id: "m", embedding: axis(0) })]);
        await store.delete(A, ["m", "never-was"]);
        await store.delete(A, ["m"]);
        expect(await store.count(A)).toBe(0);
      });

      it("then upsert again brings the memory back", async () => {
        await store.upsert([memory({ id: "m", embedding: axis(0) })]);
        await store.delete(A, ["m"]);
        await store.upsert([memory({ id: "m", embedding: axis(2) })]);
        const hits = await store.search(A, axis(2), 5, {});
        expect(hits.map((hit) => hit.memory.id)).toEqual(["m"]);
        expect(hits[0]?.similarity).toBeCloseTo(1, 5);
      });
    });

    describe("findIds filters", () => {
      beforeEach(async () => {
        await store.upsert([
          memory({ id: "e1", kind: 1, embedding: axis(0), createTime: at(10), metadata: { color: "red", n: 1, ok: true, score: 0.5 } }),
          memory({ id: "e2", kind: 1, embedding: axis(1), createTime: at(20), metadata: { color: "blue", n: 2, ok: false, score: 1.5 } }),
          memory({ id: "w1", kind: 2, embedding: axis(2), createTime: at(30), expireTime: at(100), metadata: { color: "red", n: "1", score: 2.5 } }),
          memory({ id: "w2", kind: 2, embedding: axis(3), createTime: at(40), expireTime: at(200), metadata: { color: "red", n: 1, ok: 1, score: "3" } }),
          memory({ id: "s1", kind: 3, embedding: axis(4), createTime: at(50), metadata: {} }),
        ]);
      });
      const find = async (filter: StoreFilter) => sorted(await store.findIds(A, filter));

      it("no filter matches everything", async () => {
        expect(await find({})).toEqual(["e1", "e2", "s1", "w1", "w2"]);
        expect(await find({ kinds: [], equals: [], ranges: [] })).toEqual(["e1", "e2", "s1", "w1", "w2"]);
      });

      it("kinds", async () => {
        expect(await find({ kinds: [2] })).toEqual(["w1", "w2"]);
        expect(await find({ kinds: [1, 3] })).toEqual(["e1", "e2", "s1"]);
        expect(await find({ kinds: [4] })).toEqual([]);
      });

      it("equality on strings, numbers and booleans, by type", async () => {
        expect(await find({ equals: [{ key: "color", value: "red" }] })).toEqual(["e1", "w1", "w2"]);
        expect(await find({ equals: [{ key: "n", value: 1 }] })).toEqual(["e1", "w2"]);
        expect(await find({ equals: [{ key: "n", value: "1" }] })).toEqual(["w1"]);
        expect(await find({ equals: [{ key: "ok", value: true }] })).toEqual(["e1"]);
        expect(await find({ equals: [{ key: "ok", value: false }] })).toEqual(["e2"]);
        expect(await find({ equals: [{ key: "missing", value: "red" }] })).toEqual([]);
        expect(
          await find({
            equals: [
              { key: "color", value: "red" },
              { key: "n", value: 1 },
            ],
          }),
        ).toEqual(["e1", "w2"]);
      });

      it("inclusive numeric ranges; non-numbers never match", async () => {
        expect(await find({ ranges: [{ key: "score", gte: 1.5 }] })).toEqual(["e2", "w1"]);
        expect(await find({ ranges: [{ key: "score", lte: 1.5 }] })).toEqual(["e1", "e2"]);
        expect(await find({ ranges: [{ key: "score", gte: 0.5, lte: 2.5 }] })).toEqual(["e1", "e2", "w1"]);
        expect(await find({ ranges: [{ key: "score", gte: 2.6 }] })).toEqual([]);
        expect(await find({ ranges: [{ key: "n", gte: 0, lte: 10 }] })).toEqual(["e1", "e2", "w2"]);
      });

      it("inclusive create-time bounds", async () => {
        expect(await find({ createdAfter: at(20) })).toEqual(["e2", "s1", "w1", "w2"]);
        expect(await find({ createdBefore: at(20) })).toEqual(["e1", "e2"]);
        expect(await find({ createdAfter: at(20), createdBefore: at(30) })).toEqual(["e2", "w1"]);
        expect(await find({ createdAfter: at(21), createdBefore: at(29) })).toEqual([]);
      });

      it("aliveAt leaves out memories expired at or before the instant", async () => {
        expect(await find({ aliveAt: at(99) })).toEqual(["e1", "e2", "s1", "w1", "w2"]);
        expect(await find({ aliveAt: at(100) })).toEqual(["e1", "e2", "s1", "w2"]);
        expect(await find({ aliveAt: at(500) })).toEqual(["e1", "e2", "s1"]);
      });

      it("every part must hold", async () => {
        const filter: StoreFilter = {
          kinds: [1, 2],
          equals: [{ key: "color", value: "red" }],
          ranges: [{ key: "score", gte: 0 }],
          createdAfter: at(0),
          createdBefore: at(35),
          aliveAt: at(150),
        };
        expect(await find(filter)).toEqual(["e1"]);
      });
    });

    describe("search", () => {
      it("returns at most k hits, best first, with their cosine similarity", async () => {
        const random = seededRandom(7);
        const all = Array.from({ length: 40 }, (_, i) => memory({ id: `m${String(i).padStart(2, "0")}`, embedding: randomUnit(random, D) }));
        await store.upsert(all);
        const query = randomUnit(random, D);
        const expected = all
          .map((m) => ({ id: m.id, similarity: cosine(query, m.embedding) }))
          .sort((a, b) => b.similarity - a.similarity)
          .slice(0, 5);
        const hits = await store.search(A, query, 5, {});
        expect(hits.map((hit) => hit.memory.id)).toEqual(expected.map((e) => e.id));
        hits.forEach((hit, i) => expect(hit.similarity).toBeCloseTo(expected[i]!.similarity, 5));
        expect(hits[0]?.memory).toEqual(all.find((m) => m.id === expected[0]!.id));
      });

      it("breaks ties by id", async () => {
        await store.upsert(["t-c", "t-a", "t-d", "t-b"].map((id) => memory({ id, embedding: axis(0) })));
        const hits = await store.search(A, axis(0), 3, {});
        expect(hits.map((hit) => hit.memory.id)).toEqual(["t-a", "t-b", "t-c"]);
      });

      it("returns everything when k exceeds the namespace, and nothing for k = 0", async () => {
        await store.upsert([memory({ id: "p", embedding: axis(0) }), memory({ id: "q", embedding: axis(1) })]);
        expect((await store.search(A, axis(1), 100, {})).map((hit) => hit.memory.id)).toEqual(["q", "p"]);
        expect(await store.search(A, axis(1), 0, {})).toEqual([]);
      });

      it("applies the filter, kinds and aliveAt", async () => {
        await store.upsert([
          memory({ id: "near-red", kind: 1, embedding: axis(0), metadata: { color: "red" } }),
          memory({ id: "near-blue", kind: 1, embedding: axis(0, 1, 0.1), metadata: { color: "blue" } }),
          memory({ id: "far-red", kind: 1, embedding: axis(1), metadata: { color: "red" } }),
          memory({ id: "working", kind: 2, embedding: axis(0, 1, 0.05), expireTime: at(10), metadata: { color: "red" } }),
        ]);
        const red = await store.search(A, axis(0), 10, { equals: [{ key: "color", value: "red" }] });
        expect(red.map((hit) => hit.memory.id)).toEqual(["near-red", "working", "far-red"]);
        const episodic = await store.search(A, axis(0), 10, { kinds: [1] });
        expect(episodic.map((hit) => hit.memory.id)).toEqual(["near-red", "near-blue", "far-red"]);
        const alive = await store.search(A, axis(0), 10, { aliveAt: at(10) });
        expect(alive.map((hit) => hit.memory.id)).toEqual(["near-red", "near-blue", "far-red"]);
        const stillAlive = await store.search(A, axis(0), 10, { aliveAt: at(9) });
        expect(stillAlive.map((hit) => hit.memory.id)).toEqual(["near-red", "working", "near-blue", "far-red"]);
      });

      it("finds a small namespace's memories beside a large one", async () => {
        const random = seededRandom(11);
        const big = Array.from({ length: 400 }, (_, i) => memory({ id: `big-${i}`, namespace: A, embedding: randomUnit(random, D) }));
        const small = Array.from({ length: 6 }, (_, i) => memory({ id: `small-${i}`, namespace: B, embedding: randomUnit(random, D) }));
        await store.upsert([...big, ...small]);
        const query = randomUnit(random, D);
        const expected = small.map((m) => ({ id: m.id, s: cosine(query, m.embedding) })).sort((a, b) => b.s - a.s);
        const hits = await store.search(B, query, 4, {});
        expect(hits.map((hit) => hit.memory.id)).toEqual(expected.slice(0, 4).map((e) => e.id));
      });

      it("refuses a query of another dimension", async () => {
        await store.upsert([memory({ id: "m", embedding: axis(0) })]);
        await expect(store.search(A, new Float32Array(D + 2).fill(0.3), 3, {})).rejects.toThrow();
      });
    });

    describe("lexicalSearch", () => {
      // The same tokenizer the service uses for queries.
      const terms = (text: string) => queryTerms(text);
      const texts: Record<string, string> = {
        cat: "Alice adopted a cat named Tom",
        dog: "Bob walks his dog every morning before work",
        cats: "The cat cat cat sat on the mat",
        deploy: "Tom wrote the deploy pipeline",
        cafe: "Meet at the Café Crème at noon",
      };
      const seed = () =>
        store.upsert(Object.entries(texts).map(([id, content], i) => memory({ id, namespace: A, content, embedding: axis(i % D), createTime: at(i) })));

      it("finds memories holding any term, best BM25 first, with the namespace's statistics", async () => {
        await seed();
        const result = await store.lexicalSearch(A, terms("what pet does Alice have"), 10, {});
        expect(ids(result.hits.map((hit) => hit.memory))).toEqual(["cat"]);
        expect(result.hits[0]!.bm25).toBeGreaterThan(0);
        expect(result.hits[0]!.memory.content).toBe(texts.cat);
        expect(result.corpus.documents).toBe(5);
        expect(result.corpus.totalLength).toBe(Object.values(texts).reduce((sum, text) => sum + lexicalTerms(text).length, 0));
        expect(result.corpus.documentFrequency).toEqual(new Map([["pet", 0], ["alice", 1]]));
        // Rarer term outweighs a common one; repetition counts, with saturation.
        const both = await store.lexicalSearch(A, terms("cat tom"), 10, {});
        expect(ids(both.hits.map((hit) => hit.memory))).toEqual(["cat", "cats", "deploy"]);
        const expected = bm25(["cat", "tom"], documentTerms(texts.cat!), {
          documents: both.corpus.documents,
          totalLength: both.corpus.totalLength,
          documentFrequency: both.corpus.documentFrequency,
        });
        expect(both.hits[0]!.bm25).toBeCloseTo(expected, 5);
      });

      it("folds case and diacritics, and returns nothing for no terms or k = 0", async () => {
        await seed();
        expect(ids((await store.lexicalSearch(A, terms("CAFE creme"), 10, {})).hits.map((hit) => hit.memory))).toEqual(["cafe"]);
        expect((await store.lexicalSearch(A, [], 10, {})).hits).toEqual([]);
        expect((await store.lexicalSearch(A, terms("cat"), 0, {})).hits).toEqual([]);
        expect(ids((await store.lexicalSearch(A, terms("cat"), 1, {})).hits.map((hit) => hit.memory))).toEqual(["cats"]);
      });

      it("sees only its namespace, in results and in statistics", async () => {
        await seed();
        const before = await store.lexicalSearch(A, terms("alice"), 10, {});
        await store.upsert(Array.from({ length: 6 }, (_, i) => memory({ id: `b-${i}`, namespace: B, content: "alice alice everywhere", embedding: axis(0) })));
        const after = await store.lexicalSearch(A, terms("alice"), 10, {});
        expect(after).toEqual(before);
        expect(ids((await store.lexicalSearch(B, terms("alice"), 10, {})).hits.map((hit) => hit.memory))).toHaveLength(6);
      });

      it("applies the filter before ranking: the k best among matches that pass", async () => {
        await seed();
        await store.upsert([memory({ id: "cat-work", namespace: A, content: "a cat", kind: 2, metadata: { topic: "work" }, embedding: axis(1), createTime: at(30) })]);
        const filtered = await store.lexicalSearch(A, terms("cat"), 1, { kinds: [2] });
        expect(ids(filtered.hits.map((hit) => hit.memory))).toEqual(["cat-work"]);
        expect(ids((await store.lexicalSearch(A, terms("cat"), 1, { equals: [{ key: "topic", value: "work" }] })).hits.map((h) => h.memory))).toEqual(["cat-work"]);
        expect(ids((await store.lexicalSearch(A, terms("cat"), 5, { createdBefore: at(1) })).hits.map((h) => h.memory))).toEqual(["cat"]);
        // Statistics stay the namespace's, whatever the filter.
        expect(filtered.corpus.documents).toBe(6);
      });

      it("finds the k best matches passing a selective filter even when hundreds of better matches fail it", async () => {
        // 300 short memories match "cat" better than the 3 long ones the filter keeps.
        const many = Array.from({ length: 300 }, (_, i) => memory({ id: `m-${i}`, namespace: A, content: `cat ${i}`, embedding: axis(i % D) }));
        const wordy = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(" ");
        const kept = [10, 20, 30].map((n) => memory({ id: `kept-${n}`, namespace: A, content: `cat ${wordy(n)}`, metadata: { topic: "rare" }, embedding: axis(1) }));
        await store.upsert([...many, ...kept]);
        const found = await store.lexicalSearch(A, terms("cat"), 2, { equals: [{ key: "topic", value: "rare" }] });
        expect(ids(found.hits.map((hit) => hit.memory))).toEqual(["kept-10", "kept-20"]);
        expect(found.corpus.documentFrequency.get("cat")).toBe(303);
      });

      it("ranks as exact BM25 when a common term rides along with rare ones, and falls back to every term when the rare ones pass too few", async () => {
        // "report" is in every memory, "outage" in 8 of 100: the rare term picks candidates, both score them.
        const contents = Array.from({ length: 100 }, (_, i) => (i % 12 === 0 || i === 7 ? `outage report ${"detail ".repeat(i % 5)}number ${i}` : `weekly report number ${i}`));
        await store.upsert(contents.map((content, i) => memory({ id: `r-${i}`, namespace: A, content, metadata: { odd: i % 2 === 1 }, embedding: axis(i % D) })));
        const query = terms("outage report");
        const found = await store.lexicalSearch(A, query, 5, {});
        const corpus = { documents: found.corpus.documents, totalLength: found.corpus.totalLength, documentFrequency: found.corpus.documentFrequency };
        const exact = contents
          .map((content, i) => ({ id: `r-${i}`, score: bm25(query, documentTerms(content), corpus) }))
          .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
          .slice(0, 5);
        expect(found.hits.map((hit) => hit.memory.id)).toEqual(exact.map((e) => e.id));
        found.hits.forEach((hit, i) => expect(hit.bm25).toBeCloseTo(exact[i]!.score, 5));
        // One "outage" memory (r-7) has an odd number: the rare term picks one candidate the filter passes,
        // fewer than k, so the common term's memories must be considered too.
        const odd = await store.lexicalSearch(A, query, 3, { equals: [{ key: "odd", value: true }] });
        expect(odd.hits.map((hit) => hit.memory.id)[0]).toBe("r-7");
        expect(odd.hits).toHaveLength(3);
        expect(odd.hits.slice(1).every((hit) => hit.memory.content.startsWith("weekly report"))).toBe(true);
      });

      it("keeps document frequencies exact across inserts, replacements and deletions between searches", async () => {
        await seed();
        const frequency = async () => (await store.lexicalSearch(A, terms("cat"), 10, {})).corpus.documentFrequency.get("cat");
        expect(await frequency()).toBe(2);
        await store.upsert([memory({ id: "kitten", namespace: A, content: "a cat, small", embedding: axis(2) })]);
        expect(await frequency()).toBe(3);
        await store.upsert([memory({ id: "cats", namespace: A, content: "no felines here, concatenated", embedding: axis(3) })]);
        expect(await frequency()).toBe(2);
        await store.delete(A, ["cat"]);
        expect(await frequency()).toBe(1);
        await store.upsert([memory({ id: "b-cat", namespace: B, content: "cat", embedding: axis(0) })]);
        expect(await frequency()).toBe(1);
      });

      it("follows replacements and deletions", async () => {
        await seed();
        await store.upsert([memory({ id: "cat", namespace: A, content: "Alice now keeps parrots", embedding: axis(0) })]);
        expect((await store.lexicalSearch(A, terms("alice"), 10, {})).hits.map((hit) => hit.memory.content)).toEqual(["Alice now keeps parrots"]);
        await store.delete(A, ["cat"]);
        const gone = await store.lexicalSearch(A, terms("alice parrots"), 10, {});
        expect(gone.hits).toEqual([]);
        expect(gone.corpus.documents).toBe(4);
      });
    });

    describe("list", () => {
      // Two memories share each create time, so the id breaks the tie.
      const seed = () =>
        Array.from({ length: 10 }, (_, i) => memory({ id: `id-${String(9 - i)}`, embedding: axis(i % D), createTime: at(Math.floor(i / 2)), kind: (i % 2) + 1 }));
      const order = (memories: readonly StoredMemory[]) =>
        [...memories].sort((a, b) => a.createTime.getTime() - b.createTime.getTime() || (a.id < b.id ? -1 : 1)).map((m) => m.id);

      it("pages in (createTime, id) order with an exclusive cursor", async () => {
        const all = seed();
        await store.upsert(all);
        const seen: string[] = [];
        let after: { createTime: Date; id: string } | undefined;
        for (let pages = 0; pages < 10; pages++) {
          const page = await store.list(A, {}, { after, limit: 3 });
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(3);
          seen.push(...ids(page));
          const last = page.at(-1)!;
          after = { createTime: last.createTime, id: last.id };
        }
        expect(seen).toEqual(order(all));
        expect(await store.list(A, {}, { limit: 0 })).toEqual([]);
      });

      it("stays stable across inserts after the cursor", async () => {
        const all = seed();
        await store.upsert(all);
        const first = await store.list(A, {}, { limit: 4 });
        const last = first.at(-1)!;
        // One before the cursor, one at its time with a smaller id, one at its time with a larger id, one later.
        const inserted = [
          memory({ id: "late-before", embedding: axis(0), createTime: at(-5) }),
          memory({ id: "id-0000", embedding: axis(0), createTime: last.createTime }),
          memory({ id: "zz-same-time", embedding: axis(0), createTime: last.createTime }),
          memory({ id: "late-after", embedding: axis(0), createTime: at(60) }),
        ];
        await store.upsert(inserted);
        const rest: string[] = [];
        let after = { createTime: last.createTime, id: last.id };
        for (;;) {
          const page = await store.list(A, {}, { after, limit: 4 });
          if (page.length === 0) break;
          rest.push(...ids(page));
          after = { createTime: page.at(-1)!.createTime, id: page.at(-1)!.id };
        }
        const expectedRest = order([...all, ...inserted]).filter((id) => {
          const m = [...all, ...inserted].find((x) => x.id === id)!;
          const t = m.createTime.getTime();
          return t > last.createTime.getTime() || (t === last.createTime.getTime() && id > last.id);
        });
        expect(rest).toEqual(expectedRest);
        expect([...ids(first), ...rest]).toEqual(expect.arrayContaining(ids(all)));
        expect(rest).toContain("zz-same-time");
        expect(rest).toContain("late-after");
        expect(rest).not.toContain("late-before");
        expect(rest).not.toContain("id-0000");
      });

      it("applies the filter", async () => {
        const all = seed();
        await store.upsert(all);
        const page = await store.list(A, { kinds: [2] }, { limit: 100 });
        expect(ids(page)).toEqual(order(all.filter((m) => m.kind === 2)));
      });
    });

    it("count counts the namespace", async () => {
      expect(await store.count(A)).toBe(0);
      await store.upsert(Array.from({ length: 7 }, (_, i) => memory({ id: `c${i}`, embedding: axis(i % D) })));
      await store.upsert([memory({ id: "other", namespace: B, embedding: axis(0) })]);
      expect(await store.count(A)).toBe(7);
      await store.delete(A, ["c1", "c2"]);
      expect(await store.count(A)).toBe(5);
    });

    it("namespaces lists every namespace holding a memory, sorted", async () => {
      expect(await store.namespaces()).toEqual([]);
      await store.upsert([memory({ id: "b1", namespace: B, embedding: axis(0) }), memory({ id: "a1", embedding: axis(1) }), memory({ id: "a2", kind: 2, embedding: axis(2) })]);
      expect(await store.namespaces()).toEqual([A, B]);
      await store.delete(B, ["b1"]);
      expect(await store.namespaces()).toEqual([A]);
    });

    it("recordAccess updates the statistics only, all of one call's updates, skipping missing ids", async () => {
      const m = memory({ id: "m", embedding: axis(0), content: "unchanged" });
      const n = memory({ id: "n", embedding: axis(1), content: "also unchanged" });
      await store.upsert([m, n]);
      await store.recordAccess(A, [
        { id: "m", accessCount: 4, lastAccessTime: at(33), rewardSum: 1.75, rewardCount: 3 },
        { id: "missing", accessCount: 1, lastAccessTime: at(1), rewardSum: 0, rewardCount: 0 },
        { id: "n", accessCount: 1, lastAccessTime: at(34), rewardSum: -0.5, rewardCount: 1 },
      ]);
      expect(await store.get(A, "m")).toEqual({ ...m, accessCount: 4, lastAccessTime: at(33), rewardSum: 1.75, rewardCount: 3 });
      expect(await store.get(A, "n")).toEqual({ ...n, accessCount: 1, lastAccessTime: at(34), rewardSum: -0.5, rewardCount: 1 });
      await store.recordAccess(A, []);
      expect(await store.count(A)).toBe(2);
    });

    it("health reports, and never throws (not even once closed)", async () => {
      const health = await store.health();
      expect(health).toMatchObject({ backend: store.backend, healthy: true });
      expect(health.store).not.toBe("");
      await store.close();
      const after = await store.health();
      expect(typeof after.healthy).toBe("boolean");
      expect(after.backend).toBe(store.backend);
    });

    describe("durability", () => {
      const random = seededRandom(3);
      const batch = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => memory({ id: `${prefix}-${i}`, embedding: randomUnit(random, D), createTime: at(i) }));
      const snapshot = async (s: EpisodicStore, namespaces: readonly string[]) =>
        Object.fromEntries(await Promise.all(namespaces.map(async (ns) => [ns, await s.list(ns, {}, { limit: 10_000 })] as const)));

      it("survives close and reopen: rows, vectors and statistics", async () => {
        await store.upsert([...batch("a", 30), ...batch("b", 5).map((m) => ({ ...m, namespace: B }))]);
        await store.delete(A, ["a-3", "a-4"]);
        await store.upsert([memory({ id: "a-5", embedding: axis(6), content: "replaced" })]);
        await store.recordAccess(A, [{ id: "a-6", accessCount: 2, lastAccessTime: at(7), rewardSum: 0.5, rewardCount: 1 }]);
        const query = randomUnit(random, D);
        const before = { rows: await snapshot(store, [A, B]), hits: await store.search(A, query, 5, {}) };
        await store.close();
        const reopened = await harness.reopen();
        expect(await snapshot(reopened, [A, B])).toEqual(before.rows);
        expect(await reopened.search(A, query, 5, {})).toEqual(before.hits);
        expect((await reopened.search(A, axis(6), 1, {}))[0]?.memory.id).toBe("a-5");
        expect(await reopened.count(A)).toBe(28);
        await reopened.upsert([memory({ id: "after", embedding: axis(7) })]);
        expect((await reopened.search(A, axis(7), 1, {}))[0]?.memory.id).toBe("after");
      });

      it("survives a reopen without close (a crash): every resolved write is there and searchable", async () => {
        await store.upsert(batch("a", 25));
        await store.delete(A, ["a-0"]);
        await store.upsert([memory({ id: "a-1", embedding: axis(5), content: "replaced" })]);
        const query = randomUnit(random, D);
        const before = { rows: await snapshot(store, [A]), hits: await store.search(A, query, 6, {}) };
        const reopened = await harness.reopen();
        expect(await snapshot(reopened, [A])).toEqual(before.rows);
        expect(await reopened.search(A, query, 6, {})).toEqual(before.hits);
        expect((await reopened.search(A, axis(5), 1, {}))[0]?.memory.id).toBe("a-1");
        expect((await reopened.search(A, query, 100, {})).map((hit) => hit.memory.id)).not.toContain("a-0");
        expect((await reopened.health()).healthy).toBe(true);
      });

      it("refuses to reopen the data with another dimension", async (context) => {
        if (!harness.reopenWithDimensions) return context.skip();
        await store.upsert([memory({ id: "m", embedding: axis(0) })]);
        await store.close();
        await expect(harness.reopenWithDimensions(D * 2)).rejects.toThrow(/dimension/i);
        const reopened = await harness.reopen();
        expect(await reopened.count(A)).toBe(1);
      });
    });
  });
}
