// @ts-check
/**
 * Recall (issue #9, item 4): latency and recall@10 of a namespace-filtered
 * search over 100k and 1M memories of 384 dims in the embedded store
 * (SQLite + usearch HNSW), next to exact brute-force search over the same
 * vectors in the same process (the anchor); then the same queries end to end
 * through the real memory service's Recall RPC, and the memory service's RSS
 * per million memories.
 *
 * How:
 *  - Data: seeded clustered vectors (bench/lib/recall-data.mjs): 2,000 topics,
 *    each a random unit centroid with its own random 16-dimensional subspace;
 *    a memory is its topic's centroid plus a Gaussian point of that subspace
 *    (0.22 per axis) plus isotropic noise (0.01 per dimension), normalised:
 *    many topics, and a low intrinsic dimension inside each, as with sentence
 *    embeddings. 256 B content. Memory i goes to namespace
 *    ns-(i mod 10), so every namespace holds a tenth of the memories and
 *    shares every topic: the global HNSW index returns mostly other
 *    namespaces' memories and the namespace filter matters. Queries are fresh
 *    draws from the same distribution (near the data, not copies of it), all
 *    against namespace ns-0.
 *  - Populate: the library's SqliteEpisodicStore (what the service opens) in
 *    <data dir>/store, upsert in batches of 4096, the index written once at
 *    the end (saveIndexEvery is raised for the bulk load; the service's
 *    default re-writes the whole index file every 10,000 changes). Timed:
 *    the upserts (SQLite rows + HNSW inserts) and the index save on close.
 *  - In process: the store reopened with the service's default options
 *    (HNSW M=16, ef_add=128, ef=64; it loads the saved index), then RUNS
 *    passes over the query set: store.search(ns-0, q, 10, {}) timed per query
 *    and recall@10 against the exact top 10 of ns-0; and the anchor, a
 *    Float32Array dot-product scan of ns-0's vectors, timed per query.
 *  - End to end: the real sidecar + memory service (startPod, default sync
 *    mode, T4DM_LOG_LEVEL=info) over the populated data dir; a recall hit on a
 *    known stored id is checked first; then RUNS passes of Recall(namespace
 *    ns-0, query_embedding, top_k 10) from one caller: p50/p99 and recall@10.
 *    Each Recall also logs its trace to the WAL (a durable write), which is
 *    part of what a user waits for.
 *  - RSS per 1M memories: the memory service's VmRSS after opening the store
 *    and serving the recalls, minus its VmRSS on an empty data dir after the
 *    same number of recalls, scaled to 1M.
 *
 * Knobs (environment):
 *   BENCH_RECALL_SIZES=100000,1000000   memories per size (all namespaces)
 *   BENCH_RECALL_QUERIES=500            queries per pass
 *   BENCH_RECALL_NAMESPACES=10          namespaces the memories are spread over
 *   BENCH_RECALL_E2E=1                  0 skips the memory-service part (and RSS)
 *   BENCH_RUNS=3, BENCH_DATA_ROOT=build/bench/data (see bench/lib/report.mjs)
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { memoryV1 } from "@t4dm/proto";
import { SqliteEpisodicStore } from "@t4dm/storage";
import { call, connectClients, startPod } from "@t4dm/testkit";
import { describeMachine, machineFacts, noiseMeter, processRssBytes } from "./lib/machine.mjs";
import { bruteForceTopK, clusteredSource, recallAtK } from "./lib/recall-data.mjs";
import { DATA_ROOT, RUNS, printRows, writeResult } from "./lib/report.mjs";
import { latencyMs, ratioOfRuns, summarize } from "./lib/stats.mjs";

const DIMS = 384;
const K = 10;
const BATCH = 4096;
/** The data's shape (see clusteredSource). */
const DATA = { clusters: 2000, latent: 16, latentSigma: 0.22, noiseSigma: 0.01 };
const SEED = 20261125;
const SIZES = intList(process.env.BENCH_RECALL_SIZES ?? "100000,1000000");
const QUERIES = Number(process.env.BENCH_RECALL_QUERIES ?? 500);
const NAMESPACES = Number(process.env.BENCH_RECALL_NAMESPACES ?? 10);
const E2E = process.env.BENCH_RECALL_E2E !== "0";
/** The namespace every query searches. */
const QUERY_NS = "ns-0";
/** Queries run before each measured series, not counted (page cache, JIT). */
const WARMUP = 50;
/** The goals, checked at 1M. */
const GOAL = { recall: 0.95, p99Ms: 5, atSize: 1_000_000 };
/** What the service runs with in the end-to-end part. */
const POD_ENV = { T4DM_LOG_LEVEL: "info", T4DM_EMBEDDING_DIM: String(DIMS) };

