/**
 * The shadow guard (issue #16 item 2): learning must never make held-out
 * ranking worse than the unlearned ranking by more than noise. Pure rules
 * first, then the whole state driven through WAL records on the synthetic
 * feedback task (support/guard-story.ts), where the fused base already ranks
 * well, so feedback can only keep or spoil it.
 */
import { describe, expect, it } from "vitest";
import { LearningState } from "../src/index.js";
import {
  GUARD_MIN_OBSERVATIONS,
  judge,
  observe,
  rankDifference,
  TRUST_RISE_FROM,
  UNJUDGED,
  type JudgedItem,
} from "../src/shadow-guard.js";
import { GuardStory, honest, invertShown, NAMESPACE } from "./support/guard-story.js";

/** Held-out MRR@10 may move this much and still be "within noise" of the unlearned ranking: one of 15 queries losing its first hit to second place. */
const NOISE = 0.05;

const item = (servedRank: number, baseRank: number, learnedRank: number, reward: number): JudgedItem => ({ servedRank, baseRank, learnedRank, reward });

describe("rankDifference", () => {
  it("is positive when a ranking lifts what was rewarded above where the base had it, negative when it lifts what was punished", () => {
    const lifted = [item(1, 3, 1, 1), item(2, 1, 2, -1), item(3, 2, 3, -1)];
    expect(rankDifference(lifted, (i) => i.learnedRank)).toBeGreaterThan(0);
    const inverted = lifted.map((i) => ({ ...i, reward: -i.reward }));
    expect(rankDifference(inverted, (i) => i.learnedRank)).toBeCloseTo(-rankDifference(lifted, (i) => i.learnedRank)!, 12);
  });

  it("sees what a ranking pushed out of the results: the base's best, punished nowhere, rewarded far down", () => {
    // The learned ranking put three memories the base ranked 20th-22nd on top; the caller rewarded the base's favourite.
    const pushedOut = [item(1, 20, 1, -1), item(2, 21, 2, -1), item(3, 1, 30, 1)];
    expect(rankDifference(pushedOut, (i) => i.learnedRank)).toBeLessThan(-0.5);
  });

  it("judges no order when every reward is equal (uniform praise would otherwise credit whatever served)", () => {
    expect(rankDifference([item(1, 5, 1, 1), item(2, 9, 2, 1)], (i) => i.learnedRank)).toBeUndefined();
    expect(judge([item(1, 5, 1, -0.5)])).toBeUndefined();
    expect(judge([])).toBeUndefined();
  });

  it("stays in [-1, 1]", () => {
    const extreme = [item(1, 1000, 1, -1), item(2, 1, 1000, 1)];
    const d = rankDifference(extreme, (i) => i.learnedRank)!;
    expect(d).toBeGreaterThanOrEqual(-1);
    expect(d).toBeLessThanOrEqual(1);
  });
});

describe("observe", () => {
  const worse = { served: -0.3, shadow: -0.3 };

  it("holds trust until the statistic has enough comparisons, then drops it while what is served is worse beyond noise", () => {
    let guard = UNJUDGED;
    for (let i = 1; i < GUARD_MIN_OBSERVATIONS; i++) guard = observe(guard, worse);
    expect(guard.trust).toBe(1);
    guard = observe(guard, worse);
    expect(guard.trust).toBe(0.75);
    expect(guard.strikes).toBe(1);
    // Evidence about what was served starts afresh at the new trust.
    expect(guard.servedObservations).toBe(0);
    for (let i = 0; i < 40; i++) guard = observe(guard, worse);
    expect(guard.trust).toBe(0);
  });

  it("holds trust while what is served is within noise of the unlearned ranking", () => {
    let guard = UNJUDGED;
    for (let i = 0; i < 100; i++) guard = observe(guard, { served: i % 2 === 0 ? 0.2 : -0.2, shadow: 0 });
    expect(guard.trust).toBe(1);
    expect(guard.strikes).toBe(0);
  });

  it("recovers, once the full learned ranking is better beyond noise, by doubling from a sliver after a calm that doubles per strike", () => {
    let guard = UNJUDGED;
    while (guard.trust > 0) guard = observe(guard, worse);
    const strikes = guard.strikes;
    expect(strikes).toBe(4);
    const better = { served: 0, shadow: 0.3 };
    const trusts = [guard.trust];
    let observations = 0;
    while (guard.trust < 1 && observations < 10_000) {
      guard = observe(guard, better);
      observations++;
      if (trusts.at(-1) !== guard.trust) trusts.push(guard.trust);
    }
    expect(trusts).toEqual([0, TRUST_RISE_FROM, 1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1]);
    // Calm needed per rise: 5·2^4, then each rise heals a strike: 5·(16 + 8 + 4 + 2 + 1 + 1 + 1).
    expect(observations).toBe(GUARD_MIN_OBSERVATIONS * (16 + 8 + 4 + 2 + 1 + 1 + 1));
    expect(guard.strikes).toBe(0);
  });

  it("refuses differences that are not finite", () => {
    expect(() => observe(UNJUDGED, { served: Number.NaN, shadow: 0 })).toThrow(/finite/);
  });
});

