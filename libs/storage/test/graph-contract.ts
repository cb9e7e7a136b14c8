import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bm25, documentTerms, queryTerms } from "@t4dm/learning";
import type { FactInput, FactQuery, GraphStore, MemoryNode, ProcedureInput, StoredFact, StoredMemory } from "../src/index.js";
import { sorted } from "./support/memories.js";
import { unitVector } from "./support/vectors.js";

export interface GraphHarness {
  /** An initialised store over fresh, empty data. */
  store: GraphStore;
  /** A new, initialised store over the same data; the suite closes the old one first. */
  reopen: () => Promise<GraphStore>;
  /** Closes every store the harness opened and removes the data. */
  cleanup: () => Promise<void>;
}

const A = "ns-a";
const B = "ns-b";
const T0 = Date.UTC(2025, 0, 1);
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const D = 8;
const axis = (i: number) => unitVector(Array.from({ length: D }, (_, n) => (n === i ? 1 : 0)));

let factIds = 0;
function fact(overrides: Partial<FactInput> & { subject: string; object: string }): FactInput {
  factIds++;
  return {
    id: `fact-${String(factIds).padStart(4, "0")}`,
    namespace: A,
    predicate: "works_at",
    confidence: 0.9,
    validStartTime: at(0),
    recordTime: at(0),
    metadata: {},
    ...overrides,
  };
}

function procedure(overrides: Partial<ProcedureInput> & { id: string; name: string }): ProcedureInput {
  return {
    namespace: A,
    trigger: `when ${overrides.name} is needed`,
    triggerEmbedding: axis(0),
    steps: [{ action: "do it", tool: "shell", expectedOutcome: "done" }],
    metadata: {},
    now: at(0),
    ...overrides,
  };
}

