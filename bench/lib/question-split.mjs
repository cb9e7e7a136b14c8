// @ts-check
/**
 * The seeded train / held-out split of bench/learning.mjs's real-data section. Pure.
 *
 * Each set's questions are shuffled with the run's seed and cut in two halves (the train half
 * gets the odd one out), so every set, and so every namespace, has questions in both halves.
 * `limit` caps the questions used over all sets, taken in proportion to each set's size, to keep
 * a run affordable; the documents are never cut, every question still searches all of its set.
 */
import { feedbackTask } from "@t4dm/testkit";

/**
 * @typedef {import("./retrieval-data.mjs").RetrievalSet} RetrievalSet
 * @typedef {import("./retrieval-data.mjs").Question} Question
 * @typedef {{ set: RetrievalSet, train: Question[], heldOut: Question[] }} SplitSet
 */

/**
 * @param {readonly RetrievalSet[]} sets
 * @param {() => number} random the run's seeded source (mulberry32)
 * @param {number} limit at most this many questions over all sets (Infinity: all)
 * @returns {SplitSet[]}
 */
export function splitQuestions(sets, random, limit) {
  const total = sets.reduce((n, s) => n + s.questions.length, 0);
  const share = Math.min(1, limit / total);
  return sets.map((set) => {
    const questions = feedbackTask.shuffled(set.questions, random).slice(0, Math.max(2, Math.round(set.questions.length * share)));
    const half = Math.ceil(questions.length / 2);
    const split = { set, train: questions.slice(0, half), heldOut: questions.slice(half) };
    checkSplit(split);
    return split;
  });
}

/** Throws unless the halves are disjoint, non-empty and labelled with the set's own documents. @param {SplitSet} split */
export function checkSplit({ set, train, heldOut }) {
  if (train.length === 0 || heldOut.length === 0) throw new Error(`set ${set.name}: a half is empty (${train.length} train, ${heldOut.length} held out); it needs 2 questions or more`);
  const trainIds = new Set(train.map((q) => q.id));
  const overlap = heldOut.filter((q) => trainIds.has(q.id));
  if (overlap.length > 0) throw new Error(`set ${set.name}: ${overlap.length} questions are in both halves, e.g. ${overlap[0]?.id}`);
  const docIds = new Set(set.docs.map((d) => d.id));
  for (const q of [...train, ...heldOut]) {
    if (q.relevant.size === 0) throw new Error(`set ${set.name}: question ${q.id} has no labelled evidence`);
    for (const id of q.relevant) if (!docIds.has(id)) throw new Error(`set ${set.name}: question ${q.id} names evidence ${id}, which is not a document of the set`);
  }
}