/** @param {string} raw */
function intList(raw) {
  return raw.split(",").map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1) throw new Error(`not a positive integer list: ${raw}`);
    return n;
  });
}

/** 256 B of content, deterministic per memory. @param {number} i */
function contentOf(i) {
  const head = `synthetic memory ${i}: `;
  return head + "lorem ipsum dolor sit amet ".repeat(10).slice(0, 256 - head.length);
}

/** Bytes under a directory (du), or NaN. @param {string} dir */
function diskBytes(dir) {
  try {
    return Number(execFileSync("du", ["-sb", dir], { encoding: "utf8" }).split(/\s/)[0]);
  } catch {
    return NaN;
  }
}

/**
 * Generates `size` memories and writes them to a fresh store in `storeDir`,
 * keeping the query namespace's vectors for the brute-force anchor.
 * @param {number} size
 * @param {string} storeDir
 * @param {ReturnType<typeof clusteredSource>} source
 */
async function populate(size, storeDir, source) {
  const nsRows = Math.ceil(size / NAMESPACES);
  const matrix = new Float32Array(nsRows * DIMS);
  /** @type {string[]} */
  const ids = [];
  const store = new SqliteEpisodicStore({ dir: storeDir, dimensions: DIMS, saveIndexEvery: Number.MAX_SAFE_INTEGER });
  await store.init();
  let upsertNs = 0n;
  let generateNs = 0n;
  const created = new Date(1_700_000_000_000);
  for (let start = 0; start < size; start += BATCH) {
    const g0 = process.hrtime.bigint();
    /** @type {import("@t4dm/storage").StoredMemory[]} */
    const batch = [];
    for (let i = start; i < Math.min(size, start + BATCH); i++) {
      const embedding = source.next(new Float32Array(DIMS));
      const namespace = `ns-${i % NAMESPACES}`;
      const id = `m-${i}`;
      if (namespace === QUERY_NS) {
        matrix.set(embedding, ids.length * DIMS);
        ids.push(id);
      }
      batch.push({
        id,
        namespace,
        kind: 1,
        content: contentOf(i),
        embedding,
        metadata: {},
        importance: 0.5,
        createTime: new Date(created.getTime() + i),
        evidence: 0,
        accessCount: 0,
        rewardSum: 0,
        rewardCount: 0,
        clusterId: 0,
      });
    }
    const t0 = process.hrtime.bigint();
    await store.upsert(batch);
    upsertNs += process.hrtime.bigint() - t0;
    generateNs += t0 - g0;
    // Large builds take minutes: show they progress.
    const done = Math.min(size, start + BATCH);
    if (done % (25 * BATCH) < BATCH && done < size) {
      console.log(`  ${done.toLocaleString("en-US")} upserted, ${(Number(upsertNs) / 1e9).toFixed(0)} s in upserts (${Math.round(done / (Number(upsertNs) / 1e9))}/s)`);
    }
  }
  const c0 = process.hrtime.bigint();
  await store.close();
  const closeNs = process.hrtime.bigint() - c0;
  return {
    matrix,
    ids,
    upsertSeconds: Number(upsertNs) / 1e9,
    generateSeconds: Number(generateNs) / 1e9,
    indexSaveSeconds: Number(closeNs) / 1e9,
  };
}

/**
 * Times `fn` per query over the query set (after a short warm-up) and collects what each returned.
 * @template T
 * @param {Float32Array[]} queries
 * @param {(q: Float32Array) => Promise<T> | T} fn
 */
async function timedPass(queries, fn) {
  for (const q of queries.slice(0, WARMUP)) await fn(q);
  /** @type {number[]} */
  const samples = [];
  /** @type {T[]} */
  const results = [];
  for (const q of queries) {
    const t0 = process.hrtime.bigint();
    const r = await fn(q);
    samples.push(Number(process.hrtime.bigint() - t0));
    results.push(r);
  }
  return { latency: latencyMs(samples), results };
}

