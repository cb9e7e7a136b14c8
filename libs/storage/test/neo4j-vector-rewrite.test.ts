// The Neo4j graph store's vector rewrite (the re-embed command's half for Neo4j), on a server of
// its own: a rewrite covers every :Memory and :Procedure node of the database, so it must not
// run on the run's shared server, where other tests keep their namespaces.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Neo4jServer } from "@t4dm/testkit";
import { Neo4jGraphStore, Neo4jVectorRewrite, StoreConfigError } from "../src/index.js";
import { storeOptions } from "./neo4j-harness.js";
import { unitVector } from "./support/vectors.js";

/** The new embedder of this test: 3 dimensions, a function of the text. */
const embed = (text: string) => unitVector([text.length, text.charCodeAt(0) % 5, 1]);

describe("Neo4jVectorRewrite on a real server", () => {
  let server: Neo4jServer;
  beforeAll(async () => {
    server = await Neo4jServer.start();
  }, 180_000);
  afterAll(async () => {
    await server?.dispose();
  });

  it("stages, survives a reopen without restaging, commits memory nodes and procedure triggers; a second commit is a no-op", async () => {
    const options = storeOptions(server.connection);
    const store = new Neo4jGraphStore(options);
    await store.init();
    for (const [id, content] of [["m1", "a fact about cats"], ["m2", "another fact"]] as const) {
      await store.upsertMemoryNode({ id, namespace: "n", kind: 3, content, embedding: unitVector([1, 0, 0, 0]), metadata: {}, createTime: new Date(0), importance: 0.5, evidence: 0, clusterId: 0 });
    }
    await store.upsertProcedure({ id: "p1", namespace: "n", name: "deploy", trigger: "when asked to deploy", triggerEmbedding: unitVector([0, 1, 0, 0]), steps: [], metadata: {}, now: new Date(0) });

    const first = await Neo4jVectorRewrite.open(options, "target-b");
    expect(await first.progress()).toEqual({ done: 0, total: 3 });
    const some = await first.pending(2);
    expect(some).toHaveLength(2);
    await first.stage(some.map((item) => ({ ref: item.ref, vector: embed(item.text) })));
    await first.close(); // killed here

    const again = await Neo4jVectorRewrite.open(options, "target-b");
    expect(await again.progress()).toEqual({ done: 2, total: 3 });
    const rest = await again.pending(10);
    expect(rest).toHaveLength(1);
    await expect(again.commit(3)).rejects.toThrow(StoreConfigError);
    // Until the commit, reads see the old vectors.
    expect(Array.from((await store.getMemoryNode("n", "m1"))!.embedding)).toHaveLength(4);
    await again.stage(rest.map((item) => ({ ref: item.ref, vector: embed(item.text) })));
    await again.commit(3);
    await again.commit(3);
    expect(await again.pending(10)).toEqual([]);
    await again.close();

    const node = await store.getMemoryNode("n", "m1");
    expect(Array.from(node!.embedding)).toEqual(Array.from(embed("a fact about cats")));
    const procedure = await store.getProcedure("n", "p1");
    expect(Array.from(procedure!.triggerEmbedding)).toEqual(Array.from(embed("when asked to deploy")));

    // Another target later (B → C) rewrites everything again.
    const next = await Neo4jVectorRewrite.open(options, "target-c");
    expect(await next.progress()).toEqual({ done: 0, total: 3 });
    await next.close();
    await store.close();
  }, 120_000);
});
