import { describe, expect, it } from "vitest";
import { RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES, type WalRecordData } from "@t4dm/wal-format";
import { WalFullError } from "../src/wal/wal-errors.js";
import { WalWriter } from "../src/wal/wal-writer.js";
import { MemoryFileLayer } from "./support/memory-file-layer.js";
import { record, WAL_DIR } from "./support/wal-harness.js";

const PAYLOAD = 100;
const FRAME = RECORD_HEADER_BYTES + PAYLOAD;
/** Exactly eight ordinary records fill a segment: without a reserve, nothing else would fit in the last one. */
const SEGMENT_BYTES = SEGMENT_HEADER_BYTES + 8 * FRAME;
const MAX_SEGMENTS = 2;
const EXEMPT_OP = 99;

function exempt(lsn: number): WalRecordData {
  return { lsn, opType: EXEMPT_OP, payload: Buffer.alloc(40, 7) };
}

async function openWriter(): Promise<WalWriter> {
  const layer = new MemoryFileLayer();
  await layer.mkdir(WAL_DIR);
  let salt = 0x2000;
  return WalWriter.open({
    layer,
    dir: WAL_DIR,
    syncMode: "fdatasync",
    segmentBytes: SEGMENT_BYTES,
    maxSegments: MAX_SEGMENTS,
    // Not a multiple of a frame: a small ordinary record would still fit after the refusal.
    capReserveBytes: Math.floor(1.5 * FRAME),
    isCapExempt: (r) => r.opType === EXEMPT_OP,
    randomSalt: () => ++salt,
  }, []);
}

describe("catalog 15 at the writer: the cap keeps room for the records that free space", () => {
  it("refuses ordinary records short of the reserve, stays full until segments are freed, and lets exempt records into the reserve", async () => {
    const writer = await openWriter();
    const freed: number[] = [];
    writer.onSpaceFreed(() => freed.push(writer.segmentList.length));
    let lsn = 0;
    let refusal: unknown;
    while (!refusal) {
      await writer.append([record(lsn + 1, PAYLOAD)]).then(
        () => (lsn += 1),
        (error: unknown) => (refusal = error),
      );
    }
    expect(refusal).toBeInstanceOf(WalFullError);
    expect((refusal as WalFullError).refusedFromLsn).toBe(lsn + 1);
    expect(writer.full).toBe(true);
    expect(writer.checkpointRequested).toBe(true);
    // A smaller ordinary record would fit, but the WAL stays full until a checkpoint frees space.
    await expect(writer.append([record(lsn + 1, 1)])).rejects.toBeInstanceOf(WalFullError);
    // Exempt records (a checkpoint commit, a start marker) use the reserve: no segment past the cap.
    expect(await writer.append([exempt(lsn + 1)])).toBe(lsn + 1);
    expect(await writer.append([exempt(lsn + 2)])).toBe(lsn + 2);
    expect(writer.segmentList).toHaveLength(MAX_SEGMENTS);

    await writer.deleteSegmentsThrough(lsn);
    expect(freed).toEqual([1]);
    expect(writer.full).toBe(false);
    expect(await writer.append([record(lsn + 3, PAYLOAD)])).toBe(lsn + 3);
  });

  it("judges the cap on where queued records will land: a burst in one tick never passes it", async () => {
    const writer = await openWriter();
    const outcomes = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => writer.append([record(i + 1, PAYLOAD)])));
    const accepted = outcomes.findIndex((o) => o.status === "rejected");
    expect(accepted).toBeGreaterThan(0);
    // Everything after the first refusal is refused too (at the cap, or as a gap after it).
    expect(outcomes.slice(accepted).every((o) => o.status === "rejected")).toBe(true);
    expect(writer.segmentList.length).toBeLessThanOrEqual(MAX_SEGMENTS);
    expect(writer.durableLsn).toBe(accepted);
  });
});
