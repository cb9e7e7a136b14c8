/**
 * Recall ranking: score = cosine + a learned correction. The correction is a
 * small MLP (8 → 16 tanh → linear) whose last layer starts at exactly zero,
 * so an untrained scorer ranks exactly by cosine and every departure from
 * cosine ranking was earned from feedback.
 */
import type { stateV1, walV1 } from "@t4dm/proto";
import { type Activation, Mlp, scaledDeltas } from "./mlp.js";
import type { Prng } from "./prng.js";
import { clamp } from "./vector.js";

/** cosine, recency, access, past reward, cluster match, from buffer, importance, evidence. */
export const SCORER_FEATURES = 8;
export const SCORER_HIDDEN = 16;

// The correction is squashed by tanh: it stays within ±1 however long one-signed
// feedback lasts, so it can reorder cosine ranking but never run away from it.
const SCORER_ACTIVATIONS: readonly Activation[] = ["tanh", "tanh"];
const SECONDS_PER_DAY = 86_400;

export interface ScorerFeatureInput {
  cosine: number;
  /** Since the memory was stored; negative (clock skew) counts as 0. */
  ageSeconds: number;
  accessCount: number;
  rewardSum: number;
  rewardCount: number;
  clusterMatch: boolean;
  fromBuffer: boolean;
  importance: number;
  evidence: number;
}

/** Every feature is bounded so one extreme memory cannot swamp the network. */
export function scorerFeatures(input: ScorerFeatureInput): Float32Array {
  const scalars = [input.cosine, input.ageSeconds, input.accessCount, input.rewardSum, input.rewardCount, input.importance, input.evidence];
  if (!scalars.every(Number.isFinite)) throw new Error(`scorer features need finite inputs, got [${scalars.join(", ")}]`);
  return Float32Array.of(
    clamp(input.cosine, -1, 1),
    Math.exp(-Math.max(0, input.ageSeconds) / SECONDS_PER_DAY),
    Math.min(1, Math.log1p(Math.max(0, input.accessCount)) / 5),
    clamp(input.rewardSum / Math.max(1, input.rewardCount), -1, 1),
    input.clusterMatch ? 1 : 0,
    input.fromBuffer ? 1 : 0,
    clamp(input.importance, 0, 1),
    clamp(input.evidence, 0, 1),
  );
}

export class Scorer {
  private constructor(
    readonly net: Mlp,
    private appliedUpdates: number,
  ) {}

  static init(prng: Prng): Scorer {
    return new Scorer(Mlp.xavier([SCORER_FEATURES, SCORER_HIDDEN, 1], SCORER_ACTIVATIONS, prng, { zeroLastLayer: true }), 0);
  }

  static restore(net: stateV1.Network | undefined): Scorer {
    if (net === undefined) throw new Error("checkpoint has no scorer network");
    const first = net.layers[0];
    if (first === undefined || first.inputs !== SCORER_FEATURES) {
      throw new Error(`checkpointed scorer takes ${first?.inputs ?? 0} features; expected ${SCORER_FEATURES}`);
    }
    if (!Number.isSafeInteger(net.updates) || net.updates < 0) throw new Error(`checkpointed scorer update count is invalid: ${net.updates}`);
    return new Scorer(Mlp.fromProto(net, SCORER_ACTIVATIONS), net.updates);
  }

  get updates(): number {
    return this.appliedUpdates;
  }

  /** Cosine plus the learned correction; equal to cosine (as float32) until trained. */
  score(features: Float32Array): number {
    return features[0]! + this.net.forward(features);
  }

  /**
   * Δθ = learningRate × signal × ∂score/∂θ (signal = RPE × eligibility; > 0
   * means this memory should rank higher). Returns the deltas for a
   * SCORER_WEIGHT_UPDATE record; the scorer is not changed.
   */
  plan(features: Float32Array, signal: number, learningRate: number): walV1.LayerUpdate[] {
    return scaledDeltas(this.net.gradient(features), learningRate * signal);
  }

  /** The learned correction: the network's estimate of the reward a memory with these features earns, in (−1, 1). */
  correction(features: Float32Array): number {
    return this.net.forward(features);
  }

  /**
   * The update for a reward a recalled memory earned: the correction's own
   * prediction error for that memory, (reward − correction) × eligibility,
   * times ∂z/∂θ of the output's pre-activation (the matching loss of the tanh
   * output). It stops once the correction predicts what memories like this
   * earn — a delta rule, so one-signed feedback cannot push every score to
   * the tanh's bound — and it only moves the scores of the memories credited.
   * Returns the deltas for a SCORER_WEIGHT_UPDATE record; the scorer is not changed.
   */
  learn(features: Float32Array, reward: number, eligibility: number, learningRate: number): walV1.LayerUpdate[] {
    const error = reward - this.correction(features);
    return scaledDeltas(this.net.gradient(features, { preActivation: true }), learningRate * eligibility * error);
  }

  /** Applies a logged update; throws (and changes nothing) if it does not fit the network. */
  apply(update: walV1.ScorerWeightUpdate): void {
    this.net.apply(update.layers);
    this.appliedUpdates++;
  }

  snapshot(): stateV1.Network {
    return this.net.toProto(this.appliedUpdates);
  }
}
