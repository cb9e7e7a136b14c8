/**
 * The shadow guard (issue #16: learning must never make ranking worse than
 * the unlearned ranking by more than noise). Pure logic, no state of its own.
 *
 * A recall traces, for each memory it returned, its position in the results
 * and its rank among every candidate by the unlearned fused base and by the
 * full learned score (whatever the trust). When a Reinforce arrives, before
 * its update is applied, the rankings are judged against the rewards given,
 * as labels: the weights that ranked never saw this feedback, so each
 * comparison is a held-out one (prequential). Two differences from the
 * unlearned ranking (rankDifference) are kept as exponentially weighted
 * means and variances:
 *
 *  - served: the ranking the caller got (fused + trust × correction). Trust
 *    drops when it is worse than the unlearned one by more than noise (the
 *    mean's upper confidence bound is below 0).
 *  - shadow: the full learned ranking. Trust rises when it is better beyond
 *    noise (the lower bound is above 0), so a backed-off scorer keeps being
 *    judged and earns its way back.
 *
 * Evidence about what was served is only about the trust it was served at,
 * so it starts afresh whenever trust changes. Feedback that turns against
 * whatever it is shown (it punishes the top and rewards the bottom of any
 * ranking) makes the full learned ranking look better whenever it is not
 * served and worse whenever it is. So trust climbs back by doubling from a
 * sliver (TRUST_RISE_FROM), each drop is a strike, and each strike doubles
 * the calm (observations without a drop) needed before trust may rise: such
 * feedback gets only rare, small chances, each ended as soon as its harm
 * shows beyond noise.
 *
 * The guard's new values are logged in the Reinforce's ScorerWeightUpdate
 * (never "re-run the rule"), so replay sets them as recorded (I1). Trust 0
 * ranks exactly as the fused base.
 */
import type { walV1 } from "@t4dm/proto";

/** Observations the running statistics mostly remember (the EW mean's window). */
export const GUARD_WINDOW = 32;
/** Standard errors of the mean a difference must clear to count as beyond noise. */
export const GUARD_Z = 2;
/** Comparisons a statistic needs before trust may move on it: the spread of fewer is not an estimate. */
export const GUARD_MIN_OBSERVATIONS = 5;
/** Trust lost per comparison that finds the served ranking worse beyond noise. */
export const TRUST_DROP = 0.25;
/**
 * A rise doubles trust, from at least this: a backed-off scorer is served
 * again first at a sliver of its correction, where harm stays within noise,
 * and only climbs while what is served holds up.
 */
export const TRUST_RISE_FROM = 1 / 64;
/** Strikes past this no longer lengthen the calm a rise needs (GUARD_MIN_OBSERVATIONS × 2^5 = 160 observations). */
export const MAX_STRIKES = 5;

/** A guard that has judged nothing: the correction is trusted fully (what every scorer did before the guard). */
export const UNJUDGED: Readonly<walV1.ScorerGuard> = {
  observations: 0,
  servedMean: 0,
  servedVariance: 0,
  servedObservations: 0,
  shadowMean: 0,
  shadowVariance: 0,
  trust: 1,
  strikes: 0,
  calm: 0,
};

/** One traced item of a recall: its ranks among every candidate by each ranking, and the reward it was given. */
export interface JudgedItem {
  /** 1-based position in the results served. */
  servedRank: number;
  /** 1-based, by the unlearned fused base. */
  baseRank: number;
  /** 1-based, by the full learned score. */
  learnedRank: number;
  reward: number;
}

/** DCG's discount of a 1-based rank. */
export function discount(rank: number): number {
  return 1 / Math.log2(1 + rank);
}

/**
 * How much more discounted gain the ranking `rankOf` picks gave the
 * recall's rewards than the unlearned one, in [−1, 1]; undefined when every
 * reward is equal (such feedback says nothing about an order).
 *
 * Ranks are over every candidate, not only the ones returned: a learned
 * ranking mostly does harm by what it pushes out of the results, which an
 * order of the returned items alone cannot show. Rewards are centred on
 * their mean, because the returned items are the ones the served ranking
 * placed high: uncentred, uniform praise would credit whatever ranking
 * served, and uniform blame would condemn it.
 */
