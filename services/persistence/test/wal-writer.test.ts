import { describe, expect, it } from "vitest";
import { LsnConflictError, LsnGapError, LsnSequenceError, WalFullError, WalPoisonedError } from "../src/wal/wal-errors.js";
import { MemoryFileLayer } from "./support/memory-file-layer.js";
import { open, range, readBack, record, records } from "./support/wal-harness.js";

describe("WAL writer: appends and group commit", () => {
  it("acknowledges in order and reads back exactly what was appended", async () => {
    const layer = new MemoryFileLayer();
    const { writer } = await open(layer);
    expect(await writer.append(records(1, 3))).toBe(3);
    expect(await writer.append([record(4)])).toBe(4);
    expect(writer.durableLsn).toBe(4);
    expect(await readBack(layer)).toEqual([1, 2, 3, 4]);
  });

  it("groups appends that arrive during a sync into one writev and one sync", async () => {
    const layer = new MemoryFileLayer();
    const { writer } = await open(layer);
    const before = layer.trace.length;
    const acks = await Promise.all(range(1, 50).map((lsn) => writer.append([record(lsn)])));
    expect(acks.at(-1)).toBe(50);
    // Every ack covers its own LSN.
    acks.forEach((durable, i) => expect(durable).toBeGreaterThanOrEqual(i + 1));
    const ops = layer.trace.slice(before);
    const syncs = ops.filter((op) => op.startsWith("datasync")).length;
    const writes = ops.filter((op) => op.startsWith("writev")).length;
    expect(syncs).toBeLessThanOrEqual(2);
    expect(writes).toBe(syncs);
    expect(await readBack(layer)).toEqual(range(1, 50));
  });

  it("gives each record of each grouped append its own LSN, across segment cuts, and acknowledges only what a power loss keeps", async () => {
    const layer = new MemoryFileLayer();
    const { writer } = await open(layer, { segmentBytes: 600 });
    const before = layer.trace.length;
    // 30 appends of 1-4 records each, all submitted at once so they queue behind each other's syncs.
    const batches: number[][] = [];
    let next = 1;
    for (let i = 0; i < 30; i++) {
      const size = 1 + ((i * 7) % 4);
      batches.push(range(next, next + size - 1));
      next += size;
    }
    const last = next - 1;
    const acks = await Promise.all(
      batches.map((lsns) =>
        writer.append(lsns.map((lsn) => record(lsn, 10 + (lsn % 5) * 13))).then((durable) => {
          // What the disk holds for certain at the moment of this acknowledgement (synchronously, before any later write).
          const kept = layer.afterPowerLoss("drop");
          return { durable, kept };
        }),
      ),
    );
    for (const [i, lsns] of batches.entries()) {
      const { durable, kept } = acks[i]!;
      expect(durable, `append ${i}`).toBeGreaterThanOrEqual(lsns.at(-1)!);
      if (i > 0) expect(durable, `append ${i}`).toBeGreaterThanOrEqual(acks[i - 1]!.durable);
      const survived = await readBack(kept);
      expect(survived.slice(0, lsns.at(-1)!), `append ${i}: its records survive a power loss at its ack`).toEqual(range(1, lsns.at(-1)!));
    }
    // Grouped: fewer syncs than appends, yet every record on disk once, under its own LSN, in order.
    const syncs = layer.trace.slice(before).filter((op) => op.startsWith("datasync")).length;
    expect(syncs).toBeLessThan(batches.length);
    expect(writer.segmentList.length).toBeGreaterThan(2);
    expect(await readBack(layer)).toEqual(range(1, last));
    const reopened = await open(layer.afterProcessCrash(), { segmentBytes: 600 });
    expect(reopened.writer.durableLsn).toBe(last);
  });

  it("cuts segments as they fill and keeps LSNs contiguous across them", async () => {
    const layer = new MemoryFileLayer();
    const { writer } = await open(layer, { segmentBytes: 400 });
    for (let lsn = 1; lsn <= 40; lsn++) await writer.append([record(lsn)]);
    const segments = writer.segmentList;
    expect(segments.length).toBeGreaterThan(3);
    segments.forEach((s, i) => {
      if (i > 0) expect(s.firstLsn).toBe(segments[i - 1]!.lastLsn + 1);
      expect(s.bytes).toBeLessThanOrEqual(400);
    });
    expect(await readBack(layer)).toEqual(range(1, 40));
  });

  it("uses fsync in fsync mode and no sync at all in none mode", async () => {
    const fsyncLayer = new MemoryFileLayer();
    const fsyncWal = await open(fsyncLayer, { syncMode: "fsync" });
    await fsyncWal.writer.append(records(1, 2));
    expect(fsyncLayer.trace.filter((t) => t.startsWith("sync segment"))).not.toHaveLength(0);
    expect(fsyncLayer.trace.filter((t) => t.startsWith("datasync"))).toHaveLength(0);

    const noneLayer = new MemoryFileLayer();
    const noneWal = await open(noneLayer, { syncMode: "none" });
    const before = noneLayer.trace.length;
    expect(await noneWal.writer.append(records(1, 5))).toBe(5);
    expect(noneLayer.trace.slice(before).filter((t) => /sync/.test(t))).toEqual([]);
  });
});

