// @ts-check
// The local embedding model alone (services/memory's MiniLmEmbedder: worker threads, coalesced
// batches padded to their longest text), next to the hashing embedder on the same texts as the
// anchor (what a vector costs with no model). Prints figures; never part of `make test`.
//
//   make build model && node bench/embedder.mjs      (BENCH_RUNS, default 3; BENCH_WORKERS, default 1)
import { DEFAULT_EMBEDDING_MODEL_DIR } from "@t4dm/config";
import { BuiltinEmbedder } from "../services/memory/dist/embedding/builtin-embedder.js";
import { MiniLmEmbedder } from "../services/memory/dist/embedding/minilm-embedder.js";
import { describeMachine, machineFacts } from "./lib/machine.mjs";
import { latencyMs, summarize } from "./lib/stats.mjs";

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const WORKERS = Math.max(1, Number(process.env.BENCH_WORKERS ?? 1));
const QUERIES = ["what pet does Alice have", "where is the deploy script", "which database does billing use", "who reviews the on-call rota"];
const MEMORY = "The billing service moved from MySQL to Postgres in March; the migration runbook lives in docs/runbooks/billing.md and Dana owns it.";

/** @param {{ embed(texts: readonly string[]): Promise<Float32Array[]> }} embedder */
async function measure(embedder) {
  // One caller, one short query at a time: what a lone Recall waits for.
  /** @type {number[]} */
  const single = [];
  for (let i = 0; i < 200; i++) {
    const start = process.hrtime.bigint();
    await embedder.embed([QUERIES[i % QUERIES.length] ?? ""]);
    single.push(Number(process.hrtime.bigint() - start));
  }
  // 16 callers at once, one query each: concurrent Recalls share batches.
  /** @type {number[]} */
  const concurrent = [];
  const started = process.hrtime.bigint();
  for (let round = 0; round < 30; round++) {
    await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const start = process.hrtime.bigint();
        await embedder.embed([`${QUERIES[i % QUERIES.length]} ${round}`]);
        concurrent.push(Number(process.hrtime.bigint() - start));
      }),
    );
  }
  const concurrentSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  // One BatchRemember of 64 memory-sized texts (about 30 word pieces each).
  const batchStart = process.hrtime.bigint();
  for (let i = 0; i < 5; i++) await embedder.embed(Array.from({ length: 64 }, (_, k) => `${MEMORY} (${i}.${k})`));
  const batchSeconds = Number(process.hrtime.bigint() - batchStart) / 1e9;
  return {
    singleP50Ms: latencyMs(single).p50Ms,
    singleP99Ms: latencyMs(single).p99Ms,
    concurrentP50Ms: latencyMs(concurrent).p50Ms,
    concurrentPerSecond: (30 * 16) / concurrentSeconds,
    batchTextsPerSecond: (5 * 64) / batchSeconds,
  };
}

const model = await MiniLmEmbedder.load({ modelDir: DEFAULT_EMBEDDING_MODEL_DIR, workers: WORKERS, maxBatch: 64 });
const hashing = new BuiltinEmbedder(model.dimensions);
/** @type {Record<string, number[]>} */
const figures = {};
/** @type {Record<string, number[]>} */
const anchors = {};
for (let run = 0; run < RUNS; run++) {
  for (const [into, embedder] of /** @type {const} */ ([[figures, model], [anchors, hashing]])) {
    for (const [name, value] of Object.entries(await measure(embedder))) (into[name] ??= []).push(value);
  }
}
await model.close();

console.log(describeMachine(machineFacts(process.cwd())));
console.log(`all-MiniLM-L6-v2 int8 (${model.files.modelPath}), ${WORKERS} worker(s); median (min-max) of ${RUNS} runs; anchor: the hashing embedder`);
for (const name of Object.keys(figures)) {
  const s = summarize(figures[name] ?? []);
  const a = summarize(anchors[name] ?? []);
  const f = (/** @type {number} */ n) => (n < 10 ? n.toFixed(3) : n.toFixed(0));
  console.log(`${name.padEnd(22)} ${f(s.median)} (${f(s.min)}-${f(s.max)})   hashing ${f(a.median)}`);
}
