import type { stateV1 } from "@t4dm/proto";

/** The parts of a snapshot large enough to be sent to the encoder worker in slices. */
export type SlicedPart = "buffer" | "clusters" | "requestKeys" | "promoting" | "scorerAdaptations";

/**
 * The fields of LearningState in the order its generated encoder writes them
 * (field-number order), the sliced parts standing alone. The worker encodes a
 * snapshot as it arrives, one group or slice at a time, and the concatenation
 * is the whole message's encoding because each group is encoded with every
 * other field at its default (which protobuf leaves out).
 */
export const ENCODING_ORDER: readonly (SlicedPart | readonly (keyof stateV1.LearningState)[])[] = [
  ["formatVersion", "appliedLsn", "initialized", "seed", "embeddingDim", "bufferCapacity", "prngState", "time"],
  "buffer",
  ["gate", "gateProjection", "scorer", "traces", "neuromodulators"],
  "clusters",
  "requestKeys",
  ["pendingPromotions"],
  "promoting",
  ["evictions", "pendingDeletes", "pendingConcepts", "defaultRetention", "retentionPolicies"],
  "scorerAdaptations",
  ["learningScope", "maxScorerAdaptations", "scorerGuard"],
];

/** The sliced parts in the order the encoding writes them, which is the order they must be sent in. */
export const SLICED_PARTS: readonly SlicedPart[] = ENCODING_ORDER.filter((entry): entry is SlicedPart => typeof entry === "string");

/**
 * What SnapshotEncoder sends its worker for one snapshot, in order: `start`
 * with everything but the sliced parts (left empty), the slices of each part
 * in SLICED_PARTS order, then `end`.
 */
export type SnapshotMessage =
  | { id: number; kind: "start"; rest: stateV1.LearningState }
  | { id: number; kind: "slice"; part: SlicedPart; entries: unknown[] }
  | { id: number; kind: "end" };
