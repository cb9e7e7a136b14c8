import { stateV1, walV1 } from "@t4dm/proto";
import { clamp } from "./vector.js";

/** A WAL operation (the `WalEntry.operation` oneof), never undefined. */
type Operation = NonNullable<walV1.WalEntry["operation"]>;

export const DOPAMINE_BASELINE = 0.5;
export const SEROTONIN_BASELINE = 0.5;
export const NOREPINEPHRINE_BASELINE = 0.3;
export const ACETYLCHOLINE_BASELINE = 0.5;
/** Learning rate α of the per-context expected reward V(ctx). */
export const EXPECTATION_RATE = 0.1;
/** How far one reward moves the mood towards it. */
export const MOOD_RATE = 0.05;
/** Weight of the new drive in the arousal moving average. */
export const AROUSAL_RATE = 0.2;
/** How far one Remember or Recall moves acetylcholine. */
export const ENCODING_RATE = 0.05;
/** How far one Recall relaxes arousal towards its baseline. */
export const AROUSAL_RELAXATION = 0.05;
/** A drive is a novelty in [0,1] or a surprise |δ| in [0,2]. */
export const MAX_DRIVE = 2;
export const MAX_EXPECTATIONS = 1024;
export const MAX_RECENT_REWARDS = 100;
export const MAX_AROUSAL_HISTORY = 100;

export interface NeuromodulatorLevels {
  dopamine: number;
  serotonin: number;
  norepinephrine: number;
  acetylcholine: number;
}

export interface RewardPlan {
  /** The reward prediction error δ = r − V(ctx), float32. */
  rpe: number;
  /** DopamineExpectation, SerotoninMood, NorepinephrineArousal, in that order. */
  records: Operation[];
}

/**
 * The four neuromodulators. Every level lives in [0,1]; per-context
 * expectations and both histories are bounded, and eviction follows the order
 * records were applied in, so a replay evicts exactly what the live run did.
 */
export class Neuromodulators {
  private dopamine = Math.fround(DOPAMINE_BASELINE);
  private serotonin = Math.fround(SEROTONIN_BASELINE);
  private norepinephrine = Math.fround(NOREPINEPHRINE_BASELINE);
  private acetylcholine = Math.fround(ACETYLCHOLINE_BASELINE);
  // Map iteration order is insertion order: delete + set makes a context the
  // most recently used, and the first key is the one to evict.
  private readonly expectations = new Map<string, number>();
  private readonly recentRewards: number[] = [];
  private readonly arousalHistory: number[] = [];

  /** V(ctx): the expected reward of a context, 0 when never rewarded. */
  expected(context: string): number {
    return this.expectations.get(context) ?? 0;
  }

  levels(): NeuromodulatorLevels {
    return {
      dopamine: this.dopamine,
      serotonin: this.serotonin,
      norepinephrine: this.norepinephrine,
      acetylcholine: this.acetylcholine,
    };
  }

  /** A multiplier on learning rates: arousal widens learning (0.5 … 1.5). */
  learningRateScale(): number {
    return 0.5 + this.norepinephrine;
  }

  /** A multiplier on the recall candidate pool: arousal widens search (1 … 2). */
  recallWidening(): number {
    return 1 + this.norepinephrine;
  }

  /** The records a reward of `reward` ∈ [-1,1] in `context` would log. */
  planReward(context: string, reward: number): RewardPlan {
    if (!Number.isFinite(reward) || reward < -1 || reward > 1) {
      throw new RangeError(`reward must be a finite number in [-1, 1], got ${reward}`);
    }
    // The logged reward is float32; compute from that so replay agrees.
    const r = Math.fround(reward);
    const expectedValue = this.expected(context);
    const delta = r - expectedValue;
    const rpe = Math.fround(delta);
    const surprise = Math.fround(Math.abs(delta));
    return {
      rpe,
      records: [
        {
          $case: "dopamineExpectation",
          value: {
            context,
            expectedValue: bounded(expectedValue + EXPECTATION_RATE * delta, -1, 1),
            rewardPredictionError: rpe,
          },
        },
        {
          $case: "serotoninMood",
          value: { mood: unit(this.serotonin + MOOD_RATE * ((r + 1) / 2 - this.serotonin)), reward: r },
        },
        this.arousalRecord(unit((1 - AROUSAL_RATE) * this.norepinephrine + AROUSAL_RATE * surprise), surprise),
      ],
    };
  }

  /** The record a stimulus of `novelty` ∈ [0,1] would log. */
  planNovelty(novelty: number): Operation {
    if (!Number.isFinite(novelty) || novelty < 0 || novelty > 1) {
      throw new RangeError(`novelty must be a finite number in [0, 1], got ${novelty}`);
    }
    const drive = Math.fround(novelty);
    return this.arousalRecord(unit((1 - AROUSAL_RATE) * this.norepinephrine + AROUSAL_RATE * drive), drive);
  }

