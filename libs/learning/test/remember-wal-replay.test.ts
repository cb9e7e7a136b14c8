/**
 * The one-record Remember format is versioned by golden bytes too: a WAL of
 * REMEMBER records with packed float32 vectors (made room by promotion and by
 * eviction, a recall, a reward) replays to the state hash the code that wrote
 * it computed, live and through a checkpoint of the replayed state. The
 * older format's golden file is old-wal.json (old-wal-replay.test.ts).
 */
import { readFileSync } from "node:fs";
import { walV1 } from "@t4dm/proto";
import { describe, expect, it } from "vitest";
import { LearningState, stepsOf } from "../src/index.js";

const golden = JSON.parse(readFileSync(new URL("./golden/remember-wal.json", import.meta.url), "utf8")) as { payloads: string[]; stateHash: string };

describe("REMEMBER-format WALs replay unchanged", () => {
  it("replays to the recorded state hash", () => {
    const entries = golden.payloads.map((hex) => walV1.WalEntry.decode(Buffer.from(hex, "hex")));
    // The golden file holds what it claims: REMEMBER records whose vectors are packed, making room both ways.
    const remembers = entries.flatMap((entry) => (entry.operation?.$case === "remember" ? [entry.operation.value] : []));
    expect(remembers.length).toBeGreaterThanOrEqual(5);
    for (const record of remembers) {
      expect(record.memory!.embedding).toEqual([]);
      expect(record.memory!.embeddingF32.byteLength).toBeGreaterThan(0);
      expect(record.clusterUpdate!.centroidF32.byteLength).toBeGreaterThan(0);
    }
    const steps = entries.flatMap((entry) => stepsOf(entry.operation).map((step) => step.$case));
    expect(steps).toContain("bufferPromote");
    expect(steps).toContain("bufferRemove");
    expect(entries.some((entry) => entry.operation?.$case === "bufferAdd" || entry.operation?.$case === "bufferPromote")).toBe(false);

    const state = new LearningState();
    entries.forEach((entry, i) => state.apply(i + 1, entry));
    expect(state.hash().toString("hex")).toBe(golden.stateHash);
    expect(LearningState.decode(state.encode()).hash().toString("hex")).toBe(golden.stateHash);
    expect(state.outbox.evictions.size).toBeGreaterThan(0);
  });
});
