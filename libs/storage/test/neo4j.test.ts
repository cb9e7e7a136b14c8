import neo4j, { type Driver } from "neo4j-driver";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { Neo4jGraphStore, Neo4jRequestError, Neo4jUnavailableError, StoreInputError } from "../src/index.js";
import { describeGraphContract } from "./graph-contract.js";
import { deleteNamespaces, neo4jGraphHarness, storeOptions } from "./neo4j-harness.js";
import { type Neo4jConnection, Neo4jServer } from "@t4dm/testkit";
import { unitVector } from "./support/vectors.js";

/** The run's shared server (test/support/neo4j-global-setup.ts at the repository root); its absence is a failure, not a skip. */
function shared(): Neo4jConnection {
  const connection = inject("neo4j");
  if (!connection) throw new Error("no Neo4j for this run: test/support/neo4j-global-setup.ts must be a globalSetup of this test file (vitest.config.ts)");
  return connection;
}

const T0 = Date.UTC(2025, 0, 1);
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const axis = (i: number) => unitVector(Array.from({ length: 8 }, (_, n) => (n === i ? 1 : 0)));

describeGraphContract("neo4j", () => neo4jGraphHarness(shared()));

describe("Neo4jGraphStore on a real server", () => {
  let driver: Driver;
  let store: Neo4jGraphStore;
  let ns: string;
  let namespaces = 0;
  const prefix = `neo4j-test-${process.pid}-`;

  beforeAll(async () => {
    const { uri, user, password } = shared();
    driver = neo4j.driver(uri, neo4j.auth.basic(user, password), { disableLosslessIntegers: true });
    store = new Neo4jGraphStore(storeOptions(shared()));
    await store.init();
  });
  beforeEach(() => {
    ns = `${prefix}${++namespaces}`;
  });
  afterAll(async () => {
    await store.close();
    await driver.close();
    await deleteNamespaces(shared(), prefix);
  });

  it("init creates the uniqueness constraints and verifies them; a second init on the same database is a no-op", async () => {
    const { records } = await driver.executeQuery("SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties");
    const constraints = records.map((r) => `${r.get("type")} ${r.get("labelsOrTypes")}.${r.get("properties")}`);
    for (const expected of [
      "UNIQUENESS Entity.key",
      "UNIQUENESS Concept.key",
      "UNIQUENESS Procedure.key",
      "UNIQUENESS Procedure.nameKey",
      "UNIQUENESS Episode.key",
      "UNIQUENESS Memory.key",
      "RELATIONSHIP_UNIQUENESS FACT.key",
    ]) {
      expect(constraints).toContain(expected);
    }
    const again = new Neo4jGraphStore(storeOptions(shared()));
    await again.init();
    expect(await again.health()).toMatchObject({ backend: "neo4j", healthy: true });
    await again.close();
  });

  it("keeps facts as FACT relationships between Entity nodes, with UTC DATETIME valid and record times", async () => {
    await store.upsertFact({ id: "f1", namespace: ns, subject: "ada", predicate: "works_at", object: "acme", confidence: 0.5, validStartTime: at(0), recordTime: at(1), metadata: { a: 1 } });
    await store.upsertFact({ id: "f2", namespace: ns, subject: "ada", predicate: "works_at", object: "globex", confidence: 0.7, validStartTime: at(10), recordTime: at(11), metadata: {} });
    const { records } = await driver.executeQuery(
      `MATCH (s:Entity)-[f:FACT]->(o:Entity) WHERE f.namespace = $ns
       RETURN s.name AS s, f.predicate AS p, o.name AS o, f.validStart AS start, f.validEnd AS end, f.recordTime AS recorded, f.metadata AS metadata
       ORDER BY f.id`,
      { ns },
    );
    expect(records.map((r) => [r.get("s"), r.get("p"), r.get("o")])).toEqual([
      ["ada", "works_at", "acme"],
      ["ada", "works_at", "globex"],
    ]);
    const first = records[0]!;
    expect(neo4j.isDateTime(first.get("start"))).toBe(true);
    expect(first.get("start").toString()).toBe("2025-01-01T00:00:00Z");
    expect(first.get("end").toString()).toBe("2025-01-01T00:10:00Z");
    expect(first.get("recorded").toString()).toBe("2025-01-01T00:01:00Z");
    expect(JSON.parse(first.get("metadata") as string)).toEqual({ a: 1 });
    expect(records[1]!.get("end")).toBeNull();
    // Both facts share the one subject node.
    const entities = await driver.executeQuery("MATCH (e:Entity) WHERE e.namespace = $ns RETURN count(e) AS n", { ns });
    expect(entities.records[0]!.get("n")).toBe(3);
  });

  it("links a concept to Episode nodes in order, and stores vectors as float lists", async () => {
    await store.upsertConcept({ id: "c1", namespace: ns, label: "coffee", centroid: axis(1), episodeIds: ["e2", "e1"], createTime: at(0) });
    const { records } = await driver.executeQuery(
      "MATCH (c:Concept {id: 'c1'})-[r:SUMMARISES]->(e:Episode) WHERE c.namespace = $ns RETURN e.id AS episode, c.centroid AS centroid ORDER BY r.position",
      { ns },
    );
    expect(records.map((r) => r.get("episode"))).toEqual(["e2", "e1"]);
    expect(records[0]!.get("centroid")).toEqual(Array.from(axis(1)));
  });

  it("treats hostile names as values, never as Cypher", async () => {
    const hostile = ["a'b", 'q"uote', "`tick`", "x}) DETACH DELETE n //", "$param", "new\nline", "\\"];
    for (const [i, text] of hostile.entries()) {
      await store.upsertFact({ id: `h${i}:${text}`, namespace: `${ns}:${text}`, subject: text, predicate: text, object: text, confidence: 1, validStartTime: at(0), recordTime: at(i), metadata: { [text]: text } });
    }
    for (const [i, text] of hostile.entries()) {
      const facts = await store.queryFacts({ namespace: `${ns}:${text}`, subject: text, predicate: text, object: text, asOf: at(1), includeHistory: false, limit: 10 });
      expect(facts.map((f) => [f.id, f.subject, f.metadata])).toEqual([[`h${i}:${text}`, text, { [text]: text }]]);
    }
  });

  it("refuses a namespace with NUL, which would make (namespace, id) keys ambiguous", async () => {
    await expect(store.getMemoryNode("a\u0000b", "c")).rejects.toBeInstanceOf(StoreInputError);
  });

  it("concurrent upserts of one key make one node or relationship (MERGE under the constraints)", async () => {
    const fact = { id: "race", namespace: ns, subject: "ada", predicate: "likes", object: "tea", confidence: 0.5, validStartTime: at(0), recordTime: at(0), metadata: {} };
    const procedure = (id: string) => ({ id, namespace: ns, name: "deploy", trigger: "ship", triggerEmbedding: axis(0), steps: [], metadata: {}, now: at(0) });
    await Promise.all([
      ...Array.from({ length: 6 }, () => store.upsertFact(fact)),
      ...Array.from({ length: 6 }, (_, i) => store.upsertProcedure(procedure(`p${i}`))),
      ...Array.from({ length: 6 }, () => store.upsertConcept({ id: "c", namespace: ns, label: "l", centroid: axis(2), episodeIds: ["e1", "e2"], createTime: at(0) })),
    ]);
    expect(await store.queryFacts({ namespace: ns, asOf: at(1), includeHistory: true, limit: 10 })).toHaveLength(1);
    expect(await store.listProcedures(ns)).toHaveLength(1);
    expect((await store.listConcepts(ns)).map((c) => c.episodeIds)).toEqual([["e1", "e2"]]);
  });

  it("a fact id re-used for another triple is refused with the domain error, and nothing changes", async () => {
    await store.upsertFact({ id: "f", namespace: ns, subject: "ada", predicate: "p", object: "x", confidence: 1, validStartTime: at(0), recordTime: at(0), metadata: {} });
    await expect(store.upsertFact({ id: "f", namespace: ns, subject: "ada", predicate: "p", object: "y", confidence: 1, validStartTime: at(1), recordTime: at(1), metadata: {} })).rejects.toThrow(
      /already holds another/,
    );
    expect((await store.queryFacts({ namespace: ns, asOf: at(5), includeHistory: true, limit: 10 })).map((f) => f.object)).toEqual(["x"]);
  });

  it("start-up fails fast and names the URI when nothing listens there", async () => {
    const unreachable = new Neo4jGraphStore({ uri: "bolt://127.0.0.1:1", password: "x".repeat(8), connectionTimeoutMs: 2_000, dimensions: 8 });
    const started = Date.now();
    const error = await unreachable.init().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Neo4jUnavailableError);
    expect((error as Error).message).toContain("bolt://127.0.0.1:1");
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await unreachable.health()).toMatchObject({ healthy: false, detail: "not initialised" });
  });

  it("start-up fails, naming the URI, on wrong credentials", async () => {
    const { uri } = shared();
    const error = await new Neo4jGraphStore({ uri, user: "neo4j", password: "not-the-password", dimensions: 8 }).init().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Neo4jRequestError);
    expect((error as Error).message).toContain(uri);
    expect((error as Neo4jRequestError).code).toMatch(/Unauthorized/);
  });
});

