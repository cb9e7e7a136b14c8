import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteEpisodicStore, type StoredMemory, type StoreFilter } from "../src/index.js";
import { memory } from "./support/memories.js";
import { gaussian, normalize, randomUnit, seededRandom } from "./support/vectors.js";

const COUNT = 100_000;
const DIMS = 64;
const NAMESPACES = ["ns-0", "ns-1", "ns-2", "ns-3"];
const CLUSTERS = 200;
const NOISE = 0.12;
const BATCH = 2_000;
const QUERIES = 200;
const K = 10;

/**
 * 100k clustered memories over four namespaces, then search(k=10) against
 * brute force over the same namespace: recall@10 must stay ≥ 0.95,
 * unfiltered, with a selective filter (~10% of a namespace), and after the
 * index is rebuilt from SQLite at start-up.
 */
describe("SqliteEpisodicStore at 100k memories", () => {
  const random = seededRandom(2024);
  const centers = Array.from({ length: CLUSTERS }, () => randomUnit(random, DIMS));
  const clustered = () => {
    const center = centers[Math.floor(random() * CLUSTERS)]!;
    return normalize(center.map((x) => x + NOISE * gaussian(random)));
  };
  /** Per namespace: ids, kinds and a flat matrix of embeddings, for brute force. */
  const truth = new Map(NAMESPACES.map((ns) => [ns, { ids: [] as string[], kinds: [] as number[], vectors: new Float32Array(COUNT * DIMS), size: 0 }]));
  let dir: string;
  let store: SqliteEpisodicStore;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "t4dm-scale-"));
    store = new SqliteEpisodicStore({ dir, dimensions: DIMS });
    await store.init();
  });
  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  function bruteForce(namespace: string, query: Float32Array, filter: (i: number) => boolean): string[] {
    const t = truth.get(namespace)!;
    const scored: { id: string; s: number }[] = [];
    for (let i = 0; i < t.size; i++) {
      if (!filter(i)) continue;
      let dot = 0;
      const offset = i * DIMS;
      for (let d = 0; d < DIMS; d++) dot += query[d]! * t.vectors[offset + d]!;
      scored.push({ id: t.ids[i]!, s: dot });
    }
    return scored
      .sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : 1))
      .slice(0, K)
      .map((e) => e.id);
  }

  async function recall(filter: StoreFilter, keep: (kinds: number[], i: number) => boolean): Promise<{ recall: number; msPerQuery: number }> {
    let found = 0;
    let wanted = 0;
    let elapsed = 0;
    for (let q = 0; q < QUERIES; q++) {
      const namespace = NAMESPACES[q % NAMESPACES.length]!;
      const query = clustered();
      const expected = bruteForce(namespace, query, (i) => keep(truth.get(namespace)!.kinds, i));
      const started = performance.now();
      const hits = await store.search(namespace, query, K, filter);
      elapsed += performance.now() - started;
      const got = new Set(hits.map((hit) => hit.memory.id));
      expect(hits.every((hit) => hit.memory.namespace === namespace)).toBe(true);
      wanted += expected.length;
      found += expected.filter((id) => got.has(id)).length;
    }
    return { recall: found / wanted, msPerQuery: elapsed / QUERIES };
  }

  it(
    "inserts 100k memories in batches, then keeps recall@10 ≥ 0.95",
    async () => {
      let insertMs = 0;
      for (let start = 0; start < COUNT; start += BATCH) {
        const batch: StoredMemory[] = [];
        for (let i = start; i < Math.min(COUNT, start + BATCH); i++) {
          const namespace = NAMESPACES[Math.floor(random() * NAMESPACES.length)]!;
          const kind = random() < 0.1 ? 2 : 1;
          const m = memory({ id: `m-${String(i).padStart(6, "0")}`, namespace, kind, embedding: clustered(), createTime: new Date(1_700_000_000_000 + i) });
          const t = truth.get(namespace)!;
          t.ids.push(m.id);
          t.kinds.push(kind);
          t.vectors.set(m.embedding, t.size * DIMS);
          t.size++;
          batch.push(m);
        }
        const started = performance.now();
        await store.upsert(batch);
        insertMs += performance.now() - started;
      }
      expect(await store.count("ns-0")).toBe(truth.get("ns-0")!.size);

      const plain = await recall({}, () => true);
      const selective = await recall({ kinds: [2] }, (kinds, i) => kinds[i] === 2);

      const closeStarted = performance.now();
      await store.close();
      const closeMs = performance.now() - closeStarted;
      const reopenStarted = performance.now();
      store = new SqliteEpisodicStore({ dir, dimensions: DIMS });
      await store.init();
      const reopenMs = performance.now() - reopenStarted;
      expect(store.indexOrigin).toBe("loaded");

      // A lost index file (or a crash long after the last save) means a rebuild from SQLite at start-up.
      await store.close();
      await rm(join(dir, "episodic.usearch"));
      const rebuildStarted = performance.now();
      store = new SqliteEpisodicStore({ dir, dimensions: DIMS });
      await store.init();
      const rebuildMs = performance.now() - rebuildStarted;
      expect(store.indexOrigin).toBe("rebuilt");
      const rebuilt = await recall({}, () => true);

      console.log(
        [
          `scale: ${COUNT} memories x ${DIMS} dims inserted in ${(insertMs / 1000).toFixed(1)} s (${Math.round(COUNT / (insertMs / 1000))}/s)`,
          `recall@${K} ${plain.recall.toFixed(4)} (${plain.msPerQuery.toFixed(2)} ms/query)`,
          `recall@${K} with a ~10% kind filter ${selective.recall.toFixed(4)} (${selective.msPerQuery.toFixed(2)} ms/query)`,
          `close (index save) ${closeMs.toFixed(0)} ms, reopen (verify + load) ${reopenMs.toFixed(0)} ms`,
          `start-up rebuild from SQLite ${(rebuildMs / 1000).toFixed(1)} s, then recall@${K} ${rebuilt.recall.toFixed(4)}`,
        ].join("; "),
      );
      expect(rebuilt.recall).toBeGreaterThanOrEqual(0.95);
      expect(plain.recall).toBeGreaterThanOrEqual(0.95);
      expect(selective.recall).toBeGreaterThanOrEqual(0.95);
    },
    180_000,
  );
});
