/**
 * A tiny dense network with one scalar output: the body of the gate and the
 * scorer. Parameters live in Float32Array (the checkpoint format); forward
 * and backward passes run in doubles. The network changes only through
 * `apply(LayerUpdate[])`, which adds float32 deltas, so a live run and a
 * replay of the same records end in the same bits.
 */
import type { stateV1, walV1 } from "@t4dm/proto";
import type { Prng } from "./prng.js";

export type Activation = "tanh" | "sigmoid" | "linear";

export interface MlpLayer {
  readonly inputs: number;
  readonly outputs: number;
  /** Row-major, outputs × inputs. */
  readonly weights: Float32Array;
  readonly biases: Float32Array;
  readonly activation: Activation;
}

/** ∂output/∂parameter for one layer, same layout as the layer. */
export interface LayerGradient {
  weights: Float64Array;
  biases: Float64Array;
}

const ACTIVATIONS: readonly Activation[] = ["tanh", "sigmoid", "linear"];

function activate(activation: Activation, z: number): number {
  switch (activation) {
    case "tanh":
      return Math.tanh(z);
    case "sigmoid":
      return 1 / (1 + Math.exp(-z));
    case "linear":
      return z;
  }
}

/** The derivative written in terms of the activation's output, which backprop already has. */
function derivative(activation: Activation, a: number): number {
  switch (activation) {
    case "tanh":
      return 1 - a * a;
    case "sigmoid":
      return a * (1 - a);
    case "linear":
      return 1;
  }
}

function allFinite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

function checkShape(layers: readonly { inputs: number; outputs: number }[]): void {
  if (layers.length === 0) throw new Error("MLP must have at least one layer");
  layers.forEach((layer, index) => {
    if (!Number.isInteger(layer.inputs) || layer.inputs < 1 || !Number.isInteger(layer.outputs) || layer.outputs < 1) {
      throw new Error(`MLP layer ${index} has invalid shape ${layer.inputs}→${layer.outputs}`);
    }
    const previous = layers[index - 1];
    if (previous !== undefined && previous.outputs !== layer.inputs) {
      throw new Error(`MLP layer ${index} takes ${layer.inputs} inputs but layer ${index - 1} gives ${previous.outputs}`);
    }
  });
  const last = layers[layers.length - 1]!;
  if (last.outputs !== 1) throw new Error(`MLP must end in one output, got ${last.outputs}`);
}

export class Mlp {
  // Replaced only by a full update that widens the first layer (see apply).
  private layerList: MlpLayer[];

  get layers(): readonly MlpLayer[] {
    return this.layerList;
  }

  /** Takes ownership of the arrays; validates that they form a chain ending in one output. */
  constructor(layers: readonly MlpLayer[]) {
    checkShape(layers);
    layers.forEach((layer, index) => {
      if (!ACTIVATIONS.includes(layer.activation)) throw new Error(`MLP layer ${index} has unknown activation "${String(layer.activation)}"`);
      if (layer.weights.length !== layer.inputs * layer.outputs || layer.biases.length !== layer.outputs) {
        throw new Error(
          `MLP layer ${index} (${layer.inputs}→${layer.outputs}) has ${layer.weights.length} weights and ${layer.biases.length} biases`,
        );
      }
    });
    this.layerList = [...layers];
  }

