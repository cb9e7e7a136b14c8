/**
 * Per-namespace learning of the recall scorer (issue #16: one tenant's
 * Reinforce moved another tenant's scores). The global scorer is the prior;
 * a namespace's first weight update gives it an adaptation, a full copy of
 * the prior with that update applied, and from then on its feedback trains
 * only that copy and its recalls rank with it. A namespace that never gives
 * feedback has no adaptation and costs nothing.
 *
 * A copy rather than a delta over the prior: the prior never changes in
 * NAMESPACE scope (only a widening, which changes no score, or a reset,
 * which drops every adaptation too), so the two are equivalent, and a copy
 * scores with one forward pass and applies logged updates unchanged.
 *
 * Bounded: at most `max` adaptations. The least recently updated one is
 * dropped (its namespace ranks with the prior again) when an update would
 * exceed the bound, or when a SYSTEM_START lowers it. The order is the order
 * records were applied in and the bound is part of the state, so a replay
 * drops exactly what the live run dropped (the same rule the dopamine
 * expectations follow) without a record of its own.
 */
import type { stateV1, walV1 } from "@t4dm/proto";
import { Scorer } from "./scorer.js";

/** The bound when SYSTEM_START names none (older WALs). */
export const DEFAULT_MAX_SCORER_ADAPTATIONS = 10_000;

export class ScorerAdaptations {
  // Map iteration order is insertion order: delete + set makes a namespace
  // the most recently updated, and the first key is the one to drop.
  private readonly byNamespace = new Map<string, Scorer>();

  get size(): number {
    return this.byNamespace.size;
  }

  get(namespace: string): Scorer | undefined {
    return this.byNamespace.get(namespace);
  }

  /**
   * Applies a namespace's update to its adaptation, first copying `prior`
   * when it has none. Throws (and changes nothing) if the update does not fit.
   */
  apply(namespace: string, update: Pick<walV1.ScorerWeightUpdate, "layers"> & { guard?: walV1.ScorerGuard }, prior: Scorer, max: number): void {
    const scorer = this.byNamespace.get(namespace) ?? prior.copy();
    scorer.apply(update);
    this.byNamespace.delete(namespace);
    this.byNamespace.set(namespace, scorer);
    this.trim(max);
  }

  /** Drops the least recently updated adaptations beyond `max`. */
  trim(max: number): void {
    for (const namespace of this.byNamespace.keys()) {
      if (this.byNamespace.size <= max) return;
      this.byNamespace.delete(namespace);
    }
  }

  /** Every adaptation, least recently updated first. */
  scorers(): IterableIterator<Scorer> {
    return this.byNamespace.values();
  }

  /** Least recently updated first. */
  snapshot(): stateV1.ScorerAdaptation[] {
    return [...this.byNamespace].map(([namespace, scorer]) => ({ namespace, scorer: scorer.snapshot(), guard: scorer.guardSnapshot() }));
  }

  static restore(adaptations: readonly stateV1.ScorerAdaptation[]): ScorerAdaptations {
    const restored = new ScorerAdaptations();
    for (const { namespace, scorer, guard } of adaptations) {
      if (namespace === "") throw new Error("checkpointed scorer adaptation has no namespace");
      restored.byNamespace.set(namespace, Scorer.restore(scorer, guard));
    }
    return restored;
  }
}
