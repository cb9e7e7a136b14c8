/**
 * A replayed memory's vector is copied once out of the record it came in (a
 * view into a whole recovery batch must not be kept alive), and that one copy
 * serves both as the packed bytes the state encodes and as the floats
 * similarity reads: the golden REMEMBER WAL replays with one copy per
 * embedding, to the same state hash.
 */
import { readFileSync } from "node:fs";
import { walV1 } from "@t4dm/proto";
import { describe, expect, it } from "vitest";
import { LearningState } from "../src/index.js";

const golden = JSON.parse(readFileSync(new URL("./golden/remember-wal.json", import.meta.url), "utf8")) as { payloads: string[]; stateHash: string };

describe("replayed vectors", () => {
  it("are one owned copy per embedding, shared by its bytes and its floats", () => {
    // All payloads in one buffer, as a recovery batch delivers them.
    const batch = Buffer.concat(golden.payloads.map((hex) => Buffer.from(hex, "hex")));
    const state = new LearningState();
    let at = 0;
    golden.payloads.forEach((hex, i) => {
      const length = hex.length / 2;
      state.apply(i + 1, walV1.WalEntry.decode(batch.subarray(at, at + length)));
      at += length;
    });
    expect(state.hash().toString("hex")).toBe(golden.stateHash);
    const items = [...state.buffer.all(), ...state.buffer.promoting()];
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) {
      const packed = item.memory.embeddingF32;
      expect(packed.buffer).not.toBe(batch.buffer);
      expect(item.embedding.buffer).toBe(packed.buffer);
      expect(Buffer.from(item.embedding.buffer, item.embedding.byteOffset, item.embedding.byteLength).equals(packed)).toBe(true);
    }
  });
});
