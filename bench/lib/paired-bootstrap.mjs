// @ts-check
/** The mean of paired differences with a seeded percentile-bootstrap interval. Pure. */
import { mulberry32 } from "@t4dm/testkit";

/**
 * Mean of after[i] − before[i] and its 95% interval: `resamples` resamplings of the questions
 * with replacement (the pairs stay together), 2.5th and 97.5th percentiles of their means.
 * @param {readonly number[]} before
 * @param {readonly number[]} after
 * @param {number} seed
 * @param {number} [resamples]
 */
export function pairedBootstrap(before, after, seed, resamples = 2000) {
  if (before.length !== after.length || before.length === 0) throw new Error(`paired samples must have the same non-zero length (${before.length} vs ${after.length})`);
  const diffs = before.map((b, i) => (after[i] ?? NaN) - b);
  if (diffs.some((d) => !Number.isFinite(d))) throw new Error("a paired difference is not a number");
  const mean = (/** @type {number[]} */ xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const random = mulberry32(seed);
  const means = Float64Array.from({ length: resamples }, () => {
    let sum = 0;
    for (let i = 0; i < diffs.length; i++) sum += diffs[Math.floor(random() * diffs.length)] ?? 0;
    return sum / diffs.length;
  }).sort();
  const at = (/** @type {number} */ q) => means[Math.min(resamples - 1, Math.floor(q * resamples))] ?? NaN;
  return { mean: mean(diffs), low: at(0.025), high: at(0.975), pairs: diffs.length };
}