/** The contract of `GraphStore` (see its doc comment), as tests any implementation must pass. */
export function describeGraphContract(name: string, make: () => Promise<GraphHarness>): void {
  describe(`GraphStore contract: ${name}`, () => {
    let harness: GraphHarness;
    let store: GraphStore;

    beforeEach(async () => {
      harness = await make();
      store = harness.store;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    const query = (overrides: Partial<FactQuery> & { asOf: Date }): Promise<StoredFact[]> =>
      store.queryFacts({ namespace: A, includeHistory: false, limit: 100, ...overrides });

    describe("facts", () => {
      it("stores a new fact as open and returns it", async () => {
        const input = fact({ subject: "ada", object: "acme", metadata: { source: "chat" } });
        const { fact: stored, closed } = await store.upsertFact(input);
        expect(stored).toEqual(input);
        expect(stored.validEndTime).toBeUndefined();
        expect(closed).toEqual([]);
        expect(await query({ asOf: at(1) })).toEqual([input]);
      });

      it("a contradiction closes the open fact at the new validStart, on two timelines", async () => {
        const first = fact({ subject: "ada", object: "acme", validStartTime: at(0), recordTime: at(0) });
        await store.upsertFact(first);
        const second = fact({ subject: "ada", object: "globex", validStartTime: at(60), recordTime: at(90) });
        const { fact: stored, closed } = await store.upsertFact(second);
        expect(stored).toEqual(second);
        expect(closed).toEqual([{ ...first, validEndTime: at(60) }]);

        expect(await query({ asOf: at(30) })).toEqual([{ ...first, validEndTime: at(60) }]);
        expect(await query({ asOf: at(59) })).toEqual([{ ...first, validEndTime: at(60) }]);
        // validEnd is exclusive and validStart inclusive: at the switch only the new fact holds.
        expect(await query({ asOf: at(60) })).toEqual([second]);
        expect(await query({ asOf: at(120) })).toEqual([second]);
        expect(await query({ asOf: at(-1) })).toEqual([]);
        expect(await query({ asOf: at(-1), includeHistory: true })).toEqual([{ ...first, validEndTime: at(60) }, second]);
      });

      it("a third value closes the second and leaves the first as it was", async () => {
        const f1 = fact({ subject: "ada", object: "acme", validStartTime: at(0), recordTime: at(0) });
        const f2 = fact({ subject: "ada", object: "globex", validStartTime: at(10), recordTime: at(10) });
        const f3 = fact({ subject: "ada", object: "initech", validStartTime: at(20), recordTime: at(20) });
        await store.upsertFact(f1);
        await store.upsertFact(f2);
        const { closed } = await store.upsertFact(f3);
        expect(closed).toEqual([{ ...f2, validEndTime: at(20) }]);
        expect(await query({ asOf: at(5), includeHistory: true })).toEqual([
          { ...f1, validEndTime: at(10) },
          { ...f2, validEndTime: at(20) },
          f3,
        ]);
        expect((await query({ asOf: at(15) })).map((f) => f.object)).toEqual(["globex"]);
      });

      it("re-asserting the open fact changes only its confidence and metadata", async () => {
        const original = fact({ subject: "ada", object: "acme", confidence: 0.5, metadata: { v: 1 }, validStartTime: at(0), recordTime: at(0) });
        await store.upsertFact(original);
        const again = fact({ subject: "ada", object: "acme", confidence: 0.8, metadata: { v: 2 }, validStartTime: at(30), recordTime: at(30) });
        const { fact: stored, closed } = await store.upsertFact(again);
        const expected = { ...original, confidence: 0.8, metadata: { v: 2 } };
        expect(stored).toEqual(expected);
        expect(closed).toEqual([]);
        expect(await query({ asOf: at(40), includeHistory: true })).toEqual([expected]);
      });

      it("a replay of the same fact (same id) changes nothing, even after the fact was closed", async () => {
        const f1 = fact({ subject: "ada", object: "acme", validStartTime: at(0), recordTime: at(0) });
        const f2 = fact({ subject: "ada", object: "globex", validStartTime: at(10), recordTime: at(10) });
        await store.upsertFact(f1);
        await store.upsertFact(f2);
        const history = await query({ asOf: at(0), includeHistory: true });
        expect(await store.upsertFact(f2)).toEqual({ fact: f2, closed: [] });
        expect((await store.upsertFact(f1)).closed).toEqual([]);
        expect(await query({ asOf: at(0), includeHistory: true })).toEqual(history);
      });

      it("another subject or predicate is another timeline", async () => {
        await store.upsertFact(fact({ subject: "ada", object: "acme" }));
        await store.upsertFact(fact({ subject: "bob", object: "globex" }));
        await store.upsertFact(fact({ subject: "ada", predicate: "lives_in", object: "paris" }));
        const open = await query({ asOf: at(1) });
        expect(sorted(open.map((f) => `${f.subject} ${f.predicate} ${f.object}`))).toEqual(["ada lives_in paris", "ada works_at acme", "bob works_at globex"]);
        expect(open.every((f) => f.validEndTime === undefined)).toBe(true);
      });

      it("an assertion older than the open fact is stored as history, ending where the open fact starts", async () => {
        const current = fact({ subject: "ada", object: "globex", validStartTime: at(100), recordTime: at(100) });
        await store.upsertFact(current);
        const older = fact({ subject: "ada", object: "acme", validStartTime: at(10), recordTime: at(200) });
        const { fact: stored, closed } = await store.upsertFact(older);
        expect(closed).toEqual([]);
        expect(stored).toEqual({ ...older, validEndTime: at(100) });
        expect(await query({ asOf: at(50) })).toEqual([{ ...older, validEndTime: at(100) }]);
        expect(await query({ asOf: at(150) })).toEqual([current]);
      });

      it("filters by subject, predicate and object", async () => {
        await store.upsertFact(fact({ subject: "ada", object: "acme" }));
        await store.upsertFact(fact({ subject: "bob", object: "acme" }));
        await store.upsertFact(fact({ subject: "ada", predicate: "likes", object: "tea" }));
        expect((await query({ asOf: at(1), subject: "ada" })).length).toBe(2);
        expect((await query({ asOf: at(1), predicate: "works_at" })).length).toBe(2);
        expect((await query({ asOf: at(1), object: "acme" })).map((f) => f.subject).sort()).toEqual(["ada", "bob"]);
        expect((await query({ asOf: at(1), subject: "ada", predicate: "likes", object: "tea" })).length).toBe(1);
        expect(await query({ asOf: at(1), subject: "nobody" })).toEqual([]);
      });

      it("pages in (recordTime, id) order with an exclusive cursor", async () => {
        const all: FactInput[] = [];
        for (let i = 0; i < 9; i++) {
          // Pairs share a record time, so the id breaks the tie.
          all.push(fact({ subject: `s${i}`, object: "o", recordTime: at(Math.floor(i / 2)) }));
        }
        for (const f of [...all].reverse()) await store.upsertFact(f);
        const seen: string[] = [];
        let after: { recordTime: Date; id: string } | undefined;
        for (let pages = 0; pages < 10; pages++) {
          const page = await query({ asOf: at(1000), after, limit: 4 });
          if (page.length === 0) break;
          seen.push(...page.map((f) => f.id));
          after = { recordTime: page.at(-1)!.recordTime, id: page.at(-1)!.id };
        }
        const expected = [...all].sort((a, b) => a.recordTime.getTime() - b.recordTime.getTime() || (a.id < b.id ? -1 : 1)).map((f) => f.id);
        expect(seen).toEqual(expected);
      });

      it("never crosses namespaces", async () => {
        await store.upsertFact(fact({ subject: "ada", object: "acme", namespace: A }));
        const { closed } = await store.upsertFact(fact({ subject: "ada", object: "globex", namespace: B, validStartTime: at(5) }));
        expect(closed).toEqual([]);
        expect((await query({ asOf: at(10) })).map((f) => f.object)).toEqual(["acme"]);
        expect((await store.queryFacts({ namespace: B, asOf: at(10), includeHistory: true, limit: 10 })).map((f) => f.object)).toEqual(["globex"]);
      });
    });

    describe("procedures", () => {
      it("creates a procedure with empty statistics", async () => {
        const input = procedure({ id: "p1", name: "deploy", metadata: { team: "ops" }, now: at(1) });
        const stored = await store.upsertProcedure(input);
        const { now: _now, ...definition } = input;
        expect(stored).toEqual({ ...definition, successCount: 0, executionCount: 0, createTime: at(1), updateTime: at(1) });
        expect(await store.getProcedure(A, "p1")).toEqual(stored);
      });

      it("is unique by name: an upsert keeps the id and statistics and replaces the definition", async () => {
        await store.upsertProcedure(procedure({ id: "p1", name: "deploy", now: at(1) }));
        await store.recordOutcome(A, "p1", true, at(2));
        await store.recordOutcome(A, "p1", false, at(3));
        const replaced = await store.upsertProcedure(
          procedure({
            id: "p-new-id",
            name: "deploy",
            trigger: "ship it",
            triggerEmbedding: axis(3),
            steps: [
              { action: "build", tool: "make", expectedOutcome: "artifact" },
              { action: "push", tool: "kubectl", expectedOutcome: "rolled out" },
            ],
            metadata: { v: 2 },
            now: at(4),
          }),
        );
        expect(replaced).toMatchObject({ id: "p1", name: "deploy", trigger: "ship it", metadata: { v: 2 }, successCount: 1, executionCount: 2, createTime: at(1), updateTime: at(4) });
        expect(replaced.triggerEmbedding).toEqual(axis(3));
        expect(replaced.steps).toHaveLength(2);
        expect(await store.getProcedure(A, "p-new-id")).toBeUndefined();
        expect((await store.listProcedures(A)).map((p) => p.id)).toEqual(["p1"]);
      });

      it("recordOutcome counts executions and successes; unknown ids give undefined", async () => {
        await store.upsertProcedure(procedure({ id: "p1", name: "deploy" }));
        expect(await store.recordOutcome(A, "p1", true, at(5))).toMatchObject({ successCount: 1, executionCount: 1 });
        expect(await store.recordOutcome(A, "p1", false, at(6))).toMatchObject({ successCount: 1, executionCount: 2 });
        expect(await store.recordOutcome(A, "p1", true, at(7))).toMatchObject({ successCount: 2, executionCount: 3 });
        expect(await store.recordOutcome(A, "missing", true, at(8))).toBeUndefined();
        expect(await store.recordOutcome(B, "p1", true, at(8))).toBeUndefined();
        expect(await store.getProcedure(A, "p1")).toMatchObject({ successCount: 2, executionCount: 3 });
      });

      it("lists and gets per namespace; the same name in two namespaces is two procedures", async () => {
        await store.upsertProcedure(procedure({ id: "p1", name: "deploy", namespace: A }));
        await store.upsertProcedure(procedure({ id: "p2", name: "rollback", namespace: A, triggerEmbedding: axis(1) }));
        await store.upsertProcedure(procedure({ id: "p3", name: "deploy", namespace: B }));
        expect(sorted((await store.listProcedures(A)).map((p) => p.id))).toEqual(["p1", "p2"]);
        expect((await store.listProcedures(B)).map((p) => p.id)).toEqual(["p3"]);
        expect(await store.getProcedure(B, "p1")).toBeUndefined();
        const rollback = (await store.listProcedures(A)).find((p) => p.id === "p2");
        expect(rollback?.triggerEmbedding).toEqual(axis(1));
        expect(await store.listProcedures("ns-empty")).toEqual([]);
      });
    });

    describe("memory nodes", () => {
      const node = (overrides: Partial<MemoryNode> & { id: string }): MemoryNode => ({
        namespace: A,
        kind: 3,
        content: `node ${overrides.id}`,
        embedding: axis(2),
        metadata: { k: "v" },
        createTime: at(1),
        importance: 0.7,
        evidence: 0.4,
        clusterId: 2,
        ...overrides,
      });
      const stored = (n: MemoryNode, stats: Partial<StoredMemory> = {}): StoredMemory => ({ ...n, accessCount: 0, rewardSum: 0, rewardCount: 0, ...stats });

      it("upserts idempotently by id, replaces, and deletes (missing ids are fine)", async () => {
        const n1 = node({ id: "n1" });
        await store.upsertMemoryNode(n1);
        await store.upsertMemoryNode(n1);
        expect(await store.getMemoryNode(A, "n1")).toEqual(stored(n1));
        const replaced = node({ id: "n1", kind: 4, content: "changed", embedding: axis(5), metadata: { k: "w" }, expireTime: at(50) });
        await store.upsertMemoryNode(replaced);
        expect(await store.getMemoryNode(A, "n1")).toEqual(stored(replaced));
        await store.deleteMemoryNodes(A, ["n1", "never-was"]);
        await store.deleteMemoryNodes(A, []);
        expect(await store.getMemoryNode(A, "n1")).toBeUndefined();
      });

      it("never crosses namespaces", async () => {
        await store.upsertMemoryNode(node({ id: "n", namespace: A, content: "A's" }));
        await store.upsertMemoryNode(node({ id: "n", namespace: B, content: "B's" }));
        await store.deleteMemoryNodes(B, ["n"]);
        expect((await store.getMemoryNode(A, "n"))?.content).toBe("A's");
        expect(await store.getMemoryNode(B, "n")).toBeUndefined();
      });

      it("keeps access statistics across a re-upsert (a replayed promotion); getMemoryNodes keeps the order asked", async () => {
        const n1 = node({ id: "n1" });
        await store.upsertMemoryNode(n1);
        await store.upsertMemoryNode(node({ id: "n2" }));
        await store.recordAccess(A, [{ id: "n1", accessCount: 3, lastAccessTime: at(9), rewardSum: 1.5, rewardCount: 2 }, { id: "gone", accessCount: 1, lastAccessTime: at(9), rewardSum: 0, rewardCount: 0 }]);
        await store.upsertMemoryNode(n1);
        expect(await store.getMemoryNode(A, "n1")).toEqual(stored(n1, { accessCount: 3, lastAccessTime: at(9), rewardSum: 1.5, rewardCount: 2 }));
        expect((await store.getMemoryNodes(A, ["n2", "missing", "n1"])).map((m) => m.id)).toEqual(["n2", "n1"]);
        expect(await store.getMemoryNodes(B, ["n1"])).toEqual([]);
      });

      describe("search", () => {
        const near = (i: number, j: number, w: number) => unitVector(Array.from({ length: D }, (_, n) => (n === i ? 1 : n === j ? w : 0)));
        beforeEach(async () => {
          await store.upsertMemoryNode(node({ id: "s1", kind: 3, content: "espresso machine descaling steps", embedding: near(0, 1, 0.1), metadata: { team: "ops", level: 3 } }));
          await store.upsertMemoryNode(node({ id: "s2", kind: 3, content: "espresso beans storage and espresso grind", embedding: near(0, 1, 0.5), metadata: { team: "dev", level: 7 } }));
          await store.upsertMemoryNode(node({ id: "p1", kind: 4, content: "how to deploy the espresso service", embedding: near(0, 1, 0.9), metadata: { team: "ops", level: "7" }, createTime: at(5) }));
          await store.upsertMemoryNode(node({ id: "x1", kind: 3, content: "old espresso note", embedding: near(0, 1, 0.2), metadata: { team: "ops" }, expireTime: at(10) }));
          await store.upsertMemoryNode(node({ id: "b1", namespace: B, kind: 3, content: "espresso espresso espresso", embedding: axis(0), metadata: {} }));
        });

        it("finds the k nearest nodes of the namespace by cosine, best first, with what ranking needs", async () => {
          const hits = await store.searchMemoryNodes(A, axis(0), 3, {});
          expect(hits.map((h) => h.memory.id)).toEqual(["s1", "x1", "s2"]);
          expect(hits[0]!.similarity).toBeCloseTo(1 / Math.sqrt(1.01), 5);
          expect(hits[0]!.memory).toMatchObject({ namespace: A, importance: 0.7, evidence: 0.4, clusterId: 2, accessCount: 0 });
          expect(await store.searchMemoryNodes("ns-empty", axis(0), 3, {})).toEqual([]);
          expect(await store.searchMemoryNodes(A, axis(0), 0, {})).toEqual([]);
        });

        it("applies the filter before ranking: kinds, typed metadata, ranges, create time, expiry", async () => {
          const ids = async (filter: Parameters<GraphStore["searchMemoryNodes"]>[3]) => (await store.searchMemoryNodes(A, axis(0), 1, filter)).map((h) => h.memory.id);
          expect(await ids({ kinds: [4] })).toEqual(["p1"]);
          expect(await ids({ equals: [{ key: "team", value: "dev" }] })).toEqual(["s2"]);
          expect(await ids({ ranges: [{ key: "level", gte: 5 }] })).toEqual(["s2"]);
          expect(await ids({ equals: [{ key: "level", value: 7 }] })).toEqual(["s2"]);
          expect(await ids({ createdAfter: at(2) })).toEqual(["p1"]);
          expect(await ids({ aliveAt: at(10) })).toEqual(["s1"]);
          expect(await ids({ createdBefore: at(2), aliveAt: at(10), equals: [{ key: "team", value: "ops" }] })).toEqual(["s1"]);
        });

        it("keyword search scores BM25 over the namespace's nodes and returns the corpus statistics", async () => {
          const terms = queryTerms("espresso grind");
          const result = await store.lexicalSearchMemoryNodes(A, terms, 10, {});
          const contents = ["espresso machine descaling steps", "espresso beans storage and espresso grind", "how to deploy the espresso service", "old espresso note"];
          const lengths = contents.map((c) => documentTerms(c).length);
          expect(result.corpus.documents).toBe(4);
          expect(result.corpus.totalLength).toBe(lengths.reduce((a, b) => a + b, 0));
          expect(Object.fromEntries(result.corpus.documentFrequency)).toEqual({ espresso: 4, grind: 1 });
          expect(result.hits[0]!.memory.id).toBe("s2");
          expect(result.hits[0]!.bm25).toBeCloseTo(bm25(terms, documentTerms(contents[1]!), result.corpus), 6);
          expect(result.hits.map((h) => h.memory.id).sort()).toEqual(["p1", "s1", "s2", "x1"]);
          const filtered = await store.lexicalSearchMemoryNodes(A, terms, 1, { kinds: [4] });
          expect(filtered.hits.map((h) => h.memory.id)).toEqual(["p1"]);
          expect(filtered.corpus.documents).toBe(4);
          const byMetadata = await store.lexicalSearchMemoryNodes(A, terms, 1, { equals: [{ key: "team", value: "ops" }], aliveAt: at(10) });
          expect(byMetadata.hits.map((h) => h.memory.id)).toEqual(["p1"]);
          const other = await store.lexicalSearchMemoryNodes(B, terms, 10, {});
          expect(other.corpus.documents).toBe(1);
          expect(other.hits.map((h) => h.memory.id)).toEqual(["b1"]);
          expect((await store.lexicalSearchMemoryNodes(A, queryTerms("unheard"), 10, {})).hits).toEqual([]);
        });

        it("a deleted node is no longer found by either search", async () => {
          await store.deleteMemoryNodes(A, ["s2"]);
          expect((await store.searchMemoryNodes(A, axis(0), 10, {})).map((h) => h.memory.id)).not.toContain("s2");
          const result = await store.lexicalSearchMemoryNodes(A, ["grind"], 10, {});
          expect(result.hits).toEqual([]);
          expect(result.corpus.documents).toBe(3);
        });
      });
    });

    describe("import (restore, list memory nodes)", () => {
      it("restoreFact writes both timelines exactly, closes nothing, and is idempotent by id", async () => {
        const open = fact({ subject: "ada", object: "globex", validStartTime: at(60), recordTime: at(90) });
        await store.upsertFact(open);
        const closed: StoredFact = { ...fact({ subject: "ada", object: "acme", validStartTime: at(0), recordTime: at(0) }), validEndTime: at(60) };
        await store.restoreFact(closed);
        await store.restoreFact(closed);
        expect(await query({ asOf: at(0), includeHistory: true })).toEqual([closed, open]);
        await expect(store.restoreFact({ ...closed, object: "initech" })).rejects.toThrow(/another/);
        expect(await store.queryFacts({ namespace: B, asOf: at(0), includeHistory: true, limit: 10 })).toEqual([]);
      });

      it("restoreProcedure keeps the given statistics and times, and refuses a name another id holds", async () => {
        const stored = { ...procedure({ id: "p-1", name: "deploy" }), successCount: 3, executionCount: 5, createTime: at(1), updateTime: at(7) };
        const { now: _now, ...restored } = stored;
        await store.restoreProcedure(restored);
        await store.restoreProcedure(restored);
        expect(await store.getProcedure(A, "p-1")).toEqual(restored);
        await expect(store.restoreProcedure({ ...restored, id: "p-2" })).rejects.toThrow(/held by another/);
        expect(await store.listProcedures(A)).toHaveLength(1);
      });

      it("namespaces lists every namespace holding a fact, a procedure or a memory node, sorted", async () => {
        expect(await store.namespaces()).toEqual([]);
        await store.upsertFact(fact({ subject: "ada", object: "acme", namespace: "ns-c" }));
        await store.upsertProcedure(procedure({ id: "p-1", name: "deploy", namespace: B }));
        await store.upsertMemoryNode({ id: "m-1", namespace: A, kind: 3, content: "x", embedding: axis(1), metadata: {}, createTime: at(0), importance: 0.5, evidence: 0, clusterId: 0 });
        expect(await store.namespaces()).toEqual([A, B, "ns-c"]);
      });

      it("listMemoryNodes pages a namespace in (createTime, id) order", async () => {
        const node = (id: string, minutes: number, namespace = A): MemoryNode => ({ id, namespace, kind: 3, content: id, embedding: axis(1), metadata: {}, createTime: at(minutes), importance: 0.5, evidence: 0, clusterId: 0 });
        for (const n of [node("m-3", 2), node("m-1", 1), node("m-2", 1), node("m-x", 0, B)]) await store.upsertMemoryNode(n);
        const first = await store.listMemoryNodes(A, { limit: 2 });
        expect(first.map((n) => n.id)).toEqual(["m-1", "m-2"]);
        const rest = await store.listMemoryNodes(A, { after: { createTime: first[1]!.createTime, id: first[1]!.id }, limit: 2 });
        expect(rest).toEqual([{ ...node("m-3", 2), accessCount: 0, rewardSum: 0, rewardCount: 0 }]);
      });
    });

    describe("concepts", () => {
      it("upserts with episode links, replacing the links on a re-upsert", async () => {
        const concept = { id: "c1", namespace: A, label: "coffee", centroid: axis(1), episodeIds: ["e3", "e1", "e2"], createTime: at(1) };
        await store.upsertConcept(concept);
        await store.upsertConcept(concept);
        expect(await store.listConcepts(A)).toEqual([concept]);
        const relabelled = { ...concept, label: "coffee and tea", episodeIds: ["e1", "e4"] };
        await store.upsertConcept(relabelled);
        expect(await store.listConcepts(A)).toEqual([relabelled]);
        await store.upsertConcept({ ...concept, id: "c2", episodeIds: [] });
        expect(sorted((await store.listConcepts(A)).map((c) => c.id))).toEqual(["c1", "c2"]);
        expect((await store.listConcepts(A)).find((c) => c.id === "c2")?.episodeIds).toEqual([]);
      });

      it("never crosses namespaces", async () => {
        await store.upsertConcept({ id: "c", namespace: A, label: "a", centroid: axis(0), episodeIds: ["e1"], createTime: at(1) });
        await store.upsertConcept({ id: "c", namespace: B, label: "b", centroid: axis(1), episodeIds: ["e9"], createTime: at(1) });
        expect((await store.listConcepts(A)).map((c) => [c.label, c.episodeIds])).toEqual([["a", ["e1"]]]);
        expect((await store.listConcepts(B)).map((c) => [c.label, c.episodeIds])).toEqual([["b", ["e9"]]]);
      });
    });

    it("health reports, and never throws (not even once closed)", async () => {
      expect(await store.health()).toMatchObject({ backend: store.backend, healthy: true });
      await store.close();
      const after = await store.health();
      expect(typeof after.healthy).toBe("boolean");
    });

    it("everything survives close and reopen", async () => {
      const f1 = fact({ subject: "ada", object: "acme", validStartTime: at(0), recordTime: at(0) });
      const f2 = fact({ subject: "ada", object: "globex", validStartTime: at(10), recordTime: at(10) });
      await store.upsertFact(f1);
      await store.upsertFact(f2);
      await store.upsertProcedure(procedure({ id: "p1", name: "deploy" }));
      await store.recordOutcome(A, "p1", true, at(3));
      const n = { id: "n1", namespace: A, kind: 3, content: "a node about gardening", embedding: axis(4), metadata: {}, createTime: at(2), importance: 0.5, evidence: 0, clusterId: 0 };
      await store.upsertMemoryNode(n);
      const concept = { id: "c1", namespace: A, label: "L", centroid: axis(6), episodeIds: ["e1", "e2"], createTime: at(4) };
      await store.upsertConcept(concept);
      const procedures = await store.listProcedures(A);
      await store.close();

      const reopened = await harness.reopen();
      expect(await reopened.queryFacts({ namespace: A, asOf: at(0), includeHistory: true, limit: 10 })).toEqual([{ ...f1, validEndTime: at(10) }, f2]);
      expect(await reopened.listProcedures(A)).toEqual(procedures);
      expect(await reopened.getMemoryNode(A, "n1")).toEqual({ ...n, accessCount: 0, rewardSum: 0, rewardCount: 0 });
      expect((await reopened.searchMemoryNodes(A, axis(4), 1, {})).map((h) => h.memory.id)).toEqual(["n1"]);
      expect((await reopened.lexicalSearchMemoryNodes(A, ["gardening"], 1, {})).hits.map((h) => h.memory.id)).toEqual(["n1"]);
      expect(await reopened.listConcepts(A)).toEqual([concept]);
    });
  });
}
