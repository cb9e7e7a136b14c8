/**
 * Existing data directories replay to the same state as before: a WAL
 * planned by the code before keep-by-default (CAPACITY evictions, a
 * DUPLICATE removal, gate rejections, SYSTEM_START without a retention
 * default; generated at commit cea5f82) replays to the state hash that code
 * computed, and its evictions still answer with their reasons.
 */
import { readFileSync } from "node:fs";
import { walV1 } from "@t4dm/proto";
import { describe, expect, it } from "vitest";
import { LearningState } from "../src/index.js";

const golden = JSON.parse(readFileSync(new URL("./golden/old-wal.json", import.meta.url), "utf8")) as { payloads: string[]; stateHash: string };

describe("old WALs replay unchanged", () => {
  it("replays to the state hash the old code computed, evictions and their reasons included", () => {
    const state = new LearningState();
    golden.payloads.forEach((hex, i) => state.apply(i + 1, walV1.WalEntry.decode(Buffer.from(hex, "hex"))));
    expect(state.hash().toString("hex")).toBe(golden.stateHash);
    const reasons = [...state.outbox.evictions.values()].map((eviction) => eviction.reason);
    expect(reasons).toContain(walV1.RemovalReason.REMOVAL_REASON_CAPACITY);
    expect(reasons).toContain(walV1.RemovalReason.REMOVAL_REASON_DUPLICATE);
    // Also from a checkpoint of the replayed state.
    expect(LearningState.decode(state.encode()).hash().toString("hex")).toBe(golden.stateHash);
  });
});