export function rankDifference(items: readonly JudgedItem[], rankOf: (item: JudgedItem) => number): number | undefined {
  if (items.length === 0) return undefined;
  const meanReward = items.reduce((sum, item) => sum + item.reward, 0) / items.length;
  let difference = 0;
  let scale = 0;
  for (const item of items) {
    const centred = item.reward - meanReward;
    const judged = discount(rankOf(item));
    const base = discount(item.baseRank);
    difference += centred * (judged - base);
    scale += Math.abs(centred) * Math.max(judged, base);
  }
  return scale === 0 ? undefined : difference / scale;
}

/** Both differences of one recall; undefined when the rewards judge no order. */
export function judge(items: readonly JudgedItem[]): { served: number; shadow: number } | undefined {
  const served = rankDifference(items, (item) => item.servedRank);
  const shadow = rankDifference(items, (item) => item.learnedRank);
  return served === undefined || shadow === undefined ? undefined : { served, shadow };
}

/** Mean ± this is the band within which a ranking is not told apart from the unlearned one. */
export function noiseBand(variance: number, observations: number): number {
  const effective = Math.min(observations, GUARD_WINDOW);
  return effective === 0 ? 0 : GUARD_Z * Math.sqrt(variance / effective);
}

/** The guard after one more comparison (see judge). */
export function observe(guard: Readonly<walV1.ScorerGuard>, difference: { served: number; shadow: number }): walV1.ScorerGuard {
  if (!Number.isFinite(difference.served) || !Number.isFinite(difference.shadow)) {
    throw new Error(`shadow guard differences must be finite, got ${difference.served} and ${difference.shadow}`);
  }
  const served = ewStep(guard.servedMean, guard.servedVariance, guard.servedObservations, difference.served);
  const shadow = ewStep(guard.shadowMean, guard.shadowVariance, guard.observations, difference.shadow);
  const next: walV1.ScorerGuard = {
    ...guard,
    observations: guard.observations + 1,
    servedMean: served.mean,
    servedVariance: served.variance,
    servedObservations: guard.servedObservations + 1,
    shadowMean: shadow.mean,
    shadowVariance: shadow.variance,
    calm: guard.calm + 1,
  };
  if (next.servedObservations >= GUARD_MIN_OBSERVATIONS && next.servedMean + noiseBand(next.servedVariance, next.servedObservations) < 0) {
    return changeTrust(next, Math.max(0, next.trust - TRUST_DROP), Math.min(MAX_STRIKES, next.strikes + 1));
  }
  const calmNeeded = GUARD_MIN_OBSERVATIONS * 2 ** next.strikes;
  const shadowBetter = next.observations >= GUARD_MIN_OBSERVATIONS && next.shadowMean - noiseBand(next.shadowVariance, next.observations) > 0;
  if (next.trust < 1 && next.calm >= calmNeeded && shadowBetter) {
    // A rise that holds heals a strike: feedback that turned honest regains full trust in ever shorter steps.
    return changeTrust(next, Math.min(1, Math.max(TRUST_RISE_FROM, 2 * next.trust)), Math.max(0, next.strikes - 1));
  }
  return next;
}

/** A new trust starts a fresh record of what is served at it. */
function changeTrust(guard: walV1.ScorerGuard, trust: number, strikes: number): walV1.ScorerGuard {
  return { ...guard, trust: Math.fround(trust), strikes, calm: 0, servedMean: 0, servedVariance: 0, servedObservations: 0 };
}

/** One step of an exponentially weighted mean and variance: 1/n at first (the plain mean), then a fixed window. */
function ewStep(mean: number, variance: number, observations: number, value: number): { mean: number; variance: number } {
  const alpha = Math.max(1 / (observations + 1), 1 / GUARD_WINDOW);
  const deviation = value - mean;
  return { mean: mean + alpha * deviation, variance: (1 - alpha) * (variance + alpha * deviation * deviation) };
}