describe("Neo4j restarted mid-run", () => {
  let server: Neo4jServer | undefined;
  afterAll(async () => {
    await server?.dispose();
  });

  it(
    "calls reject while the server is down, and succeed again, with the data, once it is back",
    async () => {
      // Its own server: stopping the shared one would break the tests running beside this file.
      server = await Neo4jServer.start();
      const store = new Neo4jGraphStore({ ...server.connection, connectionTimeoutMs: 2_000, maxRetryTimeMs: 3_000, dimensions: 8 });
      try {
        await store.init();
        const fact = { id: "f1", namespace: "ns", subject: "ada", predicate: "works_at", object: "acme", confidence: 0.9, validStartTime: at(0), recordTime: at(0), metadata: {} };
        await store.upsertFact(fact);
        await store.upsertProcedure({ id: "p1", namespace: "ns", name: "deploy", trigger: "ship", triggerEmbedding: axis(0), steps: [], metadata: {}, now: at(0) });

        await server.kill(); // SIGKILL: no checkpoint, so the committed writes come back through recovery
        const started = Date.now();
        await expect(store.queryFacts({ namespace: "ns", asOf: at(1), includeHistory: false, limit: 10 })).rejects.toBeInstanceOf(Neo4jUnavailableError);
        await expect(store.recordOutcome("ns", "p1", true, at(1))).rejects.toBeInstanceOf(Neo4jUnavailableError);
        expect(Date.now() - started).toBeLessThan(20_000);
        expect((await store.health()).healthy).toBe(false);

        await server.restart(); // same home, same port
        expect(await store.queryFacts({ namespace: "ns", asOf: at(1), includeHistory: false, limit: 10 })).toEqual([fact]);
        expect(await store.recordOutcome("ns", "p1", true, at(2))).toMatchObject({ successCount: 1, executionCount: 1 });
        expect((await store.health()).healthy).toBe(true);
      } finally {
        await store.close();
      }
    },
    240_000,
  );
});