/**
 * Starts the real pod over `dataDir`, checks a known stored memory is recalled,
 * runs RUNS passes of Recall, and reads the memory service's RSS.
 * @param {string} dataDir
 * @param {Float32Array[]} queries
 * @param {{ id: string, embedding: Float32Array } | null} known a stored memory, or null for the empty baseline
 */
async function serviceRecall(dataDir, queries, known) {
  const t0 = Date.now();
  const pod = await startPod({ dataDir, env: POD_ENV });
  const readySeconds = (Date.now() - t0) / 1000;
  const clients = connectClients(pod.grpcAddr);
  try {
    const recall = (/** @type {Float32Array} */ q) =>
      call(
        clients.memory.recall.bind(clients.memory),
        memoryV1.RecallRequest.fromPartial({ namespace: QUERY_NS, queryEmbedding: Array.from(q), topK: K }),
      ).then((r) => r.memories.map((m) => m.memory?.id ?? ""));
    let knownHit = null;
    if (known) {
      const got = await recall(known.embedding);
      knownHit = got[0] === known.id;
      if (!got.includes(known.id)) throw new Error(`the memory service did not recall the pre-populated memory ${known.id} (got ${got.join(", ")})`);
    }
    /** @type {{ latency: ReturnType<typeof latencyMs>, ids: string[][] }[]} */
    const passes = [];
    for (let run = 0; run < RUNS; run++) {
      const pass = await timedPass(queries, recall);
      passes.push({ latency: pass.latency, ids: pass.results });
    }
    const rssBytes = processRssBytes(pod.memory.child.pid);
    const exited = pod.memory.child.exitCode !== null || pod.sidecar.child.exitCode !== null;
    if (exited) throw new Error("a service exited during the recall runs");
    return { readySeconds, knownHit, passes, rssBytes };
  } finally {
    clients.close();
    await pod.stop();
  }
}

/**
 * One size: populate, measure in process and against brute force, then end to end.
 * @param {number} size
 * @param {number | null} emptyRss the memory service's RSS on an empty data dir
 */
