// @ts-check
/**
 * Learning (issue #9, item 6): precision@5 of Recall on the synthetic
 * feedback task of libs/learning/test/learning.test.ts, before any feedback
 * and after N Reinforce calls, next to plain cosine ranking of the same
 * memories (the anchor), all through the real memory service over gRPC.
 *
 * How, per run (each run its own seed) and per N (0 = before training):
 *  - a fresh sidecar + memory service (startPod, T4DM_SEED = the run's seed,
 *    T4DM_BUFFER_CAPACITY=200 as in the unit test so nothing is evicted,
 *    T4DM_LOG_LEVEL=info);
 *  - Remember the task's 70 initial memories (admission ALWAYS, content plus a
 *    client-supplied 384-d embedding from the library's embedText, SEMANTIC
 *    for the useful facts and EPISODIC for chit-chat, importance 0.5);
 *  - N episodes as in the unit test: every 8th episode one more memory
 *    arrives (30 in all); Recall(top_k 10) with a training phrasing of the
 *    topics in turn, then Reinforce that recall with reward 2·precision@10 − 1
 *    and per-memory rewards +1 (answers this topic), 0 (answers another
 *    topic), −1 (chit-chat);
 *  - evaluate on 15 held-out phrasings: Recall(top_k 5) per query, precision@5
 *    against the topic's useful memories; and the anchor: the bench ranks the
 *    same memories (all memories remembered so far) by cosine to the query
 *    and takes the top 5.
 *  A fresh service per N keeps the evaluation's own recalls (which log
 *  traces and evidence, like any recall) out of the training. Seeded and
 *  deterministic apart from wall-clock ages.
 *
 * Then the real-data section (issue #16, item 4; bench/lib/learning-real-data.mjs): feedback on
 * half the questions of the retrieval bench's public labelled data set, recall@10 and MRR@10 of
 * the held-out half before and after, next to the trained half's, with the unlearned hybrid
 * ranking and exact BM25 as anchors.
 *
 * Knobs (environment):
 *   BENCH_LEARNING_SECTIONS=synthetic,real   which sections run
 *   BENCH_LEARNING_STEPS=100,300   numbers of Reinforce calls to evaluate after (synthetic)
 *   BENCH_LEARNING_QUESTIONS, BENCH_LEARNING_PASSES, BENCH_LEARNING_NEGATIVE, BENCH_RETRIEVAL_DATA
 *                                  (real data, see bench/lib/learning-real-data.mjs)
 *   BENCH_RUNS=3, BENCH_DATA_ROOT=build/bench/data (see bench/lib/report.mjs)
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { cosine, embedText } from "@t4dm/learning";
import { memoryV1 } from "@t4dm/proto";
import { call, connectClients, feedbackTask, mulberry32, startPod } from "@t4dm/testkit";
import { describeMachine, machineFacts } from "./lib/machine.mjs";
import { realDataSection } from "./lib/learning-real-data.mjs";
import { makeTask, mean, precision, trainingQuery } from "./lib/recall-feedback-task.mjs";
import { DATA_ROOT, RUNS, printRows, writeResult } from "./lib/report.mjs";
import { ratioOfRuns, summarize } from "./lib/stats.mjs";

const { ARRIVAL_INTERVAL, TOPICS } = feedbackTask;

const DIM = 384;
const NAMESPACE = "agent";
const TRAIN_TOP_K = 10;
const EVAL_K = 5;
const BASE_SEED = 20260101;
const SECTIONS = (process.env.BENCH_LEARNING_SECTIONS ?? "synthetic,real").split(",").map((s) => s.trim()).filter(Boolean);
for (const section of SECTIONS) if (section !== "synthetic" && section !== "real") throw new Error(`BENCH_LEARNING_SECTIONS: unknown section "${section}" (known: synthetic, real)`);
const STEPS = (process.env.BENCH_LEARNING_STEPS ?? "100,300").split(",").map((s) => {
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_LEARNING_STEPS: not a positive integer list: ${s}`);
  return n;
});
/** Every memory type the task uses (an empty list would mean episodic and working only). */
const TYPES = [memoryV1.MemoryType.MEMORY_TYPE_EPISODIC, memoryV1.MemoryType.MEMORY_TYPE_SEMANTIC];