  /**
   * Glorot-uniform weights, U(−√(6/(fan_in+fan_out)), +…), drawn layer by
   * layer in row-major order; biases 0. With `zeroLastLayer` the last layer
   * starts at exactly 0 and draws nothing, so the network's output is 0
   * until it learns (the scorer then ranks purely by cosine).
   */
  static xavier(sizes: readonly number[], activations: readonly Activation[], prng: Prng, options: { zeroLastLayer?: boolean } = {}): Mlp {
    if (activations.length !== sizes.length - 1) {
      throw new Error(`MLP needs one activation per layer: ${sizes.length - 1} layers, ${activations.length} activations`);
    }
    // Reject a bad size before allocating anything.
    if (!sizes.every((size) => Number.isInteger(size) && size >= 1)) throw new Error(`MLP sizes must be positive integers: [${sizes.join(", ")}]`);
    const layers: MlpLayer[] = activations.map((activation, index) => {
      const inputs = sizes[index]!;
      const outputs = sizes[index + 1]!;
      const weights = new Float32Array(inputs * outputs);
      const isLast = index === activations.length - 1;
      if (!(isLast && options.zeroLastLayer === true)) {
        const limit = Math.sqrt(6 / (inputs + outputs));
        for (let i = 0; i < weights.length; i++) weights[i] = (2 * prng.nextFloat() - 1) * limit;
      }
      return { inputs, outputs, weights, biases: new Float32Array(outputs), activation };
    });
    return new Mlp(layers);
  }

  /** The network's output after the last activation. */
  forward(input: ArrayLike<number>): number {
    const activations = this.activations(input);
    return activations[activations.length - 1]![0]!;
  }

