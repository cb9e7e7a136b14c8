// The Qdrant episodic store's vector rewrite (same dimension only). Runs against a real Qdrant only:
//   T4DM_TEST_QDRANT_URL=http://127.0.0.1:6333 npx vitest run libs/storage/test/qdrant-vector-rewrite.test.ts
// (not run on the build machines, where Qdrant cannot be installed; type-checked there).
import { randomUUID } from "node:crypto";
import { QdrantClient } from "@qdrant/js-client-rest";
import { describe, expect, it } from "vitest";
import { QdrantEpisodicStore, QdrantVectorRewrite, StoreConfigError } from "../src/index.js";
import { memory } from "./support/memories.js";
import { unitVector } from "./support/vectors.js";

const url = process.env.T4DM_TEST_QDRANT_URL;
const apiKey = process.env.T4DM_TEST_QDRANT_API_KEY;
const SKIPPED = "Qdrant rewrite tests SKIPPED: set T4DM_TEST_QDRANT_URL";

/** The new embedder of this test: 4 dimensions (as the store), a function of the text. */
const embed = (text: string) => unitVector([text.length, text.charCodeAt(text.length - 1) % 7, 1, 2]);

if (url) {
  describe("QdrantVectorRewrite against a real Qdrant", () => {
    it("stages, resumes after a reopen, commits vectors and the embedding payload; refuses another dimension", async () => {
      const prefix = `t4dm_test_rewrite_${randomUUID().slice(0, 8)}`;
      const options = { url, collectionPrefix: prefix, ...(apiKey ? { apiKey } : {}) };
      const store = new QdrantEpisodicStore({ ...options, dimensions: 4 });
      await store.init();
      try {
        await store.upsert(["a", "b", "c"].map((id, i) => memory({ id, content: `text ${id}`, embedding: unitVector([1, i, 0, 0]), clusterId: 1 })));
        await expect(QdrantVectorRewrite.open(options, "target-b", 3)).rejects.toThrow(StoreConfigError);

        const first = await QdrantVectorRewrite.open(options, "target-b", 4);
        expect(await first.progress()).toEqual({ done: 0, total: 3 });
        const some = await first.pending(2);
        await first.stage(some.map((item) => ({ ref: item.ref, vector: embed(item.text) })));
        const again = await QdrantVectorRewrite.open(options, "target-b", 4);
        expect(await again.progress()).toEqual({ done: 2, total: 3 });
        const rest = await again.pending(10);
        expect(rest).toHaveLength(1);
        await expect(again.commit()).rejects.toThrow(StoreConfigError);
        await again.stage(rest.map((item) => ({ ref: item.ref, vector: embed(item.text) })));
        const members = [];
        for await (const member of again.members()) members.push(member);
        expect(members).toHaveLength(3);
        await again.commit();
        expect(await again.pending(10)).toEqual([]);

        expect(Array.from((await store.get("ns-a", "b"))!.embedding)).toEqual(Array.from(embed("text b")));
        expect((await store.search("ns-a", embed("text c"), 1, {}))[0]!.memory.id).toBe("c");
      } finally {
        await store.close();
        const client = new QdrantClient({ url, checkCompatibility: false, ...(apiKey ? { apiKey } : {}) });
        await Promise.all([...store.collectionNames.values()].map((name) => client.deleteCollection(name).catch(() => false)));
      }
    });
  });
} else {
  describe.skip(SKIPPED, () => {
    it("needs a Qdrant server", () => {});
  });
}
