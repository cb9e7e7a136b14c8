// @ts-check
/**
 * The synthetic feedback task (its data lives in @t4dm/testkit's feedbackTask,
 * shared with libs/learning/test/learning.test.ts) drawn for bench/learning.mjs
 * in the unit test's order, plus the scoring helpers the bench needs.
 */
import { feedbackTask } from "@t4dm/testkit";

const { ARRIVING_DISTRACTOR_TEMPLATES, ARRIVING_FACTS, DISTRACTOR_TEMPLATES, HELD_OUT_QUERY_TEMPLATES, STORED_FACTS, TOPICS, TRAINING_QUERY_TEMPLATES, fill, shuffled } =
  feedbackTask;

/** Share of `ids` that are in `useful` (0 for an empty list). @param {readonly string[]} ids @param {ReadonlySet<string>} useful */
export function precision(ids, useful) {
  return ids.length === 0 ? 0 : ids.filter((id) => useful.has(id)).length / ids.length;
}

/** @param {readonly number[]} values */
export function mean(values) {
  return values.reduce((sum, x) => sum + x, 0) / values.length;
}

/**
 * @typedef {{ topic: number, content: string, useful: boolean }} Arrival
 * @typedef {{ topic: number, text: string }} Query
 */

/**
 * The task's memories and held-out queries for one seed, drawn in the unit
 * test's order: the initial memories (shuffled), the ones that arrive during
 * training (shuffled) and three held-out phrasings per topic. Training
 * queries are drawn later, one per episode, from the same random source.
 * @param {() => number} random
 */
export function makeTask(random) {
  /** @type {Arrival[]} */
  const initial = [];
  /** @type {Arrival[]} */
  const later = [];
  TOPICS.forEach((topic, t) => {
    for (const content of topic.facts.slice(0, STORED_FACTS)) initial.push({ topic: t, content, useful: true });
    for (const template of DISTRACTOR_TEMPLATES) initial.push({ topic: t, content: fill(template, topic.terms, random), useful: false });
    for (const content of topic.facts.slice(STORED_FACTS, ARRIVING_FACTS)) later.push({ topic: t, content, useful: true });
    for (const template of ARRIVING_DISTRACTOR_TEMPLATES) later.push({ topic: t, content: fill(template, topic.terms, random), useful: false });
  });
  // Shuffled, so the order of arrival (novelty, modulator levels) does not tell the kinds apart.
  const initialShuffled = shuffled(initial, random);
  const laterShuffled = shuffled(later, random);
  /** @type {Query[]} */
  const heldOut = [];
  TOPICS.forEach((topic, t) => {
    for (const template of HELD_OUT_QUERY_TEMPLATES) heldOut.push({ topic: t, text: fill(template, topic.terms, random) });
  });
  return { initial: initialShuffled, later: laterShuffled, heldOut };
}

/** The training query of an episode: topics in turn, a random training phrasing. @param {number} episode @param {() => number} random @returns {Query} */
export function trainingQuery(episode, random) {
  const t = episode % TOPICS.length;
  const template = /** @type {string} */ (TRAINING_QUERY_TEMPLATES[Math.floor(random() * TRAINING_QUERY_TEMPLATES.length)]);
  return { topic: t, text: fill(template, /** @type {feedbackTask.Topic} */ (TOPICS[t]).terms, random) };
}