describe("WAL writer: LSN checks on (re)connect (catalog 12)", () => {
  it("acknowledges an identical re-send of durable LSNs again", async () => {
    const { writer } = await open(new MemoryFileLayer());
    await writer.append(records(1, 5));
    expect(await writer.append(records(3, 5))).toBe(5);
    // A re-sent prefix followed by new records is fine too.
    expect(await writer.append(records(4, 7))).toBe(7);
  });

  it("refuses a gap and queues nothing from the refused call", async () => {
    const layer = new MemoryFileLayer();
    const { writer } = await open(layer);
    await writer.append(records(1, 3));
    const error = await writer.append([record(4), record(6)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LsnSequenceError);
    expect((error as LsnSequenceError).expectedLsn).toBe(5);
    expect(writer.lastAcceptedLsn).toBe(3);
    expect(await writer.append([record(4)])).toBe(4);
    expect(await readBack(layer)).toEqual([1, 2, 3, 4]);
  });

  it("refuses a re-send whose content differs from the durable record", async () => {
    const { writer } = await open(new MemoryFileLayer());
    await writer.append(records(1, 3));
    const forged = { lsn: 2, opType: 10, payload: Buffer.from("something else") };
    await expect(writer.append([forged])).rejects.toThrow(/differs/);
    await expect(writer.append([{ ...record(2), opType: 11 }])).rejects.toBeInstanceOf(LsnSequenceError);
  });
});

describe("WAL writer: LSN refusals are typed", () => {
  it("a gap is an LsnGapError and a differing re-send an LsnConflictError, each with the expected and the sent LSN", async () => {
    const { writer } = await open(new MemoryFileLayer());
    await writer.append(records(1, 3));
    const gap = await writer.append([record(5)]).catch((e: unknown) => e);
    expect(gap).toBeInstanceOf(LsnGapError);
    expect(gap).toMatchObject({ expectedLsn: 4, gotLsn: 5 });
    const forged = { lsn: 2, opType: 10, payload: Buffer.from("something else") };
    const conflict = await writer.append([forged]).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(LsnConflictError);
    expect(conflict).toMatchObject({ expectedLsn: 4, gotLsn: 2 });
  });
});

describe("WAL writer: size cap", () => {
  it("asks for a checkpoint near the cap, refuses at it, and accepts again once segments are freed", async () => {
    const layer = new MemoryFileLayer();
    const { writer } = await open(layer, { segmentBytes: 300, maxSegments: 4 });
    let lsn = 0;
    let refused: unknown;
    while (refused === undefined && lsn < 1000) {
      try {
        await writer.append([record(lsn + 1)]);
        lsn += 1;
      } catch (error) {
        refused = error;
      }
    }
    expect(refused).toBeInstanceOf(WalFullError);
    expect(writer.checkpointRequested).toBe(true);
    expect(writer.segmentList).toHaveLength(4);
    expect(writer.durableLsn).toBe(lsn);
    // Nothing acknowledged was dropped.
    expect(await readBack(layer)).toEqual(range(1, lsn));

    const deleted = await writer.deleteSegmentsThrough(writer.segmentList[1]!.lastLsn);
    expect(deleted).toHaveLength(2);
    expect(await writer.append([record(lsn + 1)])).toBe(lsn + 1);
  });

  it("never deletes the active segment", async () => {
    const { writer } = await open(new MemoryFileLayer());
    await writer.append(records(1, 3));
    expect(await writer.deleteSegmentsThrough(100)).toEqual([]);
    expect(writer.segmentList).toHaveLength(1);
  });
});

describe("WAL writer: poisoned on write or sync errors (catalog 10)", () => {
  it("stops acknowledging after EIO on fdatasync and never retries the sync", async () => {
    const layer = new MemoryFileLayer();
    const { writer } = await open(layer);
    await writer.append(records(1, 2));
    const poisoned: string[] = [];
    writer.onPoisoned((e) => poisoned.push(e.reason));
    layer.inject("datasync", "EIO");
    const syncsBefore = layer.trace.filter((t) => t.startsWith("datasync")).length;
    await expect(writer.append([record(3)])).rejects.toBeInstanceOf(WalPoisonedError);
    await expect(writer.append([record(4)])).rejects.toThrow(/poisoned: EIO/);
    expect(poisoned).toEqual([expect.stringContaining("EIO")]);
    expect(writer.durableLsn).toBe(2);
    // The failed sync was attempted once and never again.
    expect(layer.trace.filter((t) => t.startsWith("datasync")).length).toBe(syncsBefore + 1);
  });

  it("reports ENOSPC on append and loses nothing acknowledged", async () => {
    const layer = new MemoryFileLayer();
    const { writer } = await open(layer);
    await writer.append(records(1, 5));
    layer.inject("writev", "ENOSPC");
    const error = (await writer.append([record(6)]).catch((e: unknown) => e)) as WalPoisonedError;
    expect(error).toBeInstanceOf(WalPoisonedError);
    expect(error.reason).toMatch(/^ENOSPC/);
    const disk = layer.afterPowerLoss("drop");
    const after = await open(disk);
    expect(after.writer.durableLsn).toBe(5);
    expect(await readBack(disk)).toEqual(range(1, 5));
  });

  it("rejects every waiter when a sync fails mid-group", async () => {
    const layer = new MemoryFileLayer();
    const { writer } = await open(layer);
    layer.inject("datasync", "EIO");
    const results = await Promise.allSettled(range(1, 10).map((lsn) => writer.append([record(lsn)])));
    expect(results.every((r) => r.status === "rejected")).toBe(true);
  });
});
