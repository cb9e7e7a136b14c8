// @ts-check
/**
 * The real-data section of bench/learning.mjs (issue #16, item 4): feedback on one half of a
 * public labelled data set's questions, recall@10 and MRR@10 of both halves before and after,
 * the paired change on the held-out half with a 95% bootstrap interval, and the run-to-run noise.
 * One run is bench/lib/labelled-feedback-run.mjs; this file runs them, prints and builds the rows.
 *
 * Knobs: BENCH_RETRIEVAL_DATA (the data set, shared with bench/retrieval.mjs),
 * BENCH_LEARNING_QUESTIONS (questions used over all sets, default all), BENCH_LEARNING_PASSES=2,
 * BENCH_LEARNING_NEGATIVE=-1 (the reward of a recalled memory without evidence), BENCH_RUNS.
 */
import { labelledFeedbackRun } from "./labelled-feedback-run.mjs";
import { pairedBootstrap } from "./paired-bootstrap.mjs";
import { RUNS } from "./report.mjs";
import { loadRetrievalSets, selectedDataset } from "./retrieval-data.mjs";
import { ratioOfRuns, summarize } from "./stats.mjs";

const BASE_SEED = 20261216;
/** The issue's target: held-out MRR@10 after feedback at least this much above the unlearned ranking. */
const TARGET_GAIN = 0.05;

/** @param {string} name @param {string} fallback @param {(n: number) => boolean} valid @param {string} what */
function knob(name, fallback, valid, what) {
  const raw = process.env[name] ?? fallback;
  const n = Number(raw);
  if (!valid(n)) throw new Error(`${name}: ${what}, got "${raw}"`);
  return n;
}

export const QUESTION_LIMIT = knob("BENCH_LEARNING_QUESTIONS", "Infinity", (n) => n >= 2, "a number of questions, 2 or more");
export const PASSES = knob("BENCH_LEARNING_PASSES", "2", (n) => Number.isInteger(n) && n >= 1, "a positive integer");
export const NEGATIVE = knob("BENCH_LEARNING_NEGATIVE", "-1", (n) => n >= -1 && n <= 0, "a reward in [-1, 0]");

/** @param {readonly number[]} xs */
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
/** @param {number} x */
const f3 = (x) => x.toFixed(3);
/** @param {number} x */
const signed = (x) => (Number.isFinite(x) ? `${x >= 0 ? "+" : ""}${x.toFixed(3)}` : "n/a");

/** @typedef {Awaited<ReturnType<typeof labelledFeedbackRun>>} Run */

/** @param {Run} r */
function heldOutChange(r) {
  return pairedBootstrap(r.before.heldOut.rr, r.after.heldOut.rr, r.seed);
}

/**
 * The held-out MRR@10 change, apart for questions whose evidence a training Reinforce penalised
 * (it was recalled, as a wrong answer, for a trained question) and for the others: is a loss
 * memorised per memory, or a change of the ranking itself?
 * @param {Run} r
 */
function changeByPenalty(r) {
  /** @param {boolean} wanted */
  const group = (wanted) => {
    const idx = r.heldOutPenalised.flatMap((p, i) => (p === wanted ? [i] : []));
    const diffs = idx.map((i) => (r.after.heldOut.rr[i] ?? NaN) - (r.before.heldOut.rr[i] ?? NaN));
    return { questions: idx.length, change: diffs.length ? mean(diffs) : NaN };
  };
  if (r.heldOutPenalised.length !== r.before.heldOut.rr.length) throw new Error("the penalty flags and the held-out scores do not line up");
  return { penalised: group(true), untouched: group(false) };
}

/**
 * The goal: the median run gains ≥ TARGET_GAIN, and no run loses more than the noise.
 * Noise: the spread (max − min) across runs of the unlearned held-out MRR@10, i.e. how much that
 * figure moves from one seeded split and service seed to the next; unmeasured with one run, then 0.
 * @param {Run[]} runs
 */
export function judge(runs) {
  const gains = runs.map((r) => mean(r.after.heldOut.rr) - mean(r.before.heldOut.rr));
  const unlearned = runs.map((r) => mean(r.before.heldOut.rr));
  const noise = runs.length > 1 ? Math.max(...unlearned) - Math.min(...unlearned) : null;
  const gain = summarize(gains);
  return { gain, noise, met: gain.median >= TARGET_GAIN && gain.min >= -(noise ?? 0) };
}

