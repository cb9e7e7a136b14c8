// @ts-check
/**
 * The Reinforce a labelled question earns in bench/learning.mjs's real-data section. Pure.
 *
 * Per memory: +1 when it holds evidence of the question, `negative` (default −1, as in the issue:
 * "+ for recalled evidence, − for the rest") for every other recalled memory.
 * Overall: 2·(evidence found / the most that could be found) − 1, the recall's precision measured
 * against what top k can hold: +1 when every piece of evidence that fits is there, −1 when none
 * is. Plain precision@10 would always be ≤ 0.1 on a set with one answer per question, so every
 * recall, good or bad, would look like a failure.
 */

/**
 * @param {readonly (readonly string[])[]} recalled per recalled memory (best first), the document ids it stands for
 * @param {ReadonlySet<string>} relevant the question's evidence
 * @param {number} topK
 * @param {number} negative the reward of a recalled memory without evidence, in [-1, 0]
 * @returns {{ reward: number, memoryRewards: number[] }} memoryRewards in the order of `recalled`
 */
export function feedbackFor(recalled, relevant, topK, negative) {
  if (!(negative >= -1 && negative <= 0)) throw new Error(`the negative reward must be in [-1, 0], got ${negative}`);
  if (relevant.size === 0) throw new Error("a question without evidence cannot be rewarded");
  const memoryRewards = recalled.map((docs) => (docs.some((id) => relevant.has(id)) ? 1 : negative));
  const found = new Set(recalled.flat().filter((id) => relevant.has(id))).size;
  const reward = 2 * (found / Math.min(topK, relevant.size)) - 1;
  return { reward: Math.max(-1, Math.min(1, reward)), memoryRewards };
}