  /**
   * ∂output/∂θ for every layer by backprop, in doubles. With `preActivation`
   * it is ∂z/∂θ of the output's pre-activation z instead (the logit, for a
   * sigmoid output): the direction of a matching-loss step, which the output
   * squashing does not shrink when the prediction is confidently wrong.
   */
  gradient(input: ArrayLike<number>, options: { preActivation?: boolean } = {}): LayerGradient[] {
    const activations = this.activations(input);
    const gradients: LayerGradient[] = new Array<LayerGradient>(this.layers.length);
    // delta[j] = ∂output/∂z_j of the current layer's pre-activation.
    const last = this.layers[this.layers.length - 1]!;
    const outputDerivative = options.preActivation === true ? 1 : derivative(last.activation, activations[this.layers.length]![0]!);
    let delta = new Float64Array([outputDerivative]);
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const layer = this.layers[l]!;
      const x = activations[l]!;
      const weights = new Float64Array(layer.weights.length);
      for (let j = 0; j < layer.outputs; j++) {
        const dj = delta[j]!;
        const row = j * layer.inputs;
        for (let i = 0; i < layer.inputs; i++) weights[row + i] = dj * x[i]!;
      }
      gradients[l] = { weights, biases: Float64Array.from(delta) };
      if (l > 0) {
        const below = this.layers[l - 1]!;
        const next = new Float64Array(layer.inputs);
        for (let i = 0; i < layer.inputs; i++) {
          let sum = 0;
          for (let j = 0; j < layer.outputs; j++) sum += layer.weights[j * layer.inputs + i]! * delta[j]!;
          next[i] = sum * derivative(below.activation, x[i]!);
        }
        delta = next;
      }
    }
    return gradients;
  }

  /**
   * Applies one weight-update record. Every update is checked (layer index,
   * exact lengths, finite values, no layer twice) and the new values are
   * computed before any is stored, so a corrupt record throws and leaves the
   * network untouched — it can never resize or half-update it. Deltas are
   * rounded to float32 first, so applying a record before or after a
   * protobuf round trip gives the same bits.
   *
   * One shape change is allowed, because a full update carries every value:
   * a full update of layer 0 may give it more inputs (a feature-count change
   * of the network's input, logged like any other weight change).
   */
  apply(updates: readonly walV1.LayerUpdate[]): void {
    const staged: { index: number; layer: MlpLayer; weights: Float32Array; biases: Float32Array }[] = [];
    const seen = new Set<number>();
    for (const update of updates) {
      const layer = Number.isInteger(update.layer) ? this.layers[update.layer] : undefined;
      if (layer === undefined) throw new Error(`weight update names layer ${update.layer}; the network has ${this.layers.length}`);
      if (seen.has(update.layer)) throw new Error(`weight update names layer ${update.layer} twice`);
      seen.add(update.layer);
      const widens = update.full && update.layer === 0 && update.weights.length > layer.weights.length && update.weights.length % layer.outputs === 0;
      if ((!widens && update.weights.length !== layer.weights.length) || update.biases.length !== layer.biases.length) {
        throw new Error(
          `weight update for layer ${update.layer} has ${update.weights.length} weights and ${update.biases.length} biases; ` +
            `the layer (${layer.inputs}→${layer.outputs}) has ${layer.weights.length} and ${layer.biases.length}`,
        );
      }
      const weights = widens ? Float32Array.from(update.weights, Math.fround) : combine(layer.weights, update.weights, update.full);
      const biases = combine(layer.biases, update.biases, update.full);
      if (!allFinite(weights) || !allFinite(biases)) {
        throw new Error(`weight update for layer ${update.layer} would make a parameter non-finite`);
      }
      staged.push({ index: update.layer, layer, weights, biases });
    }
    for (const { index, layer, weights, biases } of staged) {
      if (weights.length !== layer.weights.length) {
        this.layerList[index] = { ...layer, inputs: weights.length / layer.outputs, weights, biases };
        continue;
      }
      layer.weights.set(weights);
      layer.biases.set(biases);
    }
  }

  /** The checkpoint form; `updates` is the owner's count of applied records. */
  toProto(updates: number): stateV1.Network {
    return {
      layers: this.layers.map((layer) => ({
        inputs: layer.inputs,
        outputs: layer.outputs,
        weights: Array.from(layer.weights),
        biases: Array.from(layer.biases),
      })),
      updates,
    };
  }

  /** Rebuilds a network from a checkpoint; activations are code, not state, so the owner supplies them. */
  static fromProto(net: stateV1.Network, activations: readonly Activation[]): Mlp {
    if (net.layers.length !== activations.length) {
      throw new Error(`checkpointed network has ${net.layers.length} layers; expected ${activations.length}`);
    }
    checkShape(net.layers);
    return new Mlp(
      net.layers.map((layer, index) => {
        if (!allFinite(layer.weights) || !allFinite(layer.biases)) throw new Error(`checkpointed network layer ${index} has a non-finite parameter`);
        return {
          inputs: layer.inputs,
          outputs: layer.outputs,
          weights: Float32Array.from(layer.weights),
          biases: Float32Array.from(layer.biases),
          activation: activations[index]!,
        };
      }),
    );
  }

  /** Inputs as seen by each layer: [input, hidden…, output]. */
  private activations(input: ArrayLike<number>): Float64Array[] {
    const first = this.layers[0]!;
    if (input.length !== first.inputs) throw new Error(`MLP expects ${first.inputs} inputs, got ${input.length}`);
    const out: Float64Array[] = [Float64Array.from(input as ArrayLike<number>)];
    for (const layer of this.layers) {
      const x = out[out.length - 1]!;
      const a = new Float64Array(layer.outputs);
      for (let j = 0; j < layer.outputs; j++) {
        let z = layer.biases[j]!;
        const row = j * layer.inputs;
        for (let i = 0; i < layer.inputs; i++) z += layer.weights[row + i]! * x[i]!;
        a[j] = activate(layer.activation, z);
      }
      out.push(a);
    }
    return out;
  }
}

function combine(current: Float32Array, values: readonly number[], full: boolean): Float32Array {
  const next = new Float32Array(current.length);
  for (let i = 0; i < next.length; i++) {
    const value = Math.fround(values[i]!);
    next[i] = full ? value : current[i]! + value;
  }
  return next;
}

/**
 * The delta record for Δθ = scale × gradient (`full: false`), rounded to
 * float32 here so the record holds exactly what the WAL will carry.
 */
export function scaledDeltas(gradient: readonly LayerGradient[], scale: number): walV1.LayerUpdate[] {
  if (!Number.isFinite(scale)) throw new Error(`update scale must be finite, got ${scale}`);
  return gradient.map((layer, index) => {
    const weights = Array.from(layer.weights, (g) => Math.fround(g * scale));
    const biases = Array.from(layer.biases, (g) => Math.fround(g * scale));
    if (!allFinite(weights) || !allFinite(biases)) throw new Error(`update for layer ${index} overflows float32`);
    return { layer: index, weights, biases, full: false };
  });
}
