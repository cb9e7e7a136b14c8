import { walV1 } from "@t4dm/proto";
import { describe, expect, it } from "vitest";
import { MemoryBuffer } from "../src/buffer.js";
import { Prng } from "../src/prng.js";

const NAMESPACES = ["a", "b", "c"];

/** What the namespace view must always equal: the whole buffer, filtered, in its order. */
function expectConsistent(buffer: MemoryBuffer): void {
  for (const namespace of [...NAMESPACES, "never"]) {
    const expected = [...buffer.all()].filter((item) => item.memory.namespace === namespace).map((item) => item.memory.id);
    expect([...buffer.namespaceItems(namespace)].map((item) => item.memory.id)).toEqual(expected);
    expect(buffer.inNamespace(namespace).map((item) => item.memory.id)).toEqual(expected);
  }
}

describe("the buffer's per-namespace view", () => {
  it("holds exactly the namespace's buffered items, oldest first, through adds, re-adds, removals, promotions, merges and a checkpoint", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const prng = Prng.fromSeed(seed);
      const pick = <T>(values: readonly T[]): T => values[Math.floor(prng.nextFloat() * values.length)]!;
      let buffer = new MemoryBuffer();
      const ids = Array.from({ length: 12 }, (_, i) => `m${i}`);
      for (let step = 0; step < 200; step++) {
        const id = pick(ids);
        const roll = prng.nextFloat();
        if (roll < 0.45) {
          const memory = walV1.MemoryRecord.fromPartial({ id, namespace: pick(NAMESPACES), content: `c ${id}`, embedding: [1, 0] });
          buffer.apply({ $case: "bufferAdd", value: walV1.BufferAdd.fromPartial({ memory }) });
        } else if (roll < 0.6) {
          buffer.apply({ $case: "bufferRemove", value: walV1.BufferRemove.fromPartial({ memoryId: id }) });
        } else if (roll < 0.75) {
          buffer.apply({ $case: "bufferPromote", value: walV1.BufferPromote.fromPartial({ memoryId: id }) });
        } else if (roll < 0.9) {
          buffer.apply({ $case: "memoryMerge", value: walV1.MemoryMerge.fromPartial({ intoId: pick(ids), mergedId: id }) });
        } else {
          const { buffer: held, promoting } = buffer.snapshot();
          buffer = MemoryBuffer.restore(held, promoting);
        }
        expectConsistent(buffer);
      }
    }
  });
});
