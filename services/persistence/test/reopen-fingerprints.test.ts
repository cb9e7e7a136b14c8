/**
 * Catalog 12 after a reopen of a long WAL: the open fingerprints only the
 * records that can still be among the newest 65,536 LSNs, yet every one of
 * those re-sent identically is acknowledged again and a changed one refused,
 * whichever segment it sits in; older ones are "too old to verify", as before.
 */
import { describe, expect, it } from "vitest";
import { LsnSequenceError } from "../src/wal/wal-errors.js";
import { MemoryFileLayer } from "./support/memory-file-layer.js";
import { open, record, records } from "./support/wal-harness.js";

const RING = 1 << 16;
const LAST = RING + 20_000;

describe("fingerprints after reopening a WAL longer than the ring", () => {
  it("verifies a re-send of any of the newest 65,536 LSNs, across segments", { timeout: 60_000 }, async () => {
    const layer = new MemoryFileLayer();
    const first = await open(layer, { segmentBytes: 256 * 1024, maxSegments: 1000 });
    for (let lsn = 1; lsn <= LAST; lsn += 5000) await first.writer.append(records(lsn, Math.min(LAST, lsn + 4999), 8));
    await first.writer.close();

    const reopened = await open(layer, { segmentBytes: 256 * 1024, maxSegments: 1000 });
    try {
      const segments = reopened.writer.segmentList;
      expect(segments.length).toBeGreaterThan(10);
      const newestFirst = segments.at(-1)!.firstLsn;
      // The oldest LSN still in the ring lies several segments before the newest one.
      const oldestInRing = LAST - RING + 1;
      expect(segments.findIndex((s) => s.lastLsn >= oldestInRing)).toBeLessThan(segments.length - 2);
      for (const lsn of [oldestInRing, oldestInRing + 1, newestFirst - 1, newestFirst, LAST]) {
        await expect(reopened.writer.append([record(lsn, 8)]), `LSN ${lsn}`).resolves.toBe(LAST);
        const changed = { ...record(lsn, 8), payload: Buffer.from("different") };
        await expect(reopened.writer.append([changed]), `changed LSN ${lsn}`).rejects.toThrow(/differs/);
      }
      await expect(reopened.writer.append([record(oldestInRing - 1, 8)])).rejects.toThrow(LsnSequenceError);
      await expect(reopened.writer.append([record(oldestInRing - 1, 8)])).rejects.toThrow(/too old to verify/);
    } finally {
      await reopened.writer.close();
    }
  });
});
