import { stateV1, walV1 } from "@t4dm/proto";
import { describe, expect, it } from "vitest";
import {
  MAX_AROUSAL_HISTORY,
  MAX_EXPECTATIONS,
  MAX_RECENT_REWARDS,
  Neuromodulators,
} from "../src/neuromodulators.js";

type Operation = NonNullable<walV1.WalEntry["operation"]>;

/** What apply() sees in production: the record after a protobuf encode → decode. */
function logged(operation: Operation): Operation {
  const bytes = walV1.WalEntry.encode({ time: undefined, operation }).finish();
  const decoded = walV1.WalEntry.decode(bytes).operation;
  if (decoded === undefined) throw new Error("operation lost in the round trip");
  return decoded;
}

function bytesOf(state: Neuromodulators): Uint8Array {
  return stateV1.Neuromodulators.encode(state.snapshot()).finish();
}

/** Plans, logs and applies, as the sequencer does; returns the logged records. */
function commit(state: Neuromodulators, operations: readonly Operation[]): Operation[] {
  const records = operations.map(logged);
  for (const record of records) expect(state.apply(record)).toBe(true);
  return records;
}

function valueOf<C extends Operation["$case"]>(operation: Operation | undefined, $case: C) {
  if (operation?.$case !== $case) throw new Error(`expected ${$case}, got ${operation?.$case}`);
  return operation.value as Extract<Operation, { $case: C }>["value"];
}

/** A fixed, varied workload: rewards in several contexts, novelty, encoding and retrieval. */
function workload(state: Neuromodulators, steps: number, start = 0): Operation[] {
  const records: Operation[] = [];
  for (let i = start; i < start + steps; i++) {
    const reward = Math.sin(i * 1.7);
    switch (i % 4) {
      case 0:
        records.push(...commit(state, state.planReward(`ctx-${i % 7}`, reward).records));
        break;
      case 1:
        records.push(...commit(state, [state.planNovelty(Math.abs(Math.cos(i)))]));
        break;
      case 2:
        records.push(...commit(state, state.planEncoding()));
        break;
      default:
        records.push(...commit(state, state.planRetrieval()));
    }
  }
  return records;
}

