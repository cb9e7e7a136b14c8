/**
 * Recall ranking: score = fused base + a learned correction. The base is the
 * fusion of the vector and lexical candidate lists (lexical/fusion.ts; the
 * cosine itself in SEMANTIC mode). The correction is a small MLP
 * (15 → 16 tanh → tanh) whose last layer starts at exactly zero, so an
 * untrained scorer ranks exactly by the fused base and every departure from
 * it was earned from feedback.
 *
 * Feature count is part of the learning state. Scorers made before hybrid
 * recall take the first 8 features (LEGACY_SCORER_FEATURES), those made
 * before the memory's kind was a feature the first 12
 * (HYBRID_SCORER_FEATURES); a fresh scorer still starts at 12, so an old WAL
 * replayed from a cold start rebuilds the state its own code had. Such a
 * scorer keeps its shape (so checkpoint hashes and old weight updates still
 * fit) and scores with its first features until a logged full update of
 * layer 0 widens it (`planWiden`, at the next recall that records), the new
 * inputs' weights starting at 0 so the widening changes no score. Replay
 * passes through the same record, so live and replayed states stay
 * bit-identical.
 */
import type { stateV1, walV1 } from "@t4dm/proto";
import { type Activation, Mlp, scaledDeltas } from "./mlp.js";
import type { Prng } from "./prng.js";
import { UNJUDGED } from "./shadow-guard.js";
import { clamp } from "./vector.js";

/**
 * cosine, recency, access, past reward, cluster match, from buffer,
 * importance, evidence (the legacy eight), then BM25, vector-list rank,
 * lexical-list rank, fused base (the hybrid twelve), then the memory's kind
 * as working, semantic and procedural flags (episodic: none): a kind's
 * usefulness transfers across queries where a memory's own reward does not.
 */
export const SCORER_FEATURES = 15;
export const HYBRID_SCORER_FEATURES = 12;
export const LEGACY_SCORER_FEATURES = 8;
/** Scorer input widths a checkpoint may hold, oldest first. */
const KNOWN_WIDTHS: readonly number[] = [LEGACY_SCORER_FEATURES, HYBRID_SCORER_FEATURES, SCORER_FEATURES];
const KIND_WORKING = 2;
const KIND_SEMANTIC = 3;
const KIND_PROCEDURAL = 4;
/** Where the fused base score sits in the features. */
export const FUSED_FEATURE = 11;
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
  /** BM25 over the namespace's memories; 0 without a lexical match. */
  bm25: number;
  /** 1-based ranks in the candidate lists; undefined when not in that list. */
  vectorRank?: number;
  lexicalRank?: number;
  /** The fused base score the correction is added to. */
  fused: number;
  /** t4dm.wal.v1.MemoryKind (1 episodic, 2 working, 3 semantic, 4 procedural). */
  kind: number;
}

/** Every feature is bounded so one extreme memory cannot swamp the network. */
export function scorerFeatures(input: ScorerFeatureInput): Float32Array {
  const scalars = [input.cosine, input.ageSeconds, input.accessCount, input.rewardSum, input.rewardCount, input.importance, input.evidence, input.bm25, input.fused];
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
    // Saturating, so a long query's large BM25 cannot swamp the network.
    Math.max(0, input.bm25) / (1 + Math.max(0, input.bm25)),
    input.vectorRank ? 1 / input.vectorRank : 0,
    input.lexicalRank ? 1 / input.lexicalRank : 0,
    clamp(input.fused, -1, 1),
    input.kind === KIND_WORKING ? 1 : 0,
    input.kind === KIND_SEMANTIC ? 1 : 0,
    input.kind === KIND_PROCEDURAL ? 1 : 0,
  );
}

/**
 * Features cut or zero-padded to `inputs`: an older scorer reads its first
 * ones; a trace recorded before a widening feeds a wide scorer zeros, which are also the new inputs' weights' starting values, so
 * it learns nothing about inputs it never saw.
 */
export function fitFeatures(features: Float32Array, inputs: number): Float32Array {
  if (features.length === inputs) return features;
  if (features.length > inputs) return features.subarray(0, inputs);
  const padded = new Float32Array(inputs);
  padded.set(features);
  return padded;
}

export class Scorer {
  private constructor(
    readonly net: Mlp,
    private appliedUpdates: number,
    /** The shadow guard (shadow-guard.ts); undefined until a Reinforce judged this scorer. */
    private judged: walV1.ScorerGuard | undefined,
  ) {}

  /**
   * Draws the legacy 8-input layer exactly as before (same PRNG draws), then
   * widens it with zero weights to the hybrid twelve, as the code before kind
   * features did: old WALs replayed from a cold start rebuild the same state.
   * The kind inputs come with the first recall's `planWiden`.
   */
  static init(prng: Prng): Scorer {
    const legacy = Mlp.xavier([LEGACY_SCORER_FEATURES, SCORER_HIDDEN, 1], SCORER_ACTIVATIONS, prng, { zeroLastLayer: true });
    legacy.apply([widenedFirstLayer(legacy, HYBRID_SCORER_FEATURES)]);
    return new Scorer(legacy, 0, undefined);
  }