describe("the guard in the learning state", () => {
  it("a flood of Reinforce that inverts whatever it is shown backs the scorer off: held-out ranking within noise of the unlearned one", () => {
    for (const seed of [1, 2]) {
      const story = new GuardStory(seed, 0);
      const before = story.heldOutMrr();
      story.feedback(300, invertShown);
      const after = story.heldOutMrr();
      // The flood is harmful: the scorer's full learned ranking is far worse than the base...
      expect(after.learned, `seed ${seed}`).toBeLessThan(before.base - 0.3);
      // ...and what is served stays within noise of the unlearned ranking.
      expect(after.served, `seed ${seed}`).toBeGreaterThanOrEqual(before.base - NOISE);
      expect(story.trust, `seed ${seed}`).toBeLessThanOrEqual(1 / 16);
    }
  });

  it("honest feedback keeps full trust and the learned gain", () => {
    for (const seed of [1, 2]) {
      const story = new GuardStory(seed, 0);
      const before = story.heldOutMrr();
      story.feedback(150, honest);
      const after = story.heldOutMrr();
      expect(story.trust, `seed ${seed}`).toBe(1);
      expect(after.served, `seed ${seed}`).toBeGreaterThan(before.base + 0.05);
    }
  });

  it("a Reinforce with one reward for the whole recall judges nothing: the guard and the state encode as before it existed", () => {
    const story = new GuardStory(3, 0);
    story.feedback(20, () => 1);
    const snapshot = story.driver.state.snapshot();
    expect(snapshot.scorerAdaptations).toHaveLength(1);
    expect(snapshot.scorerAdaptations[0]!.guard).toBeUndefined();
    expect(snapshot.scorerGuard).toBeUndefined();
  });

  it("the guard is learning state: a checkpoint restores it and a replay of the WAL rebuilds it, bit for bit", () => {
    const story = new GuardStory(2, 0);
    story.feedback(120, invertShown);
    const state = story.driver.state;
    const guard = state.snapshot().scorerAdaptations.find((a) => a.namespace === NAMESPACE)!.guard!;
    expect(guard.trust).toBeLessThan(1);
    expect(guard.strikes).toBeGreaterThan(0);

    const checkpointLsn = Math.floor(story.driver.log.length / 2);
    const checkpoint = new LearningState();
    story.driver.log.slice(0, checkpointLsn).forEach((entry, i) => checkpoint.apply(i + 1, entry.entry));
    const warm = LearningState.decode(checkpoint.encode());
    story.driver.log.slice(checkpointLsn).forEach((entry, i) => warm.apply(checkpointLsn + i + 1, entry.entry));

    for (const rebuilt of [LearningState.decode(state.encode()), story.driver.replay(), warm]) {
      expect(rebuilt.hash()).toEqual(state.hash());
      expect(rebuilt.scorerFor(NAMESPACE).guard).toEqual(state.scorerFor(NAMESPACE).guard);
      expect(story.heldOutMrr(rebuilt)).toEqual(story.heldOutMrr());
    }
  });
});
