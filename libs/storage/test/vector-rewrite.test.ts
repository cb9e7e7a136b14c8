// The embedded stores' vector rewrite (the re-embed command's store half): staging survives a
// reopen (a killed command), commit switches rows, dimension and HNSW index at once, and a
// rewrite for another target starts over.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteEpisodicStore, SqliteGraphStore, SqliteVectorRewrite, StoreConfigError, type VectorRewrite } from "../src/index.js";
import { memory } from "./support/memories.js";
import { unitVector } from "./support/vectors.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A store of 4-dimensional vectors with five memories, two clustered; closed. */
async function storeWithFive(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "t4dm-rewrite-"));
  dirs.push(dir);
  const store = new SqliteEpisodicStore({ dir, dimensions: 4 });
  await store.init();
  await store.upsert(
    ["a", "b", "c", "d", "e"].map((id, i) => memory({ id, content: `text ${id}`, embedding: unitVector([1, i, 0, 0]), clusterId: i < 2 ? 7 : 0 })),
  );
  await store.close();
  const graph = new SqliteGraphStore({ dir, dimensions: 4 });
  await graph.init();
  await graph.upsertMemoryNode({ id: "s", namespace: "ns-a", kind: 3, content: "a fact", embedding: unitVector([0, 0, 0, 1]), metadata: {}, createTime: new Date(0), importance: 0.5, evidence: 0, clusterId: 0 });
  await graph.close();
  return dir;
}

/** The new embedder of these tests: 3 dimensions, a function of the text. */
const embed = (text: string) => unitVector([text.length, text.charCodeAt(text.length - 1) % 7, 1]);

async function stageSome(rewrite: VectorRewrite, limit: number): Promise<number> {
  const items = await rewrite.pending(limit);
  await rewrite.stage(items.map((item) => ({ ref: item.ref, vector: embed(item.text) })));
  return items.length;
}

describe("SqliteVectorRewrite", () => {
  it("stages in batches, resumes after a reopen without redoing staged rows, commits to the new dimension", async () => {
    const dir = await storeWithFive();
    const first = SqliteVectorRewrite.episodic(join(dir), "target-b");
    expect(await first.progress()).toEqual({ done: 0, total: 5 });
    expect(await stageSome(first, 2)).toBe(2);
    expect(await stageSome(first, 1)).toBe(1);
    expect(await first.progress()).toEqual({ done: 3, total: 5 });
    await first.close(); // killed here

    const again = SqliteVectorRewrite.episodic(dir, "target-b");
    expect(await again.progress()).toEqual({ done: 3, total: 5 });
    const rest = await again.pending(10);
    expect(rest.map((item) => item.text)).toEqual(["text d", "text e"]);
    await expect(again.commit(3)).rejects.toThrow(StoreConfigError);
    await again.stage(rest.map((item) => ({ ref: item.ref, vector: embed(item.text) })));
    const members = [];
    for await (const member of again.members()) members.push(member);
    expect(members.filter((m) => m.clusterId === 7)).toHaveLength(2);
    await again.commit(3);
    expect(await again.pending(10)).toEqual([]);
    expect(await again.progress()).toEqual({ done: 5, total: 5 });
    await again.commit(3); // a second commit (a resumed command) is a no-op
    await again.close();

    const store = new SqliteEpisodicStore({ dir, dimensions: 3 });
    await store.init();
    expect(store.indexOrigin).toBe("rebuilt");
    expect(Array.from((await store.get("ns-a", "c"))!.embedding)).toEqual(Array.from(embed("text c")));
    const hits = await store.search("ns-a", embed("text e"), 1, {});
    expect(hits[0]!.memory.id).toBe("e");
    await store.close();
  });

  it("a rewrite for another target drops what was staged for the first", async () => {
    const dir = await storeWithFive();
    const first = SqliteVectorRewrite.episodic(dir, "target-b");
    await stageSome(first, 3);
    await first.close();
    const other = SqliteVectorRewrite.episodic(dir, "target-c");
    expect(await other.progress()).toEqual({ done: 0, total: 5 });
    await other.close();
  });

  it("the graph store's memory nodes are rewritten too, and its vector index follows", async () => {
    const dir = await storeWithFive();
    const rewrite = SqliteVectorRewrite.graphMemories(dir, "target-b");
    expect(await rewrite.progress()).toEqual({ done: 0, total: 1 });
    await stageSome(rewrite, 10);
    await rewrite.commit(3);
    await rewrite.close();
    const graph = new SqliteGraphStore({ dir, dimensions: 3 });
    await graph.init();
    expect(Array.from((await graph.getMemoryNode("ns-a", "s"))!.embedding)).toEqual(Array.from(embed("a fact")));
    expect((await graph.searchMemoryNodes("ns-a", embed("a fact"), 1, {})).map((hit) => hit.memory.id)).toEqual(["s"]);
    expect((await graph.health()).healthy).toBe(true);
    await graph.close();
  });
});
