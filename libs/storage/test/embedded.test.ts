import Database from "better-sqlite3";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openEmbeddedStores, SqliteEpisodicStore, type SqliteEpisodicStoreOptions, SqliteGraphStore, StoreConfigError, StoreClosedError } from "../src/index.js";
import { CONTRACT_DIMENSIONS, describeEpisodicContract } from "./episodic-contract.js";
import { describeGraphContract } from "./graph-contract.js";
import { lexicalTerms, queryTerms } from "@t4dm/learning";
import { writeVersion1Store } from "./support/episodic-v1.js";
import { memory } from "./support/memories.js";
import { cosine, randomUnit, seededRandom, unitVector } from "./support/vectors.js";

/** Opens embedded episodic stores over one temp dir and closes whatever is left open at the end. */
async function episodicHarness(dimensions: number, tuning: Partial<SqliteEpisodicStoreOptions> = {}) {
  const dir = await mkdtemp(join(tmpdir(), "t4dm-episodic-"));
  const opened: SqliteEpisodicStore[] = [];
  const open = async (dims = dimensions) => {
    const store = new SqliteEpisodicStore({ dir, dimensions: dims, ...tuning });
    await store.init();
    opened.push(store);
    return store;
  };
  const store = await open();
  return {
    dir,
    store,
    reopen: () => open(),
    reopenWithDimensions: (dims: number) => open(dims),
    cleanup: async () => {
      // Stores left open by a simulated crash are closed here too; the directory goes right after.
      for (const s of opened) await s.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function graphHarness() {
  const dir = await mkdtemp(join(tmpdir(), "t4dm-graph-"));
  const opened: SqliteGraphStore[] = [];
  const open = async () => {
    const store = new SqliteGraphStore({ dir, dimensions: 8 });
    await store.init();
    opened.push(store);
    return store;
  };
  const store = await open();
  return {
    store,
    reopen: open,
    cleanup: async () => {
      for (const s of opened) await s.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describeEpisodicContract("embedded (SQLite + usearch)", ({ dimensions }) => episodicHarness(dimensions));
// The contract's data sets are small, so every search would be an exact scan; this run forces the HNSW path.
describeEpisodicContract("embedded, HNSW path forced", ({ dimensions }) => episodicHarness(dimensions, { searchStrategy: "index", saveIndexEvery: 7 }));
describeGraphContract("embedded (SQLite)", graphHarness);

const D = CONTRACT_DIMENSIONS;
const axis = (i: number) => unitVector(Array.from({ length: D }, (_, n) => (n === i ? 1 : 0)));

describe("SqliteEpisodicStore: the vector index file", () => {
  let harness: Awaited<ReturnType<typeof episodicHarness>>;
  const random = seededRandom(5);
  const batch = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => memory({ id: `${prefix}-${i}`, embedding: randomUnit(random, D) }));
  const indexFile = () => join(harness.dir, "episodic.usearch");

  beforeEach(async () => {
    harness = await episodicHarness(D, { saveIndexEvery: 10, searchStrategy: "index" });
  });
  afterEach(async () => {
    await harness.cleanup();
  });

  /** Top-k by the store against brute force over `all`, which must agree exactly on data this small. */
  async function expectExact(store: SqliteEpisodicStore, all: ReturnType<typeof batch>) {
    for (let q = 0; q < 5; q++) {
      const query = randomUnit(random, D);
      const expected = all
        .map((m) => ({ id: m.id, s: cosine(query, m.embedding) }))
        .sort((a, b) => b.s - a.s)
        .slice(0, 5)
        .map((e) => e.id);
      expect((await store.search("ns-a", query, 5, {})).map((hit) => hit.memory.id)).toEqual(expected);
    }
  }

  it("is loaded as is after a clean close", async () => {
    const all = batch("m", 25);
    await harness.store.upsert(all);
    await harness.store.close();
    const reopened = await harness.reopen();
    expect(reopened.indexOrigin).toBe("loaded");
    await expectExact(reopened, all);
  });

  it("is caught up after a crash, from the rows and deletions newer than its last save", async () => {
    const all = batch("m", 25);
    for (const m of all) await harness.store.upsert([m]); // saves after 10 and 20 changes
    await harness.store.delete("ns-a", ["m-3", "m-22"]); // one saved in the file, one not
    const replaced = memory({ id: "m-4", embedding: randomUnit(random, D) });
    await harness.store.upsert([replaced]);
    const reopened = await harness.reopen(); // the first store is never closed
    expect(reopened.indexOrigin).toBe("caught-up");
    const alive = all.filter((m) => m.id !== "m-3" && m.id !== "m-22" && m.id !== "m-4").concat(replaced);
    await expectExact(reopened, alive);
    expect((await reopened.health()).healthy).toBe(true);
  });

  it("is rebuilt from SQLite when missing", async () => {
    const all = batch("m", 25);
    await harness.store.upsert(all);
    await harness.store.close();
    await rm(indexFile());
    const reopened = await harness.reopen();
    expect(reopened.indexOrigin).toBe("rebuilt");
    await expectExact(reopened, all);
    expect((await stat(indexFile())).size).toBeGreaterThan(0);
  });

  it("is rebuilt, not loaded, when corrupt (usearch would abort the process on some garbage)", async () => {
    const all = batch("m", 25);
    await harness.store.upsert(all);
    await harness.store.close();
    const size = (await stat(indexFile())).size;
    await writeFile(indexFile(), Buffer.alloc(size, 0x5a));
    const reopened = await harness.reopen();
    expect(reopened.indexOrigin).toBe("rebuilt");
    await expectExact(reopened, all);
    await reopened.close();
    expect((await harness.reopen()).indexOrigin).toBe("loaded");
  });
});

describe("SqliteEpisodicStore: configuration and misuse", () => {
  let harness: Awaited<ReturnType<typeof episodicHarness>>;
  beforeEach(async () => {
    harness = await episodicHarness(D);
  });
  afterEach(async () => {
    await harness.cleanup();
  });

  it("refuses another dimension with a StoreConfigError that names both", async () => {
    await harness.store.close();
    const error = await harness.reopenWithDimensions(16).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreConfigError);
    expect((error as Error).message).toMatch(/holds 8-dimensional embeddings but 16 are configured/);
  });

  it("refuses calls before init and after close", async () => {
    const fresh = new SqliteEpisodicStore({ dir: harness.dir, dimensions: D });
    await expect(fresh.count("ns-a")).rejects.toBeInstanceOf(StoreClosedError);
    await harness.store.close();
    await expect(harness.store.upsert([memory({ id: "m", embedding: axis(0) })])).rejects.toBeInstanceOf(StoreClosedError);
    expect(await harness.store.health()).toMatchObject({ healthy: false, detail: "closed" });
  });

  it("treats hostile metadata keys as literal keys, never as SQL or JSON path syntax", async () => {
    const keys = [`a'b`, `x") OR 1=1 --`, "a.b", "$", "[0]", 'q"uote', "back\\slash", "new\nline", ""];
    await harness.store.upsert([
      memory({ id: "literal", embedding: axis(0), metadata: Object.fromEntries(keys.map((k) => [k, "hit"])) }),
      memory({ id: "nested", embedding: axis(1), metadata: { a: { b: "hit" }, x: "hit" } }),
    ]);
    for (const key of keys) {
      expect(await harness.store.findIds("ns-a", { equals: [{ key, value: "hit" }] }), key).toEqual(["literal"]);
      expect(await harness.store.findIds("ns-a", { ranges: [{ key, gte: 0 }] }), key).toEqual([]);
    }
  });

  it("equality on null and on structured values", async () => {
    await harness.store.upsert([
      memory({ id: "n", embedding: axis(0), metadata: { v: null, tags: ["a", "b"], obj: { x: 1 } } }),
      memory({ id: "m", embedding: axis(1), metadata: { tags: ["b", "a"] } }),
    ]);
    expect(await harness.store.findIds("ns-a", { equals: [{ key: "v", value: null }] })).toEqual(["n"]);
    expect(await harness.store.findIds("ns-a", { equals: [{ key: "tags", value: ["a", "b"] }] })).toEqual(["n"]);
    expect(await harness.store.findIds("ns-a", { equals: [{ key: "obj", value: { x: 1 } }] })).toEqual(["n"]);
  });

  it("openEmbeddedStores opens both stores in one directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "t4dm-stores-"));
    try {
      const { episodic, graph } = await openEmbeddedStores({ dir, dimensions: D });
      expect((await episodic.health()).healthy).toBe(true);
      expect((await graph.health()).healthy).toBe(true);
      await episodic.close();
      await graph.close();
      await expect(openEmbeddedStores({ dir, dimensions: D + 1 })).rejects.toBeInstanceOf(StoreConfigError);
      for (const file of ["episodic.sqlite", "episodic.usearch", "graph.sqlite"]) expect((await stat(join(dir, file))).isFile()).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("SqliteEpisodicStore: a store made before the keyword index (schema version 1)", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "t4dm-episodic-v1-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("gets its keyword index built on open, and keeps every row searchable both ways", async () => {
    writeVersion1Store(dir, D, [
      { namespace: "ns-a", id: "cat", content: "Alice adopted a cat named Tom", embedding: axis(0) },
      { namespace: "ns-a", id: "dog", content: "Bob walks his dog", embedding: axis(1) },
      { namespace: "ns-b", id: "other", content: "Alice in another tenant", embedding: axis(2) },
    ]);
    const store = new SqliteEpisodicStore({ dir, dimensions: D });
    await store.init();
    try {
      const found = await store.lexicalSearch("ns-a", queryTerms("what pet does Alice have"), 10, {});
      expect(found.hits.map((hit) => hit.memory.id)).toEqual(["cat"]);
      expect(found.corpus.documents).toBe(2);
      expect(found.corpus.totalLength).toBe(lexicalTerms("Alice adopted a cat named Tom").length + lexicalTerms("Bob walks his dog").length);
      expect((await store.search("ns-a", axis(1), 1, {})).map((hit) => hit.memory.id)).toEqual(["dog"]);
      // Later writes keep the index in step.
      await store.upsert([memory({ id: "dog", namespace: "ns-a", content: "Bob walks his dog with Alice", embedding: axis(1) })]);
      expect((await store.lexicalSearch("ns-a", ["alice"], 10, {})).hits.map((hit) => hit.memory.id).sort()).toEqual(["cat", "dog"]);
    } finally {
      await store.close();
    }
    // Migrated once: the next open finds version 2 and the same index.
    const again = new SqliteEpisodicStore({ dir, dimensions: D });
    await again.init();
    try {
      expect((await again.lexicalSearch("ns-a", ["alice"], 10, {})).hits).toHaveLength(2);
    } finally {
      await again.close();
    }
  });
});

describe("embedded graph store: a schema-1 data directory", () => {
  it("opens, moving its memory nodes into the searchable memory table with default ranking fields", async () => {
    const dir = await mkdtemp(join(tmpdir(), "t4dm-graph-v1-"));
    try {
      // What schema version 1 wrote: memory nodes in graph.sqlite's memory_nodes table.
      const old = new Database(join(dir, "graph.sqlite"));
      old.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE memory_nodes (namespace TEXT NOT NULL, id TEXT NOT NULL, kind INTEGER NOT NULL, content TEXT NOT NULL,
          embedding BLOB NOT NULL, metadata TEXT NOT NULL, create_time INTEGER NOT NULL, PRIMARY KEY (namespace, id));`);
      const vector = unitVector([1, 0, 0, 0, 0, 0, 0, 0]);
      old.prepare("INSERT INTO memory_nodes VALUES (?, ?, ?, ?, ?, ?, ?)").run("ns", "n1", 3, "an old semantic note", Buffer.from(vector.buffer), '{"k":1}', 1000);
      old.close();

      const store = new SqliteGraphStore({ dir, dimensions: 8 });
      await store.init();
      expect(await store.getMemoryNode("ns", "n1")).toMatchObject({ kind: 3, content: "an old semantic note", metadata: { k: 1 }, importance: 0.5, evidence: 0, clusterId: 0, accessCount: 0 });
      expect((await store.searchMemoryNodes("ns", vector, 1, {})).map((hit) => hit.memory.id)).toEqual(["n1"]);
      expect((await store.lexicalSearchMemoryNodes("ns", ["semantic"], 1, {})).hits.map((hit) => hit.memory.id)).toEqual(["n1"]);
      await store.close();
      // Migrated once: a reopen finds the same single node.
      const again = new SqliteGraphStore({ dir, dimensions: 8 });
      await again.init();
      expect((await again.searchMemoryNodes("ns", vector, 5, {})).map((hit) => hit.memory.id)).toEqual(["n1"]);
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
