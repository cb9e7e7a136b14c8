import type { walV1 } from "@t4dm/proto";

export type LayerUpdate = walV1.LayerUpdate;

/**
 * Adds several delta sets for the same network into one, so a reward that
 * credits many memories logs one weight update, not one per memory.
 */
export function sumLayerUpdates(sets: readonly (readonly LayerUpdate[])[]): LayerUpdate[] {
  const byLayer = new Map<number, { weights: Float64Array; biases: Float64Array }>();
  for (const set of sets) {
    for (const update of set) {
      let sum = byLayer.get(update.layer);
      if (!sum) byLayer.set(update.layer, (sum = { weights: new Float64Array(update.weights.length), biases: new Float64Array(update.biases.length) }));
      for (let i = 0; i < update.weights.length; i++) sum.weights[i]! += update.weights[i]!;
      for (let i = 0; i < update.biases.length; i++) sum.biases[i]! += update.biases[i]!;
    }
  }
  return [...byLayer.entries()]
    .sort(([a], [b]) => a - b)
    .map(([layer, sum]) => ({ layer, weights: Array.from(sum.weights, Math.fround), biases: Array.from(sum.biases, Math.fround), full: false }));
}