async function benchSize(size, emptyRss) {
  const dataDir = mkdtempSync(path.join(DATA_ROOT, "recall-"));
  const storeDir = path.join(dataDir, "store");
  try {
    const source = clusteredSource({ seed: SEED + size, dims: DIMS, ...DATA });
    console.log(`recall: ${size.toLocaleString("en-US")} memories: populating ${storeDir} ...`);
    const built = await populate(size, storeDir, source);
    const diskSize = diskBytes(storeDir);
    console.log(
      `  upserts ${built.upsertSeconds.toFixed(1)} s (SQLite + HNSW), index save ${built.indexSaveSeconds.toFixed(1)} s, ` +
        `generation ${built.generateSeconds.toFixed(1)} s, on disk ${(diskSize / 2 ** 20).toFixed(0)} MiB`,
    );
    const queries = Array.from({ length: QUERIES }, () => source.next(new Float32Array(DIMS)));
    const nsCount = built.ids.length;

    // The store as the service opens it: default options, loading the saved index.
    const o0 = process.hrtime.bigint();
    const store = new SqliteEpisodicStore({ dir: storeDir, dimensions: DIMS });
    await store.init();
    const openSeconds = Number(process.hrtime.bigint() - o0) / 1e9;
    const origin = store.indexOrigin;
    /** @type {{ ann: ReturnType<typeof latencyMs>, annRecall: number, brute: ReturnType<typeof latencyMs>, otherCpuPercent: number | null }[]} */
    const runs = [];
    /** The exact top 10 of every query: what the anchor's first pass returned. @type {string[][]} */
    let truth = [];
    try {
      for (let run = 0; run < RUNS; run++) {
        const noise = noiseMeter([]);
        const brute = await timedPass(queries, (q) => bruteForceTopK(built.matrix, nsCount, DIMS, q, K).rows.map((r) => /** @type {string} */ (built.ids[r])));
        if (run === 0) truth = brute.results;
        const ann = await timedPass(queries, async (q) => (await store.search(QUERY_NS, q, K, {})).map((h) => h.memory.id));
        runs.push({ ann: ann.latency, annRecall: recallAtK(truth, ann.results, K), brute: brute.latency, otherCpuPercent: noise.stop() });
        console.log(
          `  run ${run + 1}: store p50 ${ann.latency.p50Ms.toFixed(3)} ms p99 ${ann.latency.p99Ms.toFixed(3)} ms recall@10 ${runs.at(-1)?.annRecall.toFixed(4)}; ` +
            `brute force p50 ${brute.latency.p50Ms.toFixed(2)} ms p99 ${brute.latency.p99Ms.toFixed(2)} ms (others' CPU ${runs.at(-1)?.otherCpuPercent?.toFixed(0)}%)`,
        );
      }
    } finally {
      await store.close();
    }

    let e2e = null;
    if (E2E) {
      console.log(`  starting the sidecar + memory service over ${dataDir} ...`);
      const known = { id: /** @type {string} */ (built.ids[0]), embedding: built.matrix.slice(0, DIMS) };
      const s = await serviceRecall(dataDir, queries, known);
      e2e = {
        readySeconds: s.readySeconds,
        knownHitFirst: s.knownHit,
        runs: s.passes.map((p) => ({ latency: p.latency, recall: recallAtK(truth, p.ids, K) })),
        rssBytes: s.rssBytes,
        rssPerMillionBytes: s.rssBytes !== null && emptyRss !== null ? ((s.rssBytes - emptyRss) * 1e6) / size : null,
      };
      e2e.runs.forEach((r, i) =>
        console.log(`  service run ${i + 1}: Recall p50 ${r.latency.p50Ms.toFixed(2)} ms p99 ${r.latency.p99Ms.toFixed(2)} ms recall@10 ${r.recall.toFixed(4)}`),
      );
      console.log(`  service ready in ${s.readySeconds.toFixed(1)} s, RSS ${((s.rssBytes ?? NaN) / 2 ** 20).toFixed(0)} MiB`);
    }
    return {
      size,
      namespaceSize: nsCount,
      queries: QUERIES,
      upsertSeconds: built.upsertSeconds,
      indexSaveSeconds: built.indexSaveSeconds,
      generateSeconds: built.generateSeconds,
      diskBytes: diskSize,
      reopenSeconds: openSeconds,
      indexOrigin: origin,
      runs,
      e2e,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The memory service's RSS on an empty data dir after serving the same recalls (the baseline of RSS per memory). */
async function emptyServiceRss() {
  const dataDir = mkdtempSync(path.join(DATA_ROOT, "recall-empty-"));
  try {
    const source = clusteredSource({ seed: SEED, dims: DIMS, ...DATA });
    const queries = Array.from({ length: QUERIES }, () => source.next(new Float32Array(DIMS)));
    const s = await serviceRecall(dataDir, queries, null);
    return s.rssBytes;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Rows for one size.
 * @param {Awaited<ReturnType<typeof benchSize>>} r
 * @returns {import("./lib/report.mjs").Row[]}
 */
function rowsOf(r) {
  const n = r.size >= 1e6 ? `${r.size / 1e6}M` : `${r.size / 1e3}k`;
  const atGoal = r.size === GOAL.atSize;
  const scope = `${NAMESPACES} namespaces, filter to 1 (${r.namespaceSize.toLocaleString("en-US")})`;
  const ann50 = r.runs.map((x) => x.ann.p50Ms);
  const ann99 = r.runs.map((x) => x.ann.p99Ms);
  const bf50 = r.runs.map((x) => x.brute.p50Ms);
  const bf99 = r.runs.map((x) => x.brute.p99Ms);
  const recall = summarize(r.runs.map((x) => x.annRecall));
  const brute = "exact brute force";
  /** @type {import("./lib/report.mjs").Row[]} */
  const rows = [
    {
      section: "Recall",
      metric: `${n} x 384-d, store search k=10 p50 (${scope})`,
      unit: "ms",
      value: summarize(ann50),
      anchor: { name: brute, value: summarize(bf50) },
      ratio: ratioOfRuns(ann50, bf50),
      note: "in-process SqliteEpisodicStore.search vs a Float32Array dot-product scan of the namespace; ratio = store/brute force, lower is better",
    },
    {
      section: "Recall",
      metric: `${n} store search k=10 p99`,
      unit: "ms",
      value: summarize(ann99),
      anchor: { name: brute, value: summarize(bf99) },
      ratio: ratioOfRuns(ann99, bf99),
      goal: atGoal ? `<= ${GOAL.p99Ms} ms at 1M` : null,
      met: atGoal ? summarize(ann99).median <= GOAL.p99Ms : null,
      note: "ratio = store/brute force, lower is better",
    },
    {
      section: "Recall",
      metric: `${n} recall@10 vs exact`,
      unit: "",
      value: recall,
      goal: atGoal ? `>= ${GOAL.recall} at 1M` : null,
      met: atGoal ? recall.median >= GOAL.recall : null,
      note: `HNSW M=16 ef_add=128 ef=64 (service defaults), global index over-fetched for the namespace filter; ${r.queries} queries near the data`,
    },
    {
      section: "Recall",
      metric: `${n} build: upserts (SQLite + HNSW)`,
      unit: "s",
      value: summarize([r.upsertSeconds]),
      note: `library upserts in batches of ${BATCH}, ${Math.round(r.size / r.upsertSeconds).toLocaleString("en-US")} memories/s; index file save ${r.indexSaveSeconds.toFixed(1)} s more; one build per size`,
    },
    {
      section: "Recall",
      metric: `${n} store on disk`,
      unit: "MiB",
      value: summarize([r.diskBytes / 2 ** 20]),
      note: `SQLite rows (384 float32 + 256 B content each) + usearch index file; ${Math.round(r.diskBytes / r.size)} B per memory`,
    },
  ];
  if (r.e2e) {
    const e50 = r.e2e.runs.map((x) => x.latency.p50Ms);
    const e99 = r.e2e.runs.map((x) => x.latency.p99Ms);
    rows.push(
      {
        section: "Recall",
        metric: `${n} Recall RPC top_k=10 p50, end to end`,
        unit: "ms",
        value: summarize(e50),
        anchor: { name: brute, value: summarize(bf50) },
        ratio: ratioOfRuns(e50, bf50),
        note: "one gRPC caller on loopback, real memory service + sidecar (default fsync: each Recall logs its trace durably); ratio lower is better",
      },
      {
        section: "Recall",
        metric: `${n} Recall RPC top_k=10 p99, end to end`,
        unit: "ms",
        value: summarize(e99),
        anchor: { name: brute, value: summarize(bf99) },
        ratio: ratioOfRuns(e99, bf99),
        note: `recall@10 through the service ${summarize(r.e2e.runs.map((x) => x.recall)).median.toFixed(4)}; service ready in ${r.e2e.readySeconds.toFixed(1)} s over the populated dir`,
      },
    );
    if (r.e2e.rssPerMillionBytes !== null) {
      rows.push({
        section: "Recall",
        metric: `memory service RSS per 1M memories (at ${n})`,
        unit: "MiB",
        value: summarize([r.e2e.rssPerMillionBytes / 2 ** 20]),
        note: `VmRSS ${((r.e2e.rssBytes ?? NaN) / 2 ** 20).toFixed(0)} MiB after opening the store and ${RUNS * (QUERIES + WARMUP) + 1} recalls, minus the same on an empty store, x 1M/${r.size}`,
      });
    }
  }
  return rows;
}

async function main() {
  const started = Date.now();
  mkdirSync(DATA_ROOT, { recursive: true });
  const machine = machineFacts(DATA_ROOT);
  console.log(describeMachine(machine));
  const emptyRss = E2E ? await emptyServiceRss() : null;
  if (emptyRss !== null) console.log(`recall: memory service RSS on an empty store ${(emptyRss / 2 ** 20).toFixed(0)} MiB`);
  const results = [];
  for (const size of SIZES) results.push(await benchSize(size, emptyRss));
  const rows = results.flatMap(rowsOf);
  console.log("");
  printRows(rows);
  const seconds = (Date.now() - started) / 1000;
  const file = writeResult({
    bench: "recall",
    command: "node bench/recall.mjs",
    machine,
    rows,
    details: {
      dims: DIMS,
      k: K,
      namespaces: NAMESPACES,
      queryNamespace: QUERY_NS,
      queries: QUERIES,
      warmupQueries: WARMUP,
      data: { ...DATA, seed: SEED, note: "topic centroid + Gaussian point of a per-topic latent subspace + isotropic noise, normalised; queries are fresh draws" },
      emptyServiceRssBytes: emptyRss,
      sizes: results,
      seconds,
    },
  });
  console.log(`\nrecall: done in ${seconds.toFixed(0)} s; wrote ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
