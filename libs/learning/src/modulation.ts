/**
 * What a namespace's ranking and learning read of the neuromodulators. The
 * modulators are one global state moved by every namespace's records (a
 * reward moves dopamine, mood and arousal; a Remember or Recall moves arousal
 * and encoding). Under NAMESPACE scope each namespace therefore reads the
 * baseline levels instead: otherwise one tenant's surprising feedback would
 * widen another tenant's candidate pool (a different fetch, different fused
 * ranks), scale its learning rate, and shift the gate's opinion, and so the
 * initial evidence, of the memories it remembers next. Under SHARED scope
 * (the operator's choice) every namespace reads the live levels, as before.
 */
import type { LearningState } from "./learning-state.js";
import {
  ACETYLCHOLINE_BASELINE,
  DOPAMINE_BASELINE,
  NOREPINEPHRINE_BASELINE,
  SEROTONIN_BASELINE,
  type NeuromodulatorLevels,
  Neuromodulators,
} from "./neuromodulators.js";

const BASELINE = Neuromodulators.restore({
  dopamine: DOPAMINE_BASELINE,
  serotonin: SEROTONIN_BASELINE,
  norepinephrine: NOREPINEPHRINE_BASELINE,
  acetylcholine: ACETYLCHOLINE_BASELINE,
  expectations: [],
  recentRewards: [],
  arousalHistory: [],
});

/** The modulator readings a namespace's planning and ranking may use. */
export interface Modulation {
  /** The gate's modulator features. */
  levels: NeuromodulatorLevels;
  /** Multiplies LEARNING_RATE. */
  learningRateScale: number;
  /** Multiplies the recall candidate pool fetched from storage. */
  recallWidening: number;
}

export function modulationOf(state: LearningState): Modulation {
  const modulators = state.learnsPerNamespace ? BASELINE : state.neuromodulators;
  return { levels: modulators.levels(), learningRateScale: modulators.learningRateScale(), recallWidening: modulators.recallWidening() };
}