/** @param {Run[]} runs @param {string} datasetName @returns {import("./report.mjs").Row[]} */
function toRows(runs, datasetName) {
  const section = "Learning (real data)";
  const first = /** @type {Run} */ (runs[0]);
  const what = `${datasetName}: ${first.documents} memories; feedback on ${first.trainQuestions} questions (${PASSES} passes, +1 evidence / ${NEGATIVE} other), ${first.heldOutQuestions} held out`;
  const { gain, noise, met } = judge(runs);
  const intervals = runs.map((r) => heldOutChange(r)).map((c) => `${signed(c.mean)} [${signed(c.low)}, ${signed(c.high)}]`).join("; ");
  /** @param {"train" | "heldOut"} half @param {"rr" | "recall"} metric @param {"before" | "after" | "bm25"} when */
  const figure = (half, metric, when) => runs.map((r) => mean(r[when][half][metric]));
  const anchor = { name: "same questions before feedback (hybrid, no learning)" };
  /** @type {import("./report.mjs").Row[]} */
  const rows = [];
  for (const [half, label] of /** @type {const} */ ([["heldOut", "held-out"], ["train", "trained"]])) {
    for (const [metric, metricLabel] of /** @type {const} */ ([["rr", "MRR@10"], ["recall", "recall@10"]])) {
      const after = figure(half, metric, "after");
      const before = figure(half, metric, "before");
      const isGoal = half === "heldOut" && metric === "rr";
      rows.push({
        section,
        metric: `${label} questions, ${metricLabel} after feedback`,
        unit: "",
        value: summarize(after),
        anchor: { ...anchor, value: summarize(before) },
        ratio: ratioOfRuns(after, before),
        goal: isGoal ? `>= unlearned + ${TARGET_GAIN}, never below it by more than the noise` : null,
        met: isGoal ? met : null,
        note: isGoal
          ? `${what}; read_only Recall top_k 10, text, hybrid; change per run ${gain.runs.map(signed).join(", ")}; noise ${noise === null ? "unmeasured (1 run)" : f3(noise)}`
          : `read_only Recall top_k 10; the anchor is the same questions on the same service before any Reinforce`,
      });
    }
  }
  rows.push({
    section,
    metric: "held-out MRR@10 change after feedback (after − before, paired by question)",
    unit: "",
    value: gain,
    note:
      `per run: mean [95% bootstrap interval over questions, 2000 resamples, seeded] ${intervals}; ` +
      `questions whose evidence a training Reinforce penalised / the others: ${runs
        .map(changeByPenalty)
        .map((c) => `${signed(c.penalised.change)} (${c.penalised.questions}) / ${signed(c.untouched.change)} (${c.untouched.questions})`)
        .join("; ")}`,
  });
  rows.push({
    section,
    metric: "run-to-run noise: spread (max − min) of unlearned held-out MRR@10 over the runs",
    unit: "",
    value: summarize(noise === null ? [NaN] : [noise]),
    note:
      `${runs.length} runs, each its own seeded split and T4DM_SEED; unlearned held-out MRR@10 per run ${runs.map((r) => f3(mean(r.before.heldOut.rr))).join(", ")}; ` +
      `for comparison, the spread of the change after feedback ${f3(gain.max - gain.min)}`,
  });
  for (const [metric, metricLabel] of /** @type {const} */ ([["rr", "MRR@10"], ["recall", "recall@10"]])) {
    rows.push({
      section,
      metric: `exact BM25 baseline, held-out ${metricLabel}`,
      unit: "",
      value: summarize(figure("heldOut", metric, "bm25")),
      anchor: { ...anchor, value: summarize(figure("heldOut", metric, "before")) },
      ratio: ratioOfRuns(figure("heldOut", metric, "bm25"), figure("heldOut", metric, "before")),
      note: "k1 1.2, b 0.75 over the same documents, in the bench (bench/lib/bm25.mjs); no learning",
    });
  }
  return rows;
}

/** Runs the section BENCH_RUNS times and returns its rows and details. */
export async function realDataSection() {
  const dataset = selectedDataset();
  const sets = loadRetrievalSets(dataset);
  console.log(
    `learning (real data): ${dataset.name}, ${sets.length} set(s), ${sets.reduce((n, s) => n + s.docs.length, 0)} memories, ` +
      `${sets.reduce((n, s) => n + s.questions.length, 0)} questions (using ${Number.isFinite(QUESTION_LIMIT) ? QUESTION_LIMIT : "all"}); ${PASSES} feedback passes, negative reward ${NEGATIVE}`,
  );
  /** @type {Run[]} */
  const runs = [];
  for (let run = 0; run < RUNS; run++) {
    const r = await labelledFeedbackRun(sets, BASE_SEED + run, { passes: PASSES, negative: NEGATIVE, questionLimit: QUESTION_LIMIT });
    runs.push(r);
    const change = heldOutChange(r);
    console.log(
      `learning (real data): seed ${r.seed}: held-out MRR@10 ${f3(mean(r.before.heldOut.rr))} → ${f3(mean(r.after.heldOut.rr))} ` +
        `(${signed(change.mean)}, 95% [${signed(change.low)}, ${signed(change.high)}]), recall@10 ${f3(mean(r.before.heldOut.recall))} → ${f3(mean(r.after.heldOut.recall))}; ` +
        `trained MRR@10 ${f3(mean(r.before.train.rr))} → ${f3(mean(r.after.train.rr))}, recall@10 ${f3(mean(r.before.train.recall))} → ${f3(mean(r.after.train.recall))}; ` +
        `held-out change where the evidence was penalised in training ${signed(changeByPenalty(r).penalised.change)} (${changeByPenalty(r).penalised.questions} questions), ` +
        `elsewhere ${signed(changeByPenalty(r).untouched.change)} (${changeByPenalty(r).untouched.questions}); ` +
        `BM25 held-out MRR@10 ${f3(mean(r.bm25.heldOut.rr))}; training recalls' MRR@10 per pass ${r.trainingMrr.map(f3).join(", ")}; ` +
        `shadow guard: lowest trust ${r.guard.minTrust}, scorers backed off ${r.guard.backedOff}; ` +
        `ingest ${r.ingestSeconds.toFixed(0)} s, run ${r.seconds.toFixed(0)} s`,
    );
  }
  const { noise, met } = judge(runs);
  console.log(`learning (real data): noise ${noise === null ? "unmeasured (1 run)" : f3(noise)}; target ${met ? "met" : "NOT MET"}`);
  return {
    rows: toRows(runs, dataset.name),
    details: {
      dataset,
      passes: PASSES,
      negativeReward: NEGATIVE,
      questionLimit: Number.isFinite(QUESTION_LIMIT) ? QUESTION_LIMIT : null,
      noise,
      runs: runs.map((r) => ({ ...r, heldOutChange: heldOutChange(r), heldOutChangeByPenalty: changeByPenalty(r) })),
    },
  };
}
