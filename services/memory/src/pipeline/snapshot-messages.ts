import type { stateV1 } from "@t4dm/proto";

/** The parts of a snapshot large enough to be sent to the encoder worker in slices. */
export const SLICED_PARTS = ["buffer", "promoting", "clusters", "requestKeys"] as const;
export type SlicedPart = (typeof SLICED_PARTS)[number];

/**
 * What SnapshotEncoder sends its worker for one snapshot, in order: `start`
 * with everything but the sliced parts (left empty), the slices of each part
 * in order, then `end`.
 */
export type SnapshotMessage =
  | { id: number; kind: "start"; rest: stateV1.LearningState }
  | { id: number; kind: "slice"; part: SlicedPart; entries: unknown[] }
  | { id: number; kind: "end" };
