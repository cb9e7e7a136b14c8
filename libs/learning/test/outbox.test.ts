/**
 * The outbox's record of recent evictions: bounded, oldest out first, a
 * re-evicted id counts as new, and a snapshot restores to the same order.
 */
import { stateV1, walV1 } from "@t4dm/proto";
import { describe, expect, it } from "vitest";
import { MAX_EVICTIONS, StoreOutbox } from "../src/outbox.js";

const eviction = (memoryId: string, second = 0): stateV1.Eviction =>
  stateV1.Eviction.fromPartial({ memoryId, namespace: "ns", reason: walV1.RemovalReason.REMOVAL_REASON_CAPACITY, time: new Date(second * 1000) });

describe("StoreOutbox evictions", () => {
  it("keeps the newest MAX_EVICTIONS, dropping the oldest first", () => {
    const outbox = new StoreOutbox();
    const total = MAX_EVICTIONS * 3 + 17;
    for (let i = 0; i < total; i++) outbox.recordEviction(eviction(`m${i}`, i));
    expect(outbox.evictions.size).toBe(MAX_EVICTIONS);
    const ids = [...outbox.evictions.keys()];
    expect(ids[0]).toBe(`m${total - MAX_EVICTIONS}`);
    expect(ids.at(-1)).toBe(`m${total - 1}`);
  });

  it("treats an id evicted again as the newest, not dropped by its older entry", () => {
    const outbox = new StoreOutbox();
    outbox.recordEviction(eviction("again", 1));
    for (let i = 0; i < MAX_EVICTIONS - 1; i++) outbox.recordEviction(eviction(`m${i}`));
    outbox.recordEviction(eviction("again", 2));
    // One more pushes out the oldest live entry (m0), not "again".
    outbox.recordEviction(eviction("last"));
    expect(outbox.evictions.size).toBe(MAX_EVICTIONS);
    expect(outbox.evictions.get("again")?.time).toEqual(new Date(2000));
    expect(outbox.evictions.has("m0")).toBe(false);
    expect(outbox.evictions.has("m1")).toBe(true);
    expect([...outbox.evictions.keys()].slice(-2)).toEqual(["again", "last"]);
  });

  it("restores a snapshot to the same evictions in the same order, and keeps trimming after", () => {
    const outbox = new StoreOutbox();
    for (let i = 0; i < MAX_EVICTIONS + 5; i++) outbox.recordEviction(eviction(`m${i}`, i));
    const restored = StoreOutbox.restore(outbox.snapshot());
    expect(restored.snapshot()).toEqual(outbox.snapshot());
    restored.recordEviction(eviction("next"));
    outbox.recordEviction(eviction("next"));
    expect(restored.snapshot()).toEqual(outbox.snapshot());
  });
});
