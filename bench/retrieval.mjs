// @ts-check
/**
 * Retrieval quality and cost on a public labelled data set (issue #15, item 3), through the real
 * sidecar + memory service with the local model (T4DM_EMBEDDER=minilm), next to two exact
 * baselines the bench computes itself over the same documents:
 *  - BM25: Okapi BM25, k1 1.2, b 0.75, bench/lib/bm25.mjs (tokenizer documented there);
 *  - dense: brute-force cosine over MiniLM vectors from services/memory's own MiniLmEmbedder,
 *    in this process, the same model files the service loads.
 *
 * Per run:
 *  1. The raw embedder anchor: every memory text through MiniLmEmbedder alone (1 worker, batches
 *     of 32 texts: the service's defaults), in calls of 64 texts as BatchRemember sends them.
 *     Those vectors, and the questions', are the dense baseline. The embedder is closed before
 *     the pod starts, so the two never share the cores.
 *  2. A fresh pod; each set of the data set goes into its own namespace by text BatchRemember
 *     (64 per call, admission ALWAYS, importance 0.5, no client embedding): memories/s over all
 *     sets, next to the anchor's texts/s.
 *  3. One Recall per question (top_k 10, text query, read_only when the build has it) per
 *     retrieval mode this build has (bench/lib/recall-request.mjs): recall@5, recall@10, MRR@10.
 *     A memory the service merged with a near-duplicate stands for every text merged into it.
 *  4. Latency: one more namespace filled to each of BENCH_RETRIEVAL_SIZES memories with
 *     client-supplied embeddings (each text's model vector from step 1 plus seeded noise, cosine
 *     about 0.9; contents are the data set's texts with a serial number), since the model would
 *     need hours for 100k long texts. The store must have caught up (ww_pending_promotions 0). The measured
 *     Recalls are text queries (the data set's questions), so the query embedding is in the
 *     figure. 1 caller, then 16 callers sharing one channel: p50/p99 per call and queries/s; then
 *     the same Recall from one caller with the question's model vector made by the client, the anchor that separates
 *     the text-only work (the model and whatever else a text query costs) from the rest. The
 *     memory service's CPU per Recall and other processes' CPU (noise) are recorded per window.
 *
 * Knobs: BENCH_RETRIEVAL_DATA=boolq|fiqa|chatterbot (bench/lib/retrieval-data.mjs), BENCH_RETRIEVAL_SIZES=10000,100000, BENCH_RETRIEVAL_QUERIES=400 (timed Recalls per size
 * and caller count), BENCH_RETRIEVAL_MAX_S=60 (a timed series stops there, with fewer calls),
 * BENCH_RUNS=3, BENCH_DATA_ROOT (see bench/README.md).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { DEFAULT_EMBEDDING_MODEL_DIR } from "@t4dm/config";
import { memoryV1 } from "@t4dm/proto";
import { call, connectClients, mulberry32, startPod } from "@t4dm/testkit";
import { MiniLmEmbedder } from "../services/memory/dist/embedding/minilm-embedder.js";
import { bm25Scorer } from "./lib/bm25.mjs";
import { describeMachine, machineFacts, noiseMeter, processCpuSeconds } from "./lib/machine.mjs";
import { recallAt, scoreRankings, topK } from "./lib/ranking-metrics.mjs";
import { HAS_MODE, HAS_READ_ONLY, KEYWORD_MODE, MODES, modeAvailable, recallRequest } from "./lib/recall-request.mjs";
import { DATA_ROOT, RUNS, printRows, writeResult } from "./lib/report.mjs";
import { loadRetrievalSets, selectedDataset } from "./lib/retrieval-data.mjs";
import { latencyMs, ratioOfRuns, summarize } from "./lib/stats.mjs";

const TOP_K = 10;
/** gRPC status code INVALID_ARGUMENT. */
const INVALID_ARGUMENT = 3;
const BATCH = 64;
const CALLERS = 16;
const SIZES = (process.env.BENCH_RETRIEVAL_SIZES ?? "10000,100000").split(",").map((s) => {
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_RETRIEVAL_SIZES: not a positive integer list: ${s}`);
  return n;
});
const QUERIES = Math.max(CALLERS, Number(process.env.BENCH_RETRIEVAL_QUERIES ?? 400));
/** A timed series stops after this many seconds even short of QUERIES calls (slow Recalls must not stall `make bench`). */
const MAX_SECONDS = Math.max(1, Number(process.env.BENCH_RETRIEVAL_MAX_S ?? 60));

/** @typedef {import("./lib/retrieval-data.mjs").RetrievalSet} RetrievalSet */
const DATASET = selectedDataset();
/** @param {number} ns */
const seconds = (ns) => ns / 1e9;

/** @param {Float32Array} a @param {Float32Array} b */
function cosine(a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] ?? 0) * (b[i] ?? 0);
    na += (a[i] ?? 0) ** 2;
    nb += (b[i] ?? 0) ** 2;
  }
  return dot / Math.sqrt(na * nb || 1);
}

/** @template T @param {readonly T[]} items @param {number} size */
function chunks(items, size) {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

/** Step 1 and the baselines. @param {RetrievalSet[]} sets */
async function embedderAndBaselines(sets) {
  const embedder = await MiniLmEmbedder.load({ modelDir: DEFAULT_EMBEDDING_MODEL_DIR, workers: 1, maxBatch: 32 });
  try {
    await embedder.embed(["warm up the model"]);
    const texts = sets.flatMap((s) => s.docs.map((d) => d.text));
    const started = process.hrtime.bigint();
    /** @type {Float32Array[]} */
    const docVectors = [];
    for (const batch of chunks(texts, BATCH)) docVectors.push(...(await embedder.embed(batch)));
    const embedderPerSecond = texts.length / seconds(Number(process.hrtime.bigint() - started));
    const questionVectors = await embedder.embed(sets.flatMap((s) => s.questions.map((q) => q.text)));
    /** @type {{ ranked: string[], relevant: Set<string> }[]} */
    const bm25 = [];
    /** @type {{ ranked: string[], relevant: Set<string> }[]} */
    const dense = [];
    // Both baselines' top 10 together (up to 20 ids): about the most a fusion of the two lists finds.
    /** @type {{ ranked: string[], relevant: Set<string> }[]} */
    const union = [];
    let d = 0;
    let q = 0;
    for (const set of sets) {
      const score = bm25Scorer(set.docs.map((doc) => doc.text));
      const vectors = docVectors.slice(d, d + set.docs.length);
      d += set.docs.length;
      for (const question of set.questions) {
        const qv = /** @type {Float32Array} */ (questionVectors[q++]);
        const ids = (/** @type {number[]} */ order) => order.map((i) => set.docs[i]?.id ?? "");
        const lexical = ids(topK(score(question.text), TOP_K));
        const semantic = ids(topK(vectors.map((v) => cosine(qv, v)), TOP_K));
        bm25.push({ ranked: lexical, relevant: question.relevant });
        dense.push({ ranked: semantic, relevant: question.relevant });
        union.push({ ranked: [...new Set([...semantic, ...lexical])], relevant: question.relevant });
      }
    }
    const unionRecall = union.reduce((sum, r) => sum + recallAt(r.ranked, r.relevant, 2 * TOP_K), 0) / Math.max(1, union.length);
    return { embedderPerSecond, texts: texts.length, bm25: scoreRankings(bm25), dense: scoreRankings(dense), unionRecall, docVectors, questionVectors };
  } finally {
    await embedder.close();
  }
}

/**
 * Steps 2 and 3 on a running pod.
 * @param {ReturnType<typeof connectClients>} clients
 * @param {RetrievalSet[]} sets
 */
async function ingestAndRecall(clients, sets) {
  /** Per namespace, memory id → the data set's doc ids it stands for. @type {Map<string, Map<string, string[]>>} */
  const docsOf = new Map();
  let memories = 0;
  const started = process.hrtime.bigint();
  for (const set of sets) {
    const byId = new Map();
    docsOf.set(set.name, byId);
    for (const batch of chunks(set.docs, BATCH)) {
      const response = await call(
        clients.memory.batchRemember.bind(clients.memory),
        memoryV1.BatchRememberRequest.fromPartial({
          requests: batch.map((doc) => ({ namespace: `retrieval-${set.name}`, content: doc.text, importance: 0.5, admission: memoryV1.AdmissionMode.ADMISSION_MODE_ALWAYS })),
        }),
        undefined,
        { deadline: Date.now() + 300_000 },
      );
      response.responses.forEach((r, i) => {
        const id = r.memory?.id;
        // MERGED: a repeat of a buffered memory in the same words; that memory stands for both texts.
        const kept = r.decision === memoryV1.AdmissionDecision.ADMISSION_DECISION_ADMITTED || r.decision === memoryV1.AdmissionDecision.ADMISSION_DECISION_MERGED;
        if (!id || !kept) throw new Error(`an ALWAYS memory was neither admitted nor merged: ${batch[i]?.text}`);
        byId.set(id, [...(byId.get(id) ?? []), batch[i]?.id ?? ""]);
      });
      memories += batch.length;
    }
  }
  const rememberPerSecond = memories / seconds(Number(process.hrtime.bigint() - started));
  const merged = sets.reduce((n, s) => n + s.docs.length, 0) - [...docsOf.values()].reduce((n, m) => n + m.size, 0);

  /** @type {Record<string, (ReturnType<typeof scoreRankings> & { rejected: number }) | null>} */
  const quality = {};
  for (const mode of MODES) {
    if (!modeAvailable(mode.value)) {
      quality[mode.name] = null;
      continue;
    }
    const results = [];
    let rejected = 0;
    for (const set of sets) {
      const byId = docsOf.get(set.name) ?? new Map();
      for (const question of set.questions) {
        const request = recallRequest({ namespace: `retrieval-${set.name}`, query: question.text, topK: TOP_K, mode: mode.value });
        const got = await call(clients.memory.recall.bind(clients.memory), request).catch((error) => {
          // KEYWORD mode refuses a question of stop words only: it finds nothing for it.
          if (error?.code !== INVALID_ARGUMENT || mode.value !== KEYWORD_MODE) throw error;
          rejected++;
          return { memories: [] };
        });
        results.push({ ranked: got.memories.flatMap((m) => byId.get(m.memory?.id ?? "") ?? []), relevant: question.relevant });
      }
    }
    quality[mode.name] = { ...scoreRankings(results), rejected };
  }
  return { rememberPerSecond, memories, merged, quality };
}

/**
 * Step 4: fill one namespace to each size, then time text Recalls at 1 and 16 callers.
 * @param {ReturnType<typeof connectClients>} clients
 * @param {RetrievalSet[]} sets
 * @param {number} seed
 * @param {{ memory?: number, sidecar?: number }} pids the pod's processes: their CPU is ours, not noise
 * @param {string} httpUrl the memory service's HTTP address (for /metrics)
 * @param {{ docVectors: Float32Array[], questionVectors: Float32Array[] }} model the model's vectors of every text and question, from step 1
 */
async function latencyAtSizes(clients, sets, seed, pids, httpUrl, model) {
  const namespace = "retrieval-filler";
  const random = mulberry32(seed);
  const texts = sets.flatMap((s) => s.docs.map((d) => d.text));
  const questions = sets.flatMap((s) => s.questions.map((q) => q.text));
  // A filler memory's vector is its text's model vector plus seeded noise (cosine about 0.9 to
  // it): the namespace then lies where real memories lie. Random vectors did not: a real query's
  // nearest neighbours were all in the data set's own namespace, and the vector search read
  // thousands of candidates to find the filler's.
  /** @param {ArrayLike<number>} base */
  const near = (base) => {
    const noise = Array.from({ length: base.length }, () => random() * 2 - 1);
    const noiseNorm = Math.hypot(...noise);
    const v = Array.from(base, (x, i) => x + (0.5 * /** @type {number} */ (noise[i])) / noiseNorm);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  };
  let filled = 0;
  /** @type {Record<number, object>} */
  const out = {};
  for (const size of SIZES) {
    const fillStarted = process.hrtime.bigint();
    // Four fillers at once keep the service busy while a batch is in flight.
    const fillOne = async () => {
      while (filled < size) {
        const n = Math.min(BATCH, size - filled);
        const base = filled;
        filled += n;
        await call(
          clients.memory.batchRemember.bind(clients.memory),
          memoryV1.BatchRememberRequest.fromPartial({
            requests: Array.from({ length: n }, (_, i) => ({
              namespace,
              content: `${texts[(base + i) % texts.length]} (#${base + i})`,
              embedding: near(/** @type {Float32Array} */ (model.docVectors[(base + i) % texts.length])),
              importance: 0.5,
              admission: memoryV1.AdmissionMode.ADMISSION_MODE_ALWAYS,
            })),
          }),
          undefined,
          { deadline: Date.now() + 300_000 },
        );
      }
    };
    await Promise.all([fillOne(), fillOne(), fillOne(), fillOne()]);
    const fillSeconds = seconds(Number(process.hrtime.bigint() - fillStarted));
    // Acknowledged is durable in the WAL; the store (SQLite + HNSW) catches up behind it. Timed
    // Recalls start once it has, or they would time the store's catch-up too.
    const caughtUpSeconds = await storeCaughtUp(httpUrl);
    let next = 0;
    const recallOnce = async (/** @type {number[]} */ into) => {
      const query = questions[next++ % questions.length] ?? "";
      const start = process.hrtime.bigint();
      await call(clients.memory.recall.bind(clients.memory), recallRequest({ namespace, query, topK: TOP_K, mode: 0 }));
      into.push(Number(process.hrtime.bigint() - start));
    };
    /** @type {number[]} */
    const warm = [];
    for (let i = 0; i < 20; i++) await recallOnce(warm);
    const memoryCpu = () => (pids.memory === undefined ? NaN : (processCpuSeconds(pids.memory) ?? NaN));
    /** @type {number[]} */
    const one = [];
    let noise = noiseMeter([pids.memory, pids.sidecar]);
    let cpu0 = memoryCpu();
    const oneStarted = process.hrtime.bigint();
    let deadline = Date.now() + MAX_SECONDS * 1000;
    for (let i = 0; i < QUERIES && Date.now() < deadline; i++) await recallOnce(one);
    const onePerSecond = one.length / seconds(Number(process.hrtime.bigint() - oneStarted));
    const oneOtherCpuPercent = noise.stop();
    const oneServiceCpuMsPerRecall = ((memoryCpu() - cpu0) * 1000) / one.length;
    /** @type {number[]} */
    const many = [];
    noise = noiseMeter([pids.memory, pids.sidecar]);
    cpu0 = memoryCpu();
    const manyStarted = process.hrtime.bigint();
    deadline = Date.now() + MAX_SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CALLERS }, async () => {
        for (let i = 0; i < Math.ceil(QUERIES / CALLERS) && Date.now() < deadline; i++) await recallOnce(many);
      }),
    );
    const manySeconds = seconds(Number(process.hrtime.bigint() - manyStarted));
    const manyPerSecond = many.length / manySeconds;
    const manyOtherCpuPercent = noise.stop();
    // Memory-service CPU (all its threads, the model worker too) over the window; 100 = one core.
    const manyServiceCpuPercent = ((memoryCpu() - cpu0) / manySeconds) * 100;
    // The same Recall with a client-made query vector: what the call costs without the model.
    /** @type {number[]} */
    const vector = [];
    cpu0 = memoryCpu();
    deadline = Date.now() + MAX_SECONDS * 1000;
    for (let i = 0; i < QUERIES && Date.now() < deadline; i++) {
      const request = recallRequest({ namespace, query: "", topK: TOP_K, mode: 0 });
      request.queryEmbedding = Array.from(/** @type {Float32Array} */ (model.questionVectors[i % model.questionVectors.length]));
      const start = process.hrtime.bigint();
      await call(clients.memory.recall.bind(clients.memory), request);
      vector.push(Number(process.hrtime.bigint() - start));
    }
    const vectorServiceCpuMsPerRecall = ((memoryCpu() - cpu0) * 1000) / vector.length;
    out[size] = {
      fillSeconds,
      caughtUpSeconds,
      one: latencyMs(one),
      onePerSecond,
      oneOtherCpuPercent,
      oneServiceCpuMsPerRecall,
      many: latencyMs(many),
      manyPerSecond,
      manyOtherCpuPercent,
      manyServiceCpuPercent,
      vector: latencyMs(vector),
      vectorServiceCpuMsPerRecall,
    };
    console.log(
      `retrieval: ${size} memories (filled in ${fillSeconds.toFixed(1)} s, store caught up ${caughtUpSeconds.toFixed(1)} s later): 1 caller p50 ${latencyMs(one).p50Ms.toFixed(2)} ms, ` +
        `p99 ${latencyMs(one).p99Ms.toFixed(2)} ms, ${onePerSecond.toFixed(0)}/s, ${oneServiceCpuMsPerRecall.toFixed(1)} ms service CPU per Recall; ` +
        `with a client-made query vector p50 ${latencyMs(vector).p50Ms.toFixed(2)} ms, ${vectorServiceCpuMsPerRecall.toFixed(1)} ms CPU; ` +
        `${CALLERS} callers ${manyPerSecond.toFixed(0)}/s, memory service (with its model worker) at ${manyServiceCpuPercent.toFixed(0)}% CPU; ` +
        `others' CPU ${oneOtherCpuPercent?.toFixed(0) ?? "?"}% / ${manyOtherCpuPercent?.toFixed(0) ?? "?"}%`,
    );
  }
  return out;
}