describe("Neuromodulators", () => {
  it("starts at the baselines", () => {
    expect(new Neuromodulators().levels()).toEqual({
      dopamine: 0.5,
      serotonin: 0.5,
      norepinephrine: Math.fround(0.3),
      acetylcholine: 0.5,
    });
  });

  it("plans a reward without changing anything", () => {
    const state = new Neuromodulators();
    workload(state, 20);
    const before = bytesOf(state);
    state.planReward("ctx", 1);
    state.planNovelty(0.9);
    state.planEncoding();
    state.planRetrieval();
    expect(bytesOf(state)).toEqual(before);
  });

  it("turns a first reward into the rule's values and applies exactly those", () => {
    const state = new Neuromodulators();
    const plan = state.planReward("ns/ctx", 1);
    expect(plan.rpe).toBe(1);
    const [dopamine, serotonin, arousal] = plan.records;
    expect(valueOf(dopamine, "dopamineExpectation")).toEqual({
      context: "ns/ctx",
      expectedValue: Math.fround(0.1),
      rewardPredictionError: 1,
    });
    expect(valueOf(serotonin, "serotoninMood")).toEqual({ mood: Math.fround(0.525), reward: 1 });
    expect(valueOf(arousal, "norepinephrineArousal")).toEqual({
      arousal: Math.fround(0.8 * Math.fround(0.3) + 0.2),
      drive: 1,
    });

    const records = commit(state, plan.records);
    // Planned values are already float32, so the logged record is the plan.
    expect(records).toEqual(plan.records);
    expect(state.expected("ns/ctx")).toBe(Math.fround(0.1));
    expect(state.expected("elsewhere")).toBe(0);
    expect(state.levels()).toEqual({
      dopamine: Math.fround(0.5 + 0.5 * Math.tanh(2)),
      serotonin: Math.fround(0.525),
      norepinephrine: Math.fround(0.8 * Math.fround(0.3) + 0.2),
      acetylcholine: 0.5,
    });
  });

  it("learns the expectation, so a repeated reward surprises less and less", () => {
    const state = new Neuromodulators();
    const errors: number[] = [];
    for (let i = 0; i < 30; i++) {
      const plan = state.planReward("ctx", 0.8);
      errors.push(plan.rpe);
      commit(state, plan.records);
    }
    for (let i = 1; i < errors.length; i++) expect(errors[i]!).toBeLessThan(errors[i - 1]!);
    expect(state.expected("ctx")).toBeGreaterThan(0.7);
    // Fully expected: dopamine back near its baseline.
    expect(state.levels().dopamine).toBeCloseTo(0.5 + 0.5 * Math.tanh(2 * errors.at(-1)!), 6);
  });

  it("drops dopamine and mood on punishment", () => {
    const state = new Neuromodulators();
    const plan = state.planReward("ctx", -1);
    expect(plan.rpe).toBe(-1);
    commit(state, plan.records);
    expect(state.levels().dopamine).toBeLessThan(0.05);
    expect(state.levels().serotonin).toBeLessThan(0.5);
    expect(state.expected("ctx")).toBe(Math.fround(-0.1));
  });

  it("refuses rewards and novelty outside their ranges", () => {
    const state = new Neuromodulators();
    expect(() => state.planReward("ctx", 1.5)).toThrow(RangeError);
    expect(() => state.planReward("ctx", Number.NaN)).toThrow(RangeError);
    expect(() => state.planNovelty(-0.1)).toThrow(RangeError);
    expect(() => state.planNovelty(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it("raises arousal with novelty, which widens learning and recall", () => {
    const state = new Neuromodulators();
    const before = state.levels().norepinephrine;
    expect(state.learningRateScale()).toBeCloseTo(0.8, 6);
    expect(state.recallWidening()).toBeCloseTo(1.3, 6);
    commit(state, [state.planNovelty(1)]);
    const after = state.levels().norepinephrine;
    expect(after).toBe(Math.fround(0.8 * before + 0.2));
    expect(state.learningRateScale()).toBe(0.5 + after);
    expect(state.recallWidening()).toBe(1 + after);
    expect(state.snapshot().arousalHistory).toEqual([1]);
  });

  it("moves acetylcholine up on encoding and down on retrieval, relaxing arousal on retrieval", () => {
    const state = new Neuromodulators();
    commit(state, state.planEncoding());
    expect(state.levels().acetylcholine).toBe(Math.fround(0.525));
    commit(state, [state.planNovelty(1)]);
    const aroused = state.levels().norepinephrine;
    const records = commit(state, state.planRetrieval());
    expect(records.map((record) => record.$case)).toEqual(["acetylcholineEncoding", "norepinephrineArousal"]);
    expect(state.levels().acetylcholine).toBe(Math.fround(Math.fround(0.525) * 0.95));
    expect(state.levels().norepinephrine).toBeLessThan(aroused);
    expect(state.levels().norepinephrine).toBeGreaterThan(Math.fround(0.3));
  });

  it("keeps every level in [0,1] under extreme streams", () => {
    const state = new Neuromodulators();
    for (let i = 0; i < 500; i++) {
      commit(state, state.planReward(`c${i % 3}`, i % 2 === 0 ? 1 : -1).records);
      commit(state, [state.planNovelty(1)]);
      commit(state, state.planEncoding());
    }
    for (const level of Object.values(state.levels())) {
      expect(level).toBeGreaterThanOrEqual(0);
      expect(level).toBeLessThanOrEqual(1);
    }
    expect(state.levels().acetylcholine).toBeCloseTo(1, 5);
  });

  it("bounds expectations, evicting the least recently used context", () => {
    const state = new Neuromodulators();
    const expect1 = (context: string): Operation => ({
      $case: "dopamineExpectation",
      value: { context, expectedValue: Math.fround(0.25), rewardPredictionError: 0 },
    });
    for (let i = 0; i < MAX_EXPECTATIONS; i++) commit(state, [expect1(`c${i}`)]);
    // Touching c0 makes c1 the least recently used.
    commit(state, [expect1("c0")]);
    commit(state, [expect1("overflow")]);
    const contexts = state.snapshot().expectations.map((e) => e.context);
    expect(contexts).toHaveLength(MAX_EXPECTATIONS);
    expect(contexts).not.toContain("c1");
    expect(contexts.slice(0, 2)).toEqual(["c2", "c3"]);
    expect(contexts.slice(-2)).toEqual(["c0", "overflow"]);
    expect(state.expected("c1")).toBe(0);
    expect(state.expected("c0")).toBe(0.25);
  });

  it("keeps only the latest rewards and arousal drives, oldest first", () => {
    const state = new Neuromodulators();
    for (let i = 0; i < 150; i++) {
      commit(state, [{ $case: "serotoninMood", value: { mood: 0.5, reward: Math.fround(i / 150) } }]);
      commit(state, [{ $case: "norepinephrineArousal", value: { arousal: 0.3, drive: Math.fround(i / 150) } }]);
    }
    const snapshot = state.snapshot();
    const expected = Array.from({ length: 100 }, (_, k) => Math.fround((k + 50) / 150));
    expect(snapshot.recentRewards).toHaveLength(MAX_RECENT_REWARDS);
    expect(snapshot.arousalHistory).toHaveLength(MAX_AROUSAL_HISTORY);
    expect(snapshot.recentRewards).toEqual(expected);
    expect(snapshot.arousalHistory).toEqual(expected);
  });

  it("clamps a corrupt record instead of leaving [0,1]", () => {
    const state = new Neuromodulators();
    state.apply({ $case: "acetylcholineEncoding", value: { encoding: 7 } });
    state.apply({ $case: "serotoninMood", value: { mood: Number.NaN, reward: 3 } });
    expect(state.levels().acetylcholine).toBe(1);
    expect(state.levels().serotonin).toBe(0);
    expect(state.snapshot().recentRewards).toEqual([1]);
  });

  it("ignores records of other components", () => {
    const state = new Neuromodulators();
    const before = bytesOf(state);
    expect(state.apply({ $case: "traceDecay", value: { factor: 0.5, floor: 0.1, namespace: "" } })).toBe(false);
    expect(state.apply(undefined)).toBe(false);
    expect(bytesOf(state)).toEqual(before);
  });

  it("restores a snapshot to the same bytes, and the copy evolves identically", () => {
    const live = new Neuromodulators();
    workload(live, 400);
    for (let i = 0; i < MAX_EXPECTATIONS + 10; i++) commit(live, live.planReward(`many-${i}`, 0.5).records);
    const bytes = bytesOf(live);
    const restored = Neuromodulators.restore(stateV1.Neuromodulators.decode(bytes));
    expect(bytesOf(restored)).toEqual(bytes);

    // Eviction order survives the restore: both drop the same contexts.
    const more = workload(live, 200, 400);
    for (const record of more) restored.apply(record);
    commit(live, live.planReward("final", 0.1).records);
    commit(restored, restored.planReward("final", 0.1).records);
    expect(bytesOf(restored)).toEqual(bytesOf(live));
  });

  it("replays logged records bit for bit, from scratch or from a checkpoint", () => {
    const live = new Neuromodulators();
    const first = workload(live, 250);
    const checkpoint = stateV1.Neuromodulators.encode(live.snapshot()).finish();
    const rest = workload(live, 250, 250);

    const cold = new Neuromodulators();
    for (const record of [...first, ...rest]) cold.apply(logged(record));
    expect(bytesOf(cold)).toEqual(bytesOf(live));

    const warm = Neuromodulators.restore(stateV1.Neuromodulators.decode(checkpoint));
    for (const record of rest) warm.apply(logged(record));
    expect(bytesOf(warm)).toEqual(bytesOf(live));
    // A workload that did nothing would pass trivially; make sure it moved.
    expect(bytesOf(live)).not.toEqual(bytesOf(new Neuromodulators()));
  });
});
