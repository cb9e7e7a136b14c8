/**
 * The shadow guard (issue #16: learning must never make ranking worse than
 * the unlearned ranking by more than noise). Pure logic, no state of its own.
 *
 * When a Reinforce arrives, before its update is applied, the scorer's full
 * learned ranking of that recall's traced items and the unlearned (fused
 * base) ranking are both judged against the rewards given, as labels. The
 * weights never saw this feedback, so each comparison is a held-out one
 * (prequential). The difference in pairwise ordering accuracy, learned minus
 * unlearned, feeds an exponentially weighted mean and variance; from them a
 * trust in [0, 1] scales the correction: score = fused + trust × correction.
 *
 * Trust falls fast when the learned ranking is worse than the unlearned one
 * by more than noise (the mean's upper confidence bound is below 0) and
 * rises slowly only once it is better beyond noise (the lower bound is above
 * 0); in between it holds. The learned ranking is always judged at full
 * strength, so a backed-off scorer keeps being evaluated in the shadow and
 * earns its way back. Trust 0 ranks exactly as the fused base.
 *
 * The result is logged in the Reinforce's ScorerWeightUpdate (the guard's
 * new values, never "re-run the rule"), so replay sets it as recorded (I1).
 */
import type { walV1 } from "@t4dm/proto";

/** Observations the running statistic mostly remembers (the EW mean's window). */
export const GUARD_WINDOW = 32;
/** Standard errors of the mean a difference must clear to count as beyond noise. */
export const GUARD_Z = 2;
/** Comparisons before trust may move: the spread of fewer is not an estimate. */
export const GUARD_MIN_OBSERVATIONS = 5;
/** Trust lost per comparison that finds the learned ranking worse beyond noise. */
export const TRUST_DROP = 0.25;
/** Trust regained per comparison that finds it better beyond noise. */
export const TRUST_RISE = 0.05;

/** A guard that has judged nothing: the correction is trusted fully (what every scorer did before the guard). */
export const UNJUDGED: Readonly<walV1.ScorerGuard> = { observations: 0, mean: 0, variance: 0, trust: 1 };

/** One traced item of a recall: both rankings' scores and the reward it was given. */
export interface JudgedItem {
  base: number;
  learned: number;
  reward: number;
}

/**
 * Share of the pairs with different rewards that `score` orders as the
 * rewards do (ties count one half); undefined when every reward is equal,
 * because such feedback says nothing about an order.
 */
export function pairwiseAccuracy(items: readonly JudgedItem[], score: (item: JudgedItem) => number): number | undefined {
  let pairs = 0;
  let agreed = 0;
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      const a = items[i]!;
      const b = items[j]!;
      if (a.reward === b.reward) continue;
      pairs += 1;
      const [better, worse] = a.reward > b.reward ? [a, b] : [b, a];
      const difference = score(better) - score(worse);
      agreed += difference > 0 ? 1 : difference === 0 ? 0.5 : 0;
    }
  }
  return pairs === 0 ? undefined : agreed / pairs;
}

/** Learned minus unlearned pairwise accuracy on one recall, in [−1, 1]; undefined when the rewards judge no order. */
export function shadowDifference(items: readonly JudgedItem[]): number | undefined {
  const learned = pairwiseAccuracy(items, (item) => item.learned);
  const base = pairwiseAccuracy(items, (item) => item.base);
  return learned === undefined || base === undefined ? undefined : learned - base;
}

/** Mean ± this is the band within which the learned ranking is not told apart from the unlearned one. */
export function noiseBand(guard: Readonly<walV1.ScorerGuard>): number {
  const effective = Math.min(guard.observations, GUARD_WINDOW);
  return effective === 0 ? 0 : GUARD_Z * Math.sqrt(guard.variance / effective);
}

/** The guard after one more comparison (`difference`, see shadowDifference). */
export function observe(guard: Readonly<walV1.ScorerGuard>, difference: number): walV1.ScorerGuard {
  if (!Number.isFinite(difference)) throw new Error(`shadow difference must be finite, got ${difference}`);
  const observations = guard.observations + 1;
  // 1/n at first (the plain mean), then a fixed window so the guard follows a scorer that changes.
  const alpha = Math.max(1 / observations, 1 / GUARD_WINDOW);
  const deviation = difference - guard.mean;
  const mean = guard.mean + alpha * deviation;
  const variance = (1 - alpha) * (guard.variance + alpha * deviation * deviation);
  const next = { observations, mean, variance, trust: guard.trust };
  return { ...next, trust: Math.fround(nextTrust(next)) };
}

function nextTrust(guard: walV1.ScorerGuard): number {
  if (guard.observations < GUARD_MIN_OBSERVATIONS) return guard.trust;
  const band = noiseBand(guard);
  if (guard.mean + band < 0) return Math.max(0, guard.trust - TRUST_DROP);
  if (guard.mean - band > 0) return Math.min(1, guard.trust + TRUST_RISE);
  return guard.trust;
}