/**
 * One fresh service: set up the task, train `steps` episodes, evaluate.
 * @param {number} seed
 * @param {number} steps
 */
async function trainAndEvaluate(seed, steps) {
  const dataDir = mkdtempSync(path.join(DATA_ROOT, "learning-"));
  const pod = await startPod({ dataDir, env: { T4DM_LOG_LEVEL: "info", T4DM_BUFFER_CAPACITY: "200", T4DM_SEED: String(seed) } });
  const clients = connectClients(pod.grpcAddr);
  const started = Date.now();
  try {
    const random = mulberry32(seed);
    const task = makeTask(random);
    /** Per topic, the ids that answer its queries. */
    const useful = TOPICS.map(() => /** @type {Set<string>} */ (new Set()));
    const anyUseful = new Set();
    /** Every memory remembered so far, for the cosine ranking. @type {Map<string, Float32Array>} */
    const embeddings = new Map();
    let duplicates = 0;

    const remember = async (/** @type {import("./lib/recall-feedback-task.mjs").Arrival} */ a) => {
      const embedding = embedText(a.content, DIM);
      const response = await call(
        clients.memory.remember.bind(clients.memory),
        memoryV1.RememberRequest.fromPartial({
          namespace: NAMESPACE,
          content: a.content,
          type: a.useful ? memoryV1.MemoryType.MEMORY_TYPE_SEMANTIC : memoryV1.MemoryType.MEMORY_TYPE_EPISODIC,
          importance: 0.5,
          embedding: Array.from(embedding),
          admission: memoryV1.AdmissionMode.ADMISSION_MODE_ALWAYS,
        }),
      );
      const id = response.memory?.id;
      if (!id || response.decision !== memoryV1.AdmissionDecision.ADMISSION_DECISION_ADMITTED) throw new Error(`an ALWAYS memory was not admitted: ${a.content}`);
      // A near-duplicate is merged into the memory it repeats and answers with that one's id.
      if (embeddings.has(id)) duplicates++;
      else embeddings.set(id, embedding);
      if (a.useful) {
        useful[a.topic]?.add(id);
        anyUseful.add(id);
      }
    };
    const recall = (/** @type {string} */ text, /** @type {number} */ topK) =>
      call(
        clients.memory.recall.bind(clients.memory),
        memoryV1.RecallRequest.fromPartial({ namespace: NAMESPACE, queryEmbedding: Array.from(embedText(text, DIM)), topK, types: TYPES }),
      );

    for (const a of task.initial) await remember(a);
    const arrivals = [...task.later];
    /** @type {number[]} */
    const trainingPrecision = [];
    for (let episode = 0; episode < steps; episode++) {
      if (episode > 0 && episode % ARRIVAL_INTERVAL === 0 && arrivals.length > 0) await remember(/** @type {any} */ (arrivals.shift()));
      const query = trainingQuery(episode, random);
      const got = await recall(query.text, TRAIN_TOP_K);
      const ids = got.memories.map((m) => m.memory?.id ?? "");
      const answers = /** @type {Set<string>} */ (useful[query.topic]);
      const hit = precision(ids, answers);
      trainingPrecision.push(hit);
      // +1: it answers this query. −1: chit-chat, useless to any query. 0: an answer to another topic's question.
      const memoryRewards = Object.fromEntries(ids.map((id) => [id, answers.has(id) ? 1 : anyUseful.has(id) ? 0 : -1]));
      await call(
        clients.memory.reinforce.bind(clients.memory),
        memoryV1.ReinforceRequest.fromPartial({ namespace: NAMESPACE, recallId: got.recallId, reward: 2 * hit - 1, memoryRewards }),
      );
    }

    /** @type {number[]} */
    const learned = [];
    /** @type {number[]} */
    const plain = [];
    let sameAsCosine = 0;
    for (const query of task.heldOut) {
      const q = embedText(query.text, DIM);
      const got = (await recall(query.text, EVAL_K)).memories.map((m) => m.memory?.id ?? "");
      // Plain cosine ranking of the same memories, ties by id as the service breaks them.
      const byCosine = [...embeddings]
        .map(([id, e]) => ({ id, similarity: Math.fround(cosine(q, e)) }))
        .sort((a, b) => b.similarity - a.similarity || (a.id < b.id ? -1 : 1))
        .slice(0, EVAL_K)
        .map((x) => x.id);
      const answers = /** @type {Set<string>} */ (useful[query.topic]);
      learned.push(precision(got, answers));
      plain.push(precision(byCosine, answers));
      if (got.join() === byCosine.join()) sameAsCosine++;
    }
    if (pod.memory.child.exitCode !== null || pod.sidecar.child.exitCode !== null) throw new Error("a service exited during the learning run");
    return {
      seed,
      steps,
      memories: embeddings.size,
      duplicates,
      learned: mean(learned),
      cosine: mean(plain),
      queriesRankedAsCosine: sameAsCosine,
      heldOutQueries: task.heldOut.length,
      trainingPrecisionFirst50: trainingPrecision.length ? mean(trainingPrecision.slice(0, 50)) : null,
      trainingPrecisionLast50: trainingPrecision.length ? mean(trainingPrecision.slice(-50)) : null,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    clients.close();
    await pod.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The synthetic section: rows and details. */
async function syntheticSection() {
  const points = [0, ...STEPS];
  /** @type {Awaited<ReturnType<typeof trainAndEvaluate>>[][]} per point, per run */
  const results = points.map(() => []);
  for (let run = 0; run < RUNS; run++) {
    const seed = BASE_SEED + run;
    for (const [i, steps] of points.entries()) {
      const r = await trainAndEvaluate(seed, steps);
      results[i]?.push(r);
      console.log(
        `learning: seed ${seed}, ${steps} Reinforce: precision@5 service ${r.learned.toFixed(3)}, cosine ${r.cosine.toFixed(3)} ` +
          `(${r.memories} memories, ${r.queriesRankedAsCosine}/${r.heldOutQueries} queries ranked as cosine, ${r.seconds.toFixed(1)} s)`,
      );
    }
  }
  /** @type {import("./lib/report.mjs").Row[]} */
  const rows = points.map((steps, i) => {
    const rs = results[i] ?? [];
    const learned = rs.map((r) => r.learned);
    const plain = rs.map((r) => r.cosine);
    const lead = summarize(rs.map((r) => r.learned - r.cosine));
    return {
      section: "Learning",
      metric: steps === 0 ? "precision@5 of Recall, before any Reinforce" : `precision@5 of Recall after ${steps} Reinforce`,
      unit: "",
      value: summarize(learned),
      anchor: { name: "plain cosine", value: summarize(plain) },
      ratio: ratioOfRuns(learned, plain),
      note:
        `through the memory service; lead over cosine ${lead.median.toFixed(3)} (${lead.min.toFixed(3)}–${lead.max.toFixed(3)}) absolute; ` +
        `${rs[0]?.memories ?? "?"} memories, 15 held-out queries; ratio = learned/cosine (higher is better; "-" when cosine is 0)`,
    };
  });
  return {
    rows,
    details: {
      task: "libs/learning/test/learning.test.ts synthetic feedback task (5 topics; 70 memories at start, 30 arrive during training)",
      evalK: EVAL_K,
      trainTopK: TRAIN_TOP_K,
      seeds: Array.from({ length: RUNS }, (_, run) => BASE_SEED + run),
      results: Object.fromEntries(points.map((steps, i) => [String(steps), results[i]])),
    },
  };
}

async function main() {
  const started = Date.now();
  mkdirSync(DATA_ROOT, { recursive: true });
  const machine = machineFacts(DATA_ROOT);
  console.log(describeMachine(machine));
  const synthetic = SECTIONS.includes("synthetic") ? await syntheticSection() : null;
  const real = SECTIONS.includes("real") ? await realDataSection() : null;
  const rows = [...(synthetic?.rows ?? []), ...(real?.rows ?? [])];
  console.log("");
  printRows(rows);
  const seconds = (Date.now() - started) / 1000;
  const file = writeResult({
    bench: "learning",
    command: "node bench/learning.mjs",
    machine,
    rows,
    details: { ...(synthetic?.details ?? {}), ...(real ? { realData: real.details } : {}), sections: SECTIONS, seconds },
  });
  console.log(`\nlearning: done in ${seconds.toFixed(0)} s; wrote ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