  /** The record a Remember would log: acetylcholine rises towards encoding mode. */
  planEncoding(): Operation[] {
    return [this.encodingRecord(this.acetylcholine + ENCODING_RATE * (1 - this.acetylcholine))];
  }

  /**
   * The records a Recall would log: acetylcholine falls towards retrieval
   * mode, and arousal relaxes a little towards its baseline so a burst of
   * surprise fades with ordinary use rather than sticking.
   */
  planRetrieval(): Operation[] {
    const baseline = Math.fround(NOREPINEPHRINE_BASELINE);
    return [
      this.encodingRecord(this.acetylcholine - ENCODING_RATE * this.acetylcholine),
      this.arousalRecord(unit(this.norepinephrine + AROUSAL_RELAXATION * (baseline - this.norepinephrine)), baseline),
    ];
  }

  /** Applies a modulator record; returns false (and changes nothing) for any other kind. */
  apply(operation: walV1.WalEntry["operation"]): boolean {
    switch (operation?.$case) {
      case "dopamineExpectation": {
        const { context, expectedValue, rewardPredictionError } = operation.value;
        this.expectations.delete(context);
        this.expectations.set(context, bounded(expectedValue, -1, 1));
        if (this.expectations.size > MAX_EXPECTATIONS) {
          const oldest = this.expectations.keys().next();
          if (!oldest.done) this.expectations.delete(oldest.value);
        }
        // Derived here from the logged RPE: the level is a pure function of it.
        const rpe = Number.isNaN(rewardPredictionError) ? 0 : rewardPredictionError;
        this.dopamine = unit(0.5 + 0.5 * Math.tanh(2 * rpe));
        return true;
      }
      case "serotoninMood":
        this.serotonin = unit(operation.value.mood);
        push(this.recentRewards, bounded(operation.value.reward, -1, 1), MAX_RECENT_REWARDS);
        return true;
      case "norepinephrineArousal":
        this.norepinephrine = unit(operation.value.arousal);
        push(this.arousalHistory, driveOf(operation.value.drive), MAX_AROUSAL_HISTORY);
        return true;
      case "acetylcholineEncoding":
        this.acetylcholine = unit(operation.value.encoding);
        return true;
      default:
        return false;
    }
  }

  snapshot(): stateV1.Neuromodulators {
    return {
      dopamine: this.dopamine,
      expectations: [...this.expectations].map(([context, value]) => ({ context, value })),
      serotonin: this.serotonin,
      recentRewards: [...this.recentRewards],
      norepinephrine: this.norepinephrine,
      arousalHistory: [...this.arousalHistory],
      acetylcholine: this.acetylcholine,
    };
  }

  /** Rebuilds from a snapshot; out-of-range or oversized parts are clamped and trimmed (oldest dropped). */
  static restore(part: stateV1.Neuromodulators): Neuromodulators {
    const restored = new Neuromodulators();
    restored.dopamine = unit(part.dopamine);
    restored.serotonin = unit(part.serotonin);
    restored.norepinephrine = unit(part.norepinephrine);
    restored.acetylcholine = unit(part.acetylcholine);
    for (const { context, value } of part.expectations.slice(-MAX_EXPECTATIONS)) {
      restored.expectations.delete(context);
      restored.expectations.set(context, bounded(value, -1, 1));
    }
    for (const reward of part.recentRewards.slice(-MAX_RECENT_REWARDS)) {
      restored.recentRewards.push(bounded(reward, -1, 1));
    }
    for (const drive of part.arousalHistory.slice(-MAX_AROUSAL_HISTORY)) {
      restored.arousalHistory.push(driveOf(drive));
    }
    return restored;
  }

  private arousalRecord(arousal: number, drive: number): Operation {
    return { $case: "norepinephrineArousal", value: { arousal, drive: Math.fround(drive) } };
  }

  private encodingRecord(encoding: number): Operation {
    return { $case: "acetylcholineEncoding", value: { encoding: unit(encoding) } };
  }
}

/** A float32 in [min, max]; NaN (only from a corrupt record) counts as 0. */
function bounded(value: number, min: number, max: number): number {
  return Math.fround(clamp(Number.isNaN(value) ? 0 : value, min, max));
}

function unit(value: number): number {
  return bounded(value, 0, 1);
}

function driveOf(value: number): number {
  return bounded(value, 0, MAX_DRIVE);
}

function push(ring: number[], value: number, capacity: number): void {
  ring.push(value);
  if (ring.length > capacity) ring.shift();
}
