// @ts-check
/**
 * One run of bench/learning.mjs's real-data section: does feedback on some questions of a
 * labelled data set improve the ranking for other questions? Through a fresh sidecar + memory
 * service with the local model (T4DM_EMBEDDER=minilm):
 *
 *  1. split each set's questions into a train and a held-out half (bench/lib/question-split.mjs);
 *  2. ingest every document of each set into its own namespace by text BatchRemember (64 per
 *     call, admission ALWAYS, importance 0.5), as bench/retrieval.mjs does;
 *  3. evaluate both halves: one read_only Recall per question (top_k 10, text, hybrid);
 *  4. feedback passes over the train half, each in a fresh seeded order: a Recall (not read-only,
 *     top_k 10, hybrid), then Reinforce of that recall with bench/lib/feedback-rewards.mjs;
 *  5. evaluate both halves again, read_only.
 * Alongside, the exact BM25 ranking of the same questions over the same documents (no service).
 *
 * A memory the service merged with a near-duplicate stands for every document merged into it.
 * Anything inconsistent (a memory not admitted, a recalled id the bench never stored, a
 * Reinforce that credits nothing, a service that exited) throws: a figure from broken data would
 * pass for a measurement.
 */
import { mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { memoryV1 } from "@t4dm/proto";
import { call, connectClients, feedbackTask, mulberry32, startPod } from "@t4dm/testkit";
import { bm25Scorer } from "./bm25.mjs";
import { feedbackFor } from "./feedback-rewards.mjs";
import { recallAt, reciprocalRankAt, topK } from "./ranking-metrics.mjs";
import { HAS_READ_ONLY, recallRequest } from "./recall-request.mjs";
import { DATA_ROOT } from "./report.mjs";
import { splitQuestions } from "./question-split.mjs";

export const TOP_K = 10;
const BATCH = 64;

/**
 * @typedef {import("./retrieval-data.mjs").RetrievalSet} RetrievalSet
 * @typedef {import("./retrieval-data.mjs").Question} Question
 * @typedef {{ rr: number[], recall: number[] }} Scores per question of a half, in the split's order
 * @typedef {{ train: Scores, heldOut: Scores }} Evaluation
 * @typedef {{ passes: number, negative: number, questionLimit: number }} FeedbackOptions
 */

/** @template T @param {readonly T[]} items @param {number} size */
function chunks(items, size) {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

/** @param {readonly { ranked: readonly string[], relevant: ReadonlySet<string> }[]} results @returns {Scores} */
function score(results) {
  return { rr: results.map((r) => reciprocalRankAt(r.ranked, r.relevant, TOP_K)), recall: results.map((r) => recallAt(r.ranked, r.relevant, TOP_K)) };
}

/** Exact BM25 over each set's documents. @param {import("./question-split.mjs").SplitSet[]} splits @returns {Evaluation} */
function bm25Evaluation(splits) {
  /** @param {"train" | "heldOut"} half */
  const rank = (half) =>
    score(
      splits.flatMap(({ set, ...halves }) => {
        const scoreOf = bm25Scorer(set.docs.map((d) => d.text));
        return halves[half].map((q) => ({ ranked: topK(scoreOf(q.text), TOP_K).map((i) => set.docs[i]?.id ?? ""), relevant: q.relevant }));
      }),
    );
  return { train: rank("train"), heldOut: rank("heldOut") };
}

/**
 * @param {readonly RetrievalSet[]} sets
 * @param {number} seed the split's, the feedback order's and the service's (T4DM_SEED)
 * @param {FeedbackOptions} options
 */
export async function labelledFeedbackRun(sets, seed, options) {
  if (!HAS_READ_ONLY) throw new Error("this build's RecallRequest has no read_only: the evaluation recalls would learn");
  const random = mulberry32(seed);
  const splits = splitQuestions(sets, random, options.questionLimit);
  const bm25 = bm25Evaluation(splits);
  const dataDir = mkdtempSync(path.join(DATA_ROOT, "learning-real-"));
  const pod = await startPod({ dataDir, env: { T4DM_EMBEDDER: "minilm", T4DM_RATE_LIMIT: "0", T4DM_SEED: String(seed) } });
  const clients = connectClients(pod.grpcAddr);
  const started = Date.now();
  const namespaceOf = (/** @type {RetrievalSet} */ set) => `learning-${set.name}`;
  try {
    /** Per set, memory id → the document ids it stands for. @type {Map<RetrievalSet, Map<string, string[]>>} */
    const docsOf = new Map();
    for (const set of sets) {
      const byId = new Map();
      docsOf.set(set, byId);
      for (const batch of chunks(set.docs, BATCH)) {
        const response = await call(
          clients.memory.batchRemember.bind(clients.memory),
          memoryV1.BatchRememberRequest.fromPartial({
            requests: batch.map((doc) => ({ namespace: namespaceOf(set), content: doc.text, importance: 0.5, admission: memoryV1.AdmissionMode.ADMISSION_MODE_ALWAYS })),
          }),
          undefined,
          { deadline: Date.now() + 300_000 },
        );
        if (response.responses.length !== batch.length) throw new Error(`BatchRemember answered ${response.responses.length} of ${batch.length} requests`);
        response.responses.forEach((r, i) => {
          const id = r.memory?.id;
          // MERGED: a repeat of a buffered memory, which then stands for both documents.
          const kept = r.decision === memoryV1.AdmissionDecision.ADMISSION_DECISION_ADMITTED || r.decision === memoryV1.AdmissionDecision.ADMISSION_DECISION_MERGED;
          if (!id || !kept) throw new Error(`an ALWAYS memory was neither admitted nor merged (decision ${r.decision}): ${batch[i]?.text}`);
          byId.set(id, [...(byId.get(id) ?? []), batch[i]?.id ?? ""]);
        });
      }
    }
    const ingestSeconds = (Date.now() - started) / 1000;
    const merged = sets.reduce((n, s) => n + s.docs.length, 0) - [...docsOf.values()].reduce((n, m) => n + m.size, 0);

    /** The documents each recalled memory stands for, best first. @param {RetrievalSet} set @param {memoryV1.RecallResponse} response */
    const recalledDocs = (set, response) =>
      response.memories.map((m) => {
        const docs = docsOf.get(set)?.get(m.memory?.id ?? "");
        if (!docs) throw new Error(`Recall in ${namespaceOf(set)} returned memory ${m.memory?.id}, which the bench never stored there`);
        return docs;
      });

    /** @returns {Promise<Evaluation>} */
    const evaluate = async () => {
      /** @param {"train" | "heldOut"} half */
      const rank = async (half) => {
        const results = [];
        for (const split of splits) {
          for (const q of split[half]) {
            const got = await call(clients.memory.recall.bind(clients.memory), recallRequest({ namespace: namespaceOf(split.set), query: q.text, topK: TOP_K, mode: 0 }));
            if (got.recallId !== "") throw new Error("a read_only Recall answered with a recall id: it was recorded");
            results.push({ ranked: recalledDocs(split.set, got).flat(), relevant: q.relevant });
          }
        }
        return score(results);
      };
      return { train: await rank("train"), heldOut: await rank("heldOut") };
    };

    const before = await evaluate();
    /** Mean reciprocal rank of the training recalls, per pass (what the trained half saw while learning). */
    const trainingMrr = [];
    let reinforced = 0;
    /** Documents a training Reinforce gave a negative reward (the held-out half's evidence among them). */
    const penalised = new Set();
    for (let pass = 0; pass < options.passes; pass++) {
      let rrSum = 0;
      let count = 0;
      for (const split of splits) {
        for (const q of feedbackTask.shuffled(split.train, random)) {
          const got = await call(
            clients.memory.recall.bind(clients.memory),
            memoryV1.RecallRequest.fromPartial({ namespace: namespaceOf(split.set), query: q.text, topK: TOP_K }),
          );
          const docs = recalledDocs(split.set, got);
          rrSum += reciprocalRankAt(docs.flat(), q.relevant, TOP_K);
          count++;
          if (got.memories.length === 0) continue;
          if (got.recallId === "") throw new Error(`a learning Recall in ${namespaceOf(split.set)} was not recorded (no recall id)`);
          const { reward, memoryRewards } = feedbackFor(docs, q.relevant, TOP_K, options.negative);
          docs.forEach((ids, i) => (memoryRewards[i] ?? 0) < 0 && ids.forEach((id) => penalised.add(id)));
          const answer = await call(
            clients.memory.reinforce.bind(clients.memory),
            memoryV1.ReinforceRequest.fromPartial({
              namespace: namespaceOf(split.set),
              recallId: got.recallId,
              reward,
              memoryRewards: Object.fromEntries(got.memories.map((m, i) => [m.memory?.id ?? "", memoryRewards[i] ?? 0])),
            }),
          );
          if (answer.creditedMemories === 0) throw new Error(`Reinforce of recall ${got.recallId} credited no memory`);
          reinforced++;
        }
      }
      trainingMrr.push(rrSum / Math.max(1, count));
    }
    const after = await evaluate();
    // The shadow guard's verdict on what the feedback taught (libs/learning/src/shadow-guard.ts).
    const metrics = await (await fetch(`${pod.httpUrl}/metrics`)).text();
    const gauge = (/** @type {string} */ name) => Number(metrics.split("\n").find((line) => line.startsWith(`${name} `))?.split(" ").at(-1) ?? Number.NaN);
    const guard = { minTrust: gauge("ww_learning_min_trust"), backedOff: gauge("ww_learning_backed_off") };
    if (pod.memory.child.exitCode !== null || pod.sidecar.child.exitCode !== null) throw new Error("a service exited during the learning run");
    return {
      seed,
      documents: sets.reduce((n, s) => n + s.docs.length, 0),
      merged,
      trainQuestions: splits.reduce((n, s) => n + s.train.length, 0),
      heldOutQuestions: splits.reduce((n, s) => n + s.heldOut.length, 0),
      reinforced,
      trainingMrr,
      bm25,
      /** Per held-out question (in evaluation order): did a training Reinforce penalise its evidence? */
      heldOutPenalised: splits.flatMap((s) => s.heldOut.map((q) => [...q.relevant].some((id) => penalised.has(id)))),
      before,
      after,
      ingestSeconds,
      guard,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    clients.close();
    await pod.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
