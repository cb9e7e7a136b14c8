import { leaveBuffer, MemoryBuffer, type BufferedItem } from "@t4dm/learning";
import { walV1 } from "@t4dm/proto";
import { describe, expect, it } from "vitest";
import { routePromotions } from "../src/storage/promote-to-stores.js";

const EPISODIC = walV1.TargetStore.TARGET_STORE_EPISODIC;
const GRAPH = walV1.TargetStore.TARGET_STORE_GRAPH;

/** A buffer holding one memory of `kind`, promoted by `promote` (the planner's record unless given). */
function promotedThrough(kind: number, promote?: walV1.BufferPromote): { buffer: MemoryBuffer; recorded: walV1.TargetStore } {
  const buffer = new MemoryBuffer();
  const memory = walV1.MemoryRecord.fromPartial({ id: `m-${kind}`, namespace: "ns", kind, content: "x", embedding: [1, 0] });
  buffer.apply({ $case: "bufferAdd", value: walV1.BufferAdd.fromPartial({ memory }) });
  const planned = leaveBuffer(buffer.get(memory.id)!, new Date(0), walV1.RemovalReason.REMOVAL_REASON_CAPACITY, true);
  if (planned.$case !== "bufferPromote") throw new Error("expected a promotion");
  const record = promote ?? planned.value;
  buffer.apply({ $case: "bufferPromote", value: record });
  return { buffer, recorded: record.targetStore };
}

function landed(items: readonly BufferedItem[]): walV1.TargetStore[] {
  const routed = routePromotions(items);
  return items.map((item) => (routed.graph.includes(item) ? GRAPH : routed.episodic.includes(item) ? EPISODIC : walV1.TargetStore.TARGET_STORE_UNSPECIFIED));
}

describe("a promotion lands in the store its BUFFER_PROMOTE record names", () => {
  // 7 stands for a kind a newer writer may log that this build does not know: the planner records
  // EPISODIC for it; the store sync used to send it to the graph store.
  it.each([0, 1, 2, 3, 4, 7])("kind %i, as the planner records it", (kind) => {
    const { buffer, recorded } = promotedThrough(kind);
    expect(landed([...buffer.promoting()])).toEqual([recorded]);
  });

  it("follows the record, not the kind, where they differ — also after a checkpoint", () => {
    const episodicKind = walV1.MemoryKind.MEMORY_KIND_EPISODIC;
    const { buffer } = promotedThrough(episodicKind, { memoryId: `m-${episodicKind}`, targetStore: GRAPH });
    expect(landed([...buffer.promoting()])).toEqual([GRAPH]);
    const { buffer: stored, promoting } = buffer.snapshot();
    expect(landed([...MemoryBuffer.restore(stored, promoting).promoting()])).toEqual([GRAPH]);
  });

  it("an older record without a target follows the rule its writer followed", () => {
    const semantic = walV1.MemoryKind.MEMORY_KIND_SEMANTIC;
    const { buffer } = promotedThrough(semantic, { memoryId: `m-${semantic}`, targetStore: walV1.TargetStore.TARGET_STORE_UNSPECIFIED });
    expect(landed([...buffer.promoting()])).toEqual([GRAPH]);
  });

  it("a promotion that follows the rule encodes in a checkpoint exactly as before the target was kept", () => {
    const { buffer } = promotedThrough(walV1.MemoryKind.MEMORY_KIND_PROCEDURAL);
    expect(buffer.snapshot().promoting.map((entry) => entry.targetStore)).toEqual([walV1.TargetStore.TARGET_STORE_UNSPECIFIED]);
  });
});
