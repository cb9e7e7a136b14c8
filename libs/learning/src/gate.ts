/**
 * The admission gate: should a new memory be kept? A small MLP
 * (27 → 32 tanh → sigmoid) over a fixed random projection of the embedding
 * and a few scalars, blended with a novelty heuristic until it has seen
 * enough feedback, and trained by signed three-factor updates. The
 * projection is drawn once from the seeded PRNG and checkpointed, never
 * learned, so replay does not depend on re-drawing it.
 */
import type { stateV1, walV1 } from "@t4dm/proto";
import { type Activation, Mlp, scaledDeltas } from "./mlp.js";
import type { Prng } from "./prng.js";
import { clamp, norm } from "./vector.js";

export const GATE_PROJECTION_DIM = 16;
/** 16 projected embedding + novelty + 4 neuromodulators + length + 4 kinds + importance. */
export const GATE_FEATURES = 27;
export const GATE_HIDDEN = 32;
/** Feedback count after which the network alone decides (linear blend until then). */
export const GATE_WARMUP_UPDATES = 200;

const GATE_ACTIVATIONS: readonly Activation[] = ["tanh", "sigmoid"];
const NOVELTY = GATE_PROJECTION_DIM;
const DOPAMINE = NOVELTY + 1;
const SEROTONIN = NOVELTY + 2;
const NOREPINEPHRINE = NOVELTY + 3;
const ACETYLCHOLINE = NOVELTY + 4;
const LENGTH = NOVELTY + 5;
const KIND = NOVELTY + 6; // episodic, working, semantic, procedural: walV1.MemoryKind 1..4
const IMPORTANCE = KIND + 4;

export interface GateFeatureInput {
  embedding: Float32Array;
  /** Row-major GATE_PROJECTION_DIM × embedding dimension. */
  projection: Float32Array;
  novelty: number;
  neuromodulators: { dopamine: number; serotonin: number; norepinephrine: number; acetylcholine: number };
  contentChars: number;
  /** walV1.MemoryKind; anything outside 1..4 leaves the one-hot all zero. */
  kind: number;
  importance: number;
}

export interface GateSnapshot {
  gate: stateV1.Network;
  /** For `LearningState.gate_projection`. */
  projection: number[];
}

/**
 * The gate's input vector. The embedding is rescaled to RMS 1 before it is
 * projected: with N(0, 1/√dim) projection entries every projected feature is
 * then ~N(0, 1) before the tanh, whatever the embedder's norm. Projecting a
 * unit-length embedding directly would give features of size ~1/√dim
 * (≈0.05 at 384 dims), too small to tell memories apart.
 */
export function gateFeatures(input: GateFeatureInput): Float32Array {
  const dim = input.embedding.length;
  if (dim === 0 || input.projection.length !== GATE_PROJECTION_DIM * dim) {
    throw new Error(`gate projection has ${input.projection.length} entries; expected ${GATE_PROJECTION_DIM}×${dim}`);
  }
  const { dopamine, serotonin, norepinephrine, acetylcholine } = input.neuromodulators;
  const scalars = [input.novelty, dopamine, serotonin, norepinephrine, acetylcholine, input.contentChars, input.kind, input.importance];
  if (!scalars.every(Number.isFinite)) throw new Error(`gate features need finite inputs, got [${scalars.join(", ")}]`);
  const length = norm(input.embedding);
  if (!Number.isFinite(length)) throw new Error("gate features need a finite embedding");

  const features = new Float32Array(GATE_FEATURES);
  const scale = length === 0 ? 0 : Math.sqrt(dim) / length;
  for (let k = 0; k < GATE_PROJECTION_DIM; k++) {
    let sum = 0;
    const row = k * dim;
    for (let i = 0; i < dim; i++) sum += input.projection[row + i]! * input.embedding[i]!;
    features[k] = Math.tanh(scale * sum);
  }
  features[NOVELTY] = clamp(input.novelty, 0, 1);
  features[DOPAMINE] = clamp(dopamine, 0, 1);
  features[SEROTONIN] = clamp(serotonin, 0, 1);
  features[NOREPINEPHRINE] = clamp(norepinephrine, 0, 1);
  features[ACETYLCHOLINE] = clamp(acetylcholine, 0, 1);
  features[LENGTH] = Math.min(1, Math.log1p(Math.max(0, input.contentChars)) / 10);
  if (Number.isInteger(input.kind) && input.kind >= 1 && input.kind <= 4) features[KIND + input.kind - 1] = 1;
  features[IMPORTANCE] = clamp(input.importance, 0, 1);
  return features;
}

export class Gate {
  private constructor(
    readonly net: Mlp,
    readonly projection: Float32Array,
    private appliedUpdates: number,
  ) {}

  /** Projection entries N(0, 1/√dim) first, then the Xavier network, from one PRNG stream. */
  static init(prng: Prng, embeddingDim: number): Gate {
    const projection = Gate.drawProjection(prng, embeddingDim);
    const net = Mlp.xavier([GATE_FEATURES, GATE_HIDDEN, 1], GATE_ACTIVATIONS, prng);
    return new Gate(net, projection, 0);
  }

