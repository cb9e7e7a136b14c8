import { Scorer, type LearningState, type Operation } from "@t4dm/learning";
import { stateV1, type adminV1, type walV1 } from "@t4dm/proto";
import { FailedPreconditionError, InvalidArgumentError } from "@t4dm/rpc";

/**
 * A namespace's learned scorer in an export: its own adaptation (weights and
 * shadow guard), encoded as the learning state holds it. None when feedback
 * never gave the namespace one, or when learning is shared across namespaces
 * (the shared scorer is every tenant's, never one tenant's to carry away).
 */
export function learnedScorerOf(state: LearningState, namespace: string): adminV1.ExportedScorer | undefined {
  const scorer = state.learnsPerNamespace ? state.networks?.adaptations.get(namespace) : undefined;
  if (!scorer) return undefined;
  const adaptation: stateV1.ScorerAdaptation = { namespace, scorer: scorer.snapshot(), guard: scorer.guardSnapshot() };
  return { namespace, adaptation: stateV1.ScorerAdaptation.encode(adaptation).finish() };
}

/**
 * The record that sets the target namespace's adaptation to exactly the
 * exported one: a SCORER_WEIGHT_UPDATE whose layers are all full (full
 * updates replace weights; a narrower export is widened with zero weights
 * first, as planWiden does) with the exported guard. Undefined when the
 * namespace already has exactly that adaptation (import is idempotent).
 * Throws INVALID_ARGUMENT for an adaptation that does not decode or fit, and
 * FAILED_PRECONDITION when the target shares learning across namespaces.
 */
export function planLearnedScorer(state: LearningState, exported: adminV1.ExportedScorer, field: string): Operation | undefined {
  if (!state.learnsPerNamespace) {
    throw new FailedPreconditionError(
      "this service shares learning across namespaces (T4DM_LEARNING_SCOPE=shared): one namespace's learned scorer cannot be imported into it; import without the learning state",
      "LEARNING_SCOPE_SHARED",
    );
  }
  let scorer: Scorer;
  try {
    const adaptation = stateV1.ScorerAdaptation.decode(exported.adaptation);
    scorer = Scorer.restore(adaptation.scorer, adaptation.guard);
    const widen = scorer.planWiden();
    if (widen) scorer.apply(widen);
  } catch (error) {
    throw new InvalidArgumentError([{ field: `${field}.adaptation`, description: `is not a learned scorer this service can use: ${(error as Error).message}` }]);
  }
  const wanted = scorer.snapshot();
  const current = state.networks?.adaptations.get(exported.namespace);
  if (current && sameWeights(current.snapshot(), wanted) && sameGuard(current.guardSnapshot(), scorer.guardSnapshot())) return undefined;
  const layers: walV1.LayerUpdate[] = wanted.layers.map((layer, index) => ({ layer: index, weights: layer.weights, biases: layer.biases, full: true }));
  return { $case: "scorerWeightUpdate", value: { layers, namespace: exported.namespace, guard: scorer.guardSnapshot() } };
}

function sameWeights(a: stateV1.Network, b: stateV1.Network): boolean {
  const same = (x: readonly number[], y: readonly number[]) => x.length === y.length && x.every((value, i) => value === y[i]);
  return a.layers.length === b.layers.length && a.layers.every((layer, i) => same(layer.weights, b.layers[i]!.weights) && same(layer.biases, b.layers[i]!.biases));
}

function sameGuard(a: walV1.ScorerGuard | undefined, b: walV1.ScorerGuard | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