/** @param {number} seed @param {RetrievalSet[]} sets */
async function oneRun(seed, sets) {
  const anchors = await embedderAndBaselines(sets);
  const dataDir = mkdtempSync(path.join(DATA_ROOT, "retrieval-"));
  const pod = await startPod({ dataDir, env: { T4DM_EMBEDDER: "minilm", T4DM_RATE_LIMIT: "0", T4DM_SEED: String(seed) } });
  const clients = connectClients(pod.grpcAddr);
  try {
    const t4dm = await ingestAndRecall(clients, sets);
    console.log(
      `retrieval: ingest ${t4dm.rememberPerSecond.toFixed(1)} memories/s (embedder alone ${anchors.embedderPerSecond.toFixed(1)}/s); recall@10 BM25 ${anchors.bm25.recallAt10.toFixed(3)}, ` +
        `dense ${anchors.dense.recallAt10.toFixed(3)}, ${Object.entries(t4dm.quality).map(([m, q]) => `T4DM ${m} ${q ? q.recallAt10.toFixed(3) : "n/a"}`).join(", ")}`,
    );
    const latency = await latencyAtSizes(clients, sets, seed, { memory: pod.memory.child.pid, sidecar: pod.sidecar.child.pid }, pod.httpUrl, anchors);
    if (pod.memory.child.exitCode !== null || pod.sidecar.child.exitCode !== null) throw new Error("a service exited during the retrieval run");
    const { docVectors: _docVectors, questionVectors: _questionVectors, ...figures } = anchors;
    return { seed, ...figures, ...t4dm, latency };
  } finally {
    clients.close();
    await pod.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** @param {Awaited<ReturnType<typeof oneRun>>[]} runs */
function toRows(runs) {
  /** @type {import("./lib/report.mjs").Row[]} */
  const rows = [];
  const metrics = /** @type {const} */ ([["recallAt5", "recall@5"], ["recallAt10", "recall@10"], ["mrrAt10", "MRR@10"]]);
  const sets = `${DATASET.name}: ${runs[0]?.texts ?? "?"} memories, ${runs[0]?.bm25.queries ?? "?"} questions`;
  for (const [key, label] of metrics) {
    const bm25 = runs.map((r) => r.bm25[key]);
    const dense = runs.map((r) => r.dense[key]);
    const better = runs.map((r) => Math.max(r.bm25[key], r.dense[key]));
    rows.push({ section: "Retrieval", metric: `exact BM25 baseline, ${label}`, unit: "", value: summarize(bm25), note: `${sets}; k1 1.2, b 0.75, bench/lib/bm25.mjs` });
    rows.push({ section: "Retrieval", metric: `exact dense baseline (brute-force MiniLM cosine), ${label}`, unit: "", value: summarize(dense), note: "services/memory's MiniLmEmbedder in the bench process" });
    if (key === "recallAt10") {
      rows.push({
        section: "Retrieval",
        metric: "either exact baseline's top 10 (union, up to 20 memories), recall",
        unit: "",
        value: summarize(runs.map((r) => r.unionRecall)),
        anchor: { name: "better exact baseline, recall@10", value: summarize(better) },
        ratio: ratioOfRuns(runs.map((r) => r.unionRecall), better),
        note: "a reference, not T4DM: about the most a fusion that reorders the two top-10 lists can find in its top 10",
      });
    }
    for (const mode of MODES) {
      const values = runs.map((r) => r.quality[mode.name]?.[key] ?? NaN);
      const available = modeAvailable(mode.value);
      const isGoal = mode.value === 0 && key === "recallAt10";
      const ratio = ratioOfRuns(values, better);
      rows.push({
        section: "Retrieval",
        metric: `T4DM ${mode.name}, ${label}`,
        unit: "",
        value: summarize(values),
        anchor: available ? { name: "better exact baseline", value: summarize(better) } : null,
        ratio: available ? ratio : null,
        goal: isGoal ? ">= 1.10x the better exact baseline" : null,
        met: isGoal ? ratio.median >= 1.1 : null,
        note: available
          ? `${mode.value === KEYWORD_MODE ? `${runs[0]?.quality[mode.name]?.rejected ?? 0} questions of stop words only refused (INVALID_ARGUMENT), scored as finding nothing; ` : ""}Recall top_k 10, text query${HAS_READ_ONLY ? ", read_only" : " (no read_only in this build: each recall also logs its trace)"}${HAS_MODE ? "" : "; this build has no RecallRequest.mode, so this is the service's only ranking"}`
          : "not available in this build (RecallRequest has no mode field yet)",
      });
    }
  }
  const ingest = runs.map((r) => r.rememberPerSecond);
  const embedder = runs.map((r) => r.embedderPerSecond);
  const ingestRatio = ratioOfRuns(ingest, embedder);
  rows.push({
    section: "Retrieval",
    metric: "text BatchRemember x64 (server-side MiniLM) [memories/s]",
    unit: "",
    value: summarize(ingest),
    anchor: { name: "raw MiniLmEmbedder, same texts, same run", value: summarize(embedder) },
    ratio: ingestRatio,
    goal: ">= 0.8x the embedder",
    met: ingestRatio.median >= 0.8,
    note: `1 embedding worker, batches of 32 (the service's defaults) on both sides; ${runs[0]?.merged ?? 0} texts merged as near-duplicates`,
  });
  for (const size of SIZES) {
    const at = runs.map((r) => /** @type {any} */ (r.latency[size]));
    const label = size >= 1000 ? `${size / 1000}k` : String(size);
    const p50 = at.map((x) => x.one.p50Ms);
    const p99 = at.map((x) => x.one.p99Ms);
    const last = size === SIZES[SIZES.length - 1] && size >= 100_000;
    const vectorP50 = at.map((x) => x.vector.p50Ms);
    rows.push({
      section: "Retrieval",
      metric: `Recall text query at ${label} memories, 1 caller, p50 end to end`,
      unit: "ms",
      value: summarize(p50),
      anchor: { name: "same Recall with a client-made query vector", value: summarize(vectorP50) },
      ratio: ratioOfRuns(p50, vectorP50),
      goal: last ? "<= 10 ms at 100k" : null,
      met: last ? summarize(p50).median <= 10 : null,
      note:
        `query embedding included (lower is better; the ratio is text/vector); memory service CPU per Recall ` +
        `${summarize(at.map((x) => x.oneServiceCpuMsPerRecall)).median.toFixed(1)} ms with text, ${summarize(at.map((x) => x.vectorServiceCpuMsPerRecall)).median.toFixed(1)} ms with a vector; ` +
        `filler memories carry client-made random embeddings; ${summarize(at.map((x) => x.one.count)).min} timed calls or more per run`,
    });
    const cpuPerRecall = summarize(at.map((x) => x.oneServiceCpuMsPerRecall)).median;
    const others = summarize(at.map((x) => x.oneOtherCpuPercent ?? NaN)).median;
    rows.push({
      section: "Retrieval",
      metric: `Recall text query at ${label} memories, 1 caller, p99 end to end`,
      unit: "ms",
      value: summarize(p99),
      goal: last ? "<= 25 ms at 100k" : null,
      met: last ? summarize(p99).median <= 25 : null,
      note: `memory service ${cpuPerRecall.toFixed(1)} ms CPU per Recall; other processes used ${others.toFixed(0)}% of a core meanwhile`,
    });
    const one = at.map((x) => x.onePerSecond);
    const many = at.map((x) => x.manyPerSecond);
    const scaling = ratioOfRuns(many, one);
    rows.push({
      section: "Retrieval",
      metric: `Recall at ${label} memories, ${CALLERS} callers [queries/s]`,
      unit: "",
      value: summarize(many),
      anchor: { name: "1 caller", value: summarize(one) },
      ratio: scaling,
      goal: last ? ">= 4x one caller" : null,
      met: last ? scaling.median >= 4 : null,
      note:
        `${CALLERS} callers p99 ${summarize(at.map((x) => x.many.p99Ms)).median.toFixed(1)} ms; memory service (with its model worker) at ` +
        `${summarize(at.map((x) => x.manyServiceCpuPercent)).median.toFixed(0)}% CPU (100 = one core), others at ${summarize(at.map((x) => x.manyOtherCpuPercent ?? NaN)).median.toFixed(0)}%`,
    });
  }
  return rows;
}

async function main() {
  mkdirSync(DATA_ROOT, { recursive: true });
  const machine = machineFacts(DATA_ROOT);
  console.log(describeMachine(machine));
  const sets = loadRetrievalSets(DATASET);
  console.log(`retrieval: ${DATASET.name}, ${sets.length} set(s), ${sets.reduce((n, s) => n + s.docs.length, 0)} memories, ${sets.reduce((n, s) => n + s.questions.length, 0)} questions; RecallRequest.mode ${HAS_MODE ? "present" : "absent"}, read_only ${HAS_READ_ONLY ? "present" : "absent"}`);
  const runs = [];
  for (let run = 0; run < RUNS; run++) {
    const r = await oneRun(20261204 + run, sets);
    runs.push(r);
    console.log(
      `retrieval: run ${run + 1}: recall@10 BM25 ${r.bm25.recallAt10.toFixed(3)}, dense ${r.dense.recallAt10.toFixed(3)}, ` +
        `T4DM ${Object.entries(r.quality).map(([m, q]) => `${m} ${q ? q.recallAt10.toFixed(3) : "n/a"}`).join(", ")}; ` +
        `BatchRemember ${r.rememberPerSecond.toFixed(1)}/s vs embedder ${r.embedderPerSecond.toFixed(1)}/s`,
    );
  }
  const rows = toRows(runs);
  printRows(rows);
  const file = writeResult({
    bench: "retrieval",
    command: "node bench/retrieval.mjs",
    machine,
    rows,
    details: { dataset: DATASET, sizes: SIZES, queries: QUERIES, hasMode: HAS_MODE, hasReadOnly: HAS_READ_ONLY, runs },
    noise: `other processes used ${runs
      .flatMap((r) => Object.values(r.latency).flatMap((l) => [/** @type {any} */ (l).oneOtherCpuPercent, /** @type {any} */ (l).manyOtherCpuPercent]))
      .map((x) => (x === null ? "?" : `${x.toFixed(0)}%`))
      .join(", ")} of a core during the timed Recall windows`,
  });
  console.log(`results: ${file}`);
}

main().catch((error) => {
  console.error(`retrieval bench failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});

/**
 * Waits until the memory service has written every promoted memory to its store
 * (ww_pending_promotions 0); returns how long that took, in seconds.
 * @param {string} httpUrl
 */
async function storeCaughtUp(httpUrl) {
  const started = process.hrtime.bigint();
  const deadline = Date.now() + 1_800_000;
  for (;;) {
    const text = await (await fetch(`${httpUrl}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith("ww_pending_promotions "));
    if (line === undefined) throw new Error("the memory service exports no ww_pending_promotions");
    if (Number(line.split(" ").at(-1)) === 0) return seconds(Number(process.hrtime.bigint() - started));
    if (Date.now() > deadline) throw new Error(`the store did not catch up within 30 min (${line})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