  static restore(net: stateV1.Network | undefined, guard?: walV1.ScorerGuard): Scorer {
    if (net === undefined) throw new Error("checkpoint has no scorer network");
    const first = net.layers[0];
    if (first === undefined || !KNOWN_WIDTHS.includes(first.inputs)) {
      throw new Error(`checkpointed scorer takes ${first?.inputs ?? 0} features; expected one of ${KNOWN_WIDTHS.join(", ")}`);
    }
    if (!Number.isSafeInteger(net.updates) || net.updates < 0) throw new Error(`checkpointed scorer update count is invalid: ${net.updates}`);
    if (guard !== undefined && !(guard.trust >= 0 && guard.trust <= 1)) throw new Error(`checkpointed scorer trust is outside [0, 1]: ${guard.trust}`);
    return new Scorer(Mlp.fromProto(net, SCORER_ACTIVATIONS), net.updates, guard && { ...guard });
  }

  get updates(): number {
    return this.appliedUpdates;
  }

  /** The shadow guard's state; UNJUDGED (trust 1) until a Reinforce judged this scorer. */
  get guard(): Readonly<walV1.ScorerGuard> {
    return this.judged ?? UNJUDGED;
  }

  /** How much of the learned correction ranking uses, in [0, 1]. */
  get trust(): number {
    return this.guard.trust;
  }

  /** The guard's state for a checkpoint; undefined until judged, so older states encode as before. */
  guardSnapshot(): walV1.ScorerGuard | undefined {
    return this.judged && { ...this.judged };
  }

  /** An independent scorer with the same weights, update count and guard (a namespace's adaptation starts so). */
  copy(): Scorer {
    return Scorer.restore(this.snapshot(), this.guardSnapshot());
  }

  /** Features the network reads: SCORER_FEATURES, or an older width until widened. */
  get inputs(): number {
    return this.net.layers[0]!.inputs;
  }

  /**
   * The full layer-0 update that gives an older scorer every feature (new
   * weights 0, so no score changes); undefined once it has them all.
   */
  planWiden(): walV1.ScorerWeightUpdate | undefined {
    if (this.inputs >= SCORER_FEATURES) return undefined;
    // The caller names the namespace whose scorer this is ("" = the prior).
    return { layers: [widenedFirstLayer(this.net, SCORER_FEATURES)], namespace: "", guard: undefined };
  }

  /**
   * The fused base plus the learned correction as far as the shadow guard
   * trusts it; equal to the base (as float32) until trained, and at trust 0.
   */
  score(features: Float32Array): number {
    return features[FUSED_FEATURE]! + this.trust * this.correction(features);
  }

  /**
   * Δθ = learningRate × signal × ∂score/∂θ (signal = RPE × eligibility; > 0
   * means this memory should rank higher). Returns the deltas for a
   * SCORER_WEIGHT_UPDATE record; the scorer is not changed.
   */
  plan(features: Float32Array, signal: number, learningRate: number): walV1.LayerUpdate[] {
    return scaledDeltas(this.net.gradient(fitFeatures(features, this.inputs)), learningRate * signal);
  }

  /** The learned correction: the network's estimate of the reward a memory with these features earns, in (−1, 1). */
  correction(features: Float32Array): number {
    return this.net.forward(fitFeatures(features, this.inputs));
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
    const fitted = fitFeatures(features, this.inputs);
    return scaledDeltas(this.net.gradient(fitted, { preActivation: true }), learningRate * eligibility * error);
  }

  /**
   * Applies a logged update and, when it carries one, the guard it judged
   * (set as recorded); throws (and changes nothing) if it does not fit.
   */
  apply(update: Pick<walV1.ScorerWeightUpdate, "layers"> & { guard?: walV1.ScorerGuard }): void {
    const guard = update.guard;
    if (guard !== undefined && !(guard.trust >= 0 && guard.trust <= 1)) throw new Error(`scorer guard trust is outside [0, 1]: ${guard.trust}`);
    this.net.apply(update.layers);
    this.appliedUpdates++;
    if (guard !== undefined) this.judged = { ...guard };
  }

  snapshot(): stateV1.Network {
    return this.net.toProto(this.appliedUpdates);
  }
}

/** A full update of layer 0 with `inputs` columns: the current weights, zeros in the new columns. */
function widenedFirstLayer(net: Mlp, inputs: number): walV1.LayerUpdate {
  const first = net.layers[0]!;
  const weights = new Array<number>(first.outputs * inputs).fill(0);
  for (let j = 0; j < first.outputs; j++) {
    for (let i = 0; i < first.inputs; i++) weights[j * inputs + i] = first.weights[j * first.inputs + i]!;
  }
  return { layer: 0, weights, biases: Array.from(first.biases), full: true };
}
