import { leaveBuffer, type BufferedItem } from "@t4dm/learning";
import { walV1 } from "@t4dm/proto";
import { describe, expect, it } from "vitest";
import { routePromotions } from "../src/storage/promote-to-stores.js";

/** A promoting item of `kind`, with the BUFFER_PROMOTE the planner records for it. */
function promoted(kind: number): { item: BufferedItem; recorded: walV1.TargetStore } {
  const item: BufferedItem = {
    memory: walV1.MemoryRecord.fromPartial({ id: `m-${kind}`, namespace: "ns", kind, content: "x" }),
    embedding: new Float32Array([1, 0]),
    evidence: 1,
    accessCount: 0,
    rewardSum: 0,
    rewardCount: 0,
  };
  const record = leaveBuffer(item, new Date(0), walV1.RemovalReason.REMOVAL_REASON_CAPACITY, true);
  if (record.$case !== "bufferPromote") throw new Error("expected a promotion");
  return { item, recorded: record.value.targetStore };
}

describe("a promotion lands in the store its BUFFER_PROMOTE record names", () => {
  // 7 stands for a kind a newer writer may log that this build does not know: the planner records
  // EPISODIC for it; the store sync used to send it to the graph store.
  it.each([0, 1, 2, 3, 4, 7])("kind %i", (kind) => {
    const { item, recorded } = promoted(kind);
    const routed = routePromotions([item]);
    const landed = routed.graph.includes(item) ? walV1.TargetStore.TARGET_STORE_GRAPH : walV1.TargetStore.TARGET_STORE_EPISODIC;
    expect(routed.graph.length + routed.episodic.length).toBe(1);
    expect(landed).toBe(recorded);
  });
});