  /**
   * The same network over a new projection for embeddings of `embeddingDim`
   * (after a re-embed to another dimension), drawn from `prng` as `init`
   * draws it. The network keeps its weights: its other inputs (novelty,
   * neuromodulators, length, kind, importance) mean what they meant.
   */
  reproject(prng: Prng, embeddingDim: number): Gate {
    const fresh = Gate.drawProjection(prng, embeddingDim);
    return new Gate(this.net, fresh, this.appliedUpdates);
  }

  private static drawProjection(prng: Prng, embeddingDim: number): Float32Array {
    if (!Number.isInteger(embeddingDim) || embeddingDim < 1) throw new Error(`embedding dimension must be a positive integer, got ${embeddingDim}`);
    const projection = new Float32Array(GATE_PROJECTION_DIM * embeddingDim);
    const sd = 1 / Math.sqrt(embeddingDim);
    for (let i = 0; i < projection.length; i++) projection[i] = prng.nextGaussian() * sd;
    return projection;
  }

  static restore(snapshot: { gate: stateV1.Network | undefined; projection: readonly number[] }, embeddingDim: number): Gate {
    if (snapshot.gate === undefined) throw new Error("checkpoint has no gate network");
    const first = snapshot.gate.layers[0];
    if (first === undefined || first.inputs !== GATE_FEATURES) {
      throw new Error(`checkpointed gate takes ${first?.inputs ?? 0} features; expected ${GATE_FEATURES}`);
    }
    if (snapshot.projection.length !== GATE_PROJECTION_DIM * embeddingDim) {
      throw new Error(`checkpointed gate projection has ${snapshot.projection.length} entries; expected ${GATE_PROJECTION_DIM}×${embeddingDim}`);
    }
    if (!snapshot.projection.every(Number.isFinite)) throw new Error("checkpointed gate projection has a non-finite entry");
    const updates = snapshot.gate.updates;
    if (!Number.isSafeInteger(updates) || updates < 0) throw new Error(`checkpointed gate update count is invalid: ${updates}`);
    return new Gate(Mlp.fromProto(snapshot.gate, GATE_ACTIVATIONS), Float32Array.from(snapshot.projection), updates);
  }

  /** Weight-update records applied so far; drives the warm-up blend. */
  get updates(): number {
    return this.appliedUpdates;
  }

  get embeddingDim(): number {
    return this.projection.length / GATE_PROJECTION_DIM;
  }

  /**
   * P(admit). An untrained network is noise, so it is trusted in proportion
   * to the feedback it has seen; until then a novelty heuristic carries the
   * decision (novel memories are kept, duplicates mostly not).
   */
  admitProbability(features: Float32Array, novelty: number): number {
    const w = Math.min(1, this.appliedUpdates / GATE_WARMUP_UPDATES);
    const heuristic = 0.35 + 0.65 * clamp(novelty, 0, 1);
    return clamp(w * this.net.forward(features) + (1 - w) * heuristic, 0, 1);
  }

  /** Admission threshold: strong encoding (high acetylcholine) admits more. */
  threshold(acetylcholine: number): number {
    return clamp(0.5 - 0.3 * (acetylcholine - 0.5), 0.2, 0.8);
  }

  /**
   * Signed three-factor update Δθ = learningRate × signal × ∂p_net/∂θ, with
   * signal = RPE × eligibility (> 0: admitting this was worth it). Returns
   * the deltas for a GATE_WEIGHT_UPDATE record; the gate is not changed.
   */
  plan(features: Float32Array, signal: number, learningRate: number): walV1.LayerUpdate[] {
    return scaledDeltas(this.net.gradient(features), learningRate * signal);
  }

  /**
   * The update for a reward an admitted memory earned: the network predicts
   * the memory's worth as p, the reward in [−1, 1] sets the target
   * (reward + 1) / 2, and the step is learningRate × eligibility × (target − p)
   * × ∂logit/∂θ — the cross-entropy gradient. It stops once p matches what
   * memories like this earn, so a stream of positive feedback on useful kinds
   * does not also drag every other kind towards admission, and it does not
   * vanish when p is confidently wrong. Returns the deltas for a
   * GATE_WEIGHT_UPDATE record; the gate is not changed.
   */
  learn(features: Float32Array, reward: number, eligibility: number, learningRate: number): walV1.LayerUpdate[] {
    const error = (reward + 1) / 2 - this.net.forward(features);
    return scaledDeltas(this.net.gradient(features, { preActivation: true }), learningRate * eligibility * error);
  }

  /** Applies a logged update; throws (and changes nothing) if it does not fit the network. */
  apply(update: walV1.GateWeightUpdate): void {
    this.net.apply(update.layers);
    this.appliedUpdates++;
  }

  snapshot(): GateSnapshot {
    return { gate: this.net.toProto(this.appliedUpdates), projection: Array.from(this.projection) };
  }
}
