import path from "node:path";
import { describe, expect, it } from "vitest";
import { encodeRecord, encodeSegmentHeader, RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES, segmentFileName } from "@t4dm/wal-format";
import { WalCorruptError } from "../src/wal/wal-errors.js";
import { MemoryFileLayer, SimulatedCrash, type UnsyncedFate } from "./support/memory-file-layer.js";
import { DATA_DIR, open, payloadFor, range, readBack, record, records, WAL_DIR } from "./support/wal-harness.js";

const SEGMENT_1 = path.join(WAL_DIR, segmentFileName(1));

/** A WAL of `count` records in one segment, written and cleanly closed. */
async function walWith(count: number, options: { segmentBytes?: number } = {}): Promise<MemoryFileLayer> {
  const layer = new MemoryFileLayer();
  const { writer } = await open(layer, options);
  await writer.append(records(1, count));
  await writer.close();
  return layer.afterProcessCrash();
}

/** Frame offsets of every record in segment 1. */
function frameOffsets(count: number): number[] {
  const offsets: number[] = [];
  let at = SEGMENT_HEADER_BYTES;
  for (let lsn = 1; lsn <= count; lsn++) {
    offsets.push(at);
    at += RECORD_HEADER_BYTES + payloadFor(lsn).length;
  }
  offsets.push(at);
  return offsets;
}

describe("recovery of a torn tail", () => {
  it("catalog 1: truncating the last segment at every byte of its last records yields exactly the prefix, then appends and reopens cleanly", async () => {
    const count = 6;
    const pristine = await walWith(count);
    const full = pristine.peek(SEGMENT_1);
    const offsets = frameOffsets(count);
    for (let cut = offsets[count - 3]!; cut < full.length; cut++) {
      const layer = pristine.afterProcessCrash();
      layer.poke(SEGMENT_1, full.subarray(0, cut));
      const whole = offsets.filter((o, i) => i > 0 && o <= cut).length;
      const { writer, repair } = await open(layer);
      expect(writer.durableLsn, `cut at ${cut}`).toBe(whole);
      const atBoundary = offsets.includes(cut);
      expect(repair === undefined, `cut at ${cut}`).toBe(atBoundary);
      await writer.append([record(whole + 1)]);
      await writer.close();
      const reopened = await open(layer.afterProcessCrash());
      expect(reopened.repair).toBeUndefined();
      expect(await readBack(layer)).toEqual(range(1, whole + 1));
    }
  });

  it("catalog 2: a zeroed sector inside or across the last record, with garbage after it, is cut; later appends see no checksum errors", async () => {
    const count = 8;
    const pristine = await walWith(count, {});
    const full = pristine.peek(SEGMENT_1);
    const offsets = frameOffsets(count);
    const lastStart = offsets[count - 1]!;
    for (const zeroAt of [lastStart, lastStart + 10, lastStart - 5]) {
      const layer = pristine.afterProcessCrash();
      const damaged = Buffer.concat([full, Buffer.from("garbage-after-the-zeros!")]);
      damaged.fill(0, zeroAt, Math.min(zeroAt + 512, full.length));
      layer.poke(SEGMENT_1, damaged);
      const { writer, repair } = await open(layer);
      const survivors = offsets.filter((o, i) => i > 0 && o <= zeroAt).length;
      expect(writer.durableLsn).toBe(survivors);
      expect(repair?.keepBrokenBytes).toBe(true);
      const broken = (await layer.readdir(WAL_DIR)).filter((n) => n.endsWith(".broken"));
      expect(broken).toHaveLength(1);
      expect(layer.peek(path.join(WAL_DIR, broken[0]!))).toEqual(damaged.subarray(repair!.truncateAt));
      await writer.append(records(survivors + 1, survivors + 4));
      await writer.close();
      const again = await open(layer.afterProcessCrash());
      expect(again.repair).toBeUndefined();
      expect(await readBack(layer)).toEqual(range(1, survivors + 4));
    }
  });

  it("catalog 3: a length field past the end of the file or over the record limit is a torn tail, with no huge allocation", async () => {
    const count = 5;
    const pristine = await walWith(count);
    const offsets = frameOffsets(count);
    for (const length of [0xffffffff, 17 * 1024 * 1024, 5000]) {
      const layer = pristine.afterProcessCrash();
      const bytes = layer.peek(SEGMENT_1);
      bytes.writeUInt32LE(length, offsets[count - 1]! + 4);
      layer.poke(SEGMENT_1, bytes);
      const allocations: number[] = [];
      const alloc = Buffer.alloc;
      const allocUnsafe = Buffer.allocUnsafe;
      Buffer.alloc = ((size: number, ...rest: never[]) => (allocations.push(size), alloc(size, ...rest))) as typeof Buffer.alloc;
      Buffer.allocUnsafe = ((size: number) => (allocations.push(size), allocUnsafe(size))) as typeof Buffer.allocUnsafe;
      try {
        const { writer, repair } = await open(layer);
        expect(writer.durableLsn).toBe(count - 1);
        expect(repair?.reason).toMatch(/record length/);
      } finally {
        Buffer.alloc = alloc;
        Buffer.allocUnsafe = allocUnsafe;
      }
      expect(Math.max(0, ...allocations)).toBeLessThan(1024 * 1024);
    }
  });

  it("catalog 11: stale bytes of an older file with the same name never replay", async () => {
    // An old segment 1 (salt 7) held LSNs 1..10; a new segment 1 (salt 9) was
    // written over its start with LSNs 1..4 and the old tail is still there.
    const layer = new MemoryFileLayer();
    await layer.mkdir(WAL_DIR);
    const old = Buffer.concat([encodeSegmentHeader({ salt: 7, index: 1, firstLsn: 1 }), ...range(1, 10).map((lsn) => encodeRecord(record(lsn), 7))]);
    const fresh = Buffer.concat([encodeSegmentHeader({ salt: 9, index: 1, firstLsn: 1 }), ...range(1, 4).map((lsn) => encodeRecord(record(lsn), 9))]);
    const reused = Buffer.from(old);
    fresh.copy(reused, 0);
    const handle = await layer.open(SEGMENT_1, "create");
    await handle.writev([reused], 0);
    await handle.sync();
    await layer.syncDir(WAL_DIR);
    const { writer, repair } = await open(layer);
    expect(writer.durableLsn).toBe(4);
    expect(repair?.reason).toMatch(/salt|checksum|LSN/);
    expect(await readBack(layer)).toEqual([1, 2, 3, 4]);
  });
});

describe("corruption that recovery must refuse (catalog 4)", () => {
  async function expectCorrupt(layer: MemoryFileLayer, options: { newestCheckpointLsn?: number; segmentBytes?: number }, pattern: RegExp) {
    const error = await open(layer, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalCorruptError);
    expect((error as Error).message).toMatch(pattern);
    const quarantined = await layer.readdir(path.join(DATA_DIR, "quarantine"));
    expect(quarantined).toHaveLength(1);
    expect(quarantined[0]).toMatch(new RegExp(`^${(error as WalCorruptError).fileName}\\.`));
    return error as WalCorruptError;
  }

  it("a bit flip in a sealed segment stops start-up and names the file and offset", async () => {
    const layer = await walWith(60, { segmentBytes: 500 });
    const bytes = layer.peek(SEGMENT_1);
    bytes[SEGMENT_HEADER_BYTES + 40] = bytes[SEGMENT_HEADER_BYTES + 40]! ^ 0x10;
    layer.poke(SEGMENT_1, bytes);
    const error = await expectCorrupt(layer, { segmentBytes: 500 }, /segment_00000001\.wal at offset \d+ \(LSN \d+\): sealed segment/);
    expect(error.offset).toBeGreaterThanOrEqual(SEGMENT_HEADER_BYTES);
  });

  it("a bit flip in the newest segment at or below the checkpoint LSN stops start-up", async () => {
    const layer = await walWith(10);
    const offsets = frameOffsets(10);
    const bytes = layer.peek(SEGMENT_1);
    bytes[offsets[9]! + 30] = bytes[offsets[9]! + 30]! ^ 0x01; // inside record 10, the last one
    layer.poke(SEGMENT_1, bytes);
    await expectCorrupt(layer, { newestCheckpointLsn: 10 }, /at or below checkpoint LSN 10/);
  });

  it("a bit flip followed by valid records stops start-up (not a torn tail)", async () => {
    const layer = await walWith(10);
    const offsets = frameOffsets(10);
    const bytes = layer.peek(SEGMENT_1);
    bytes[offsets[4]! + 30] = bytes[offsets[4]! + 30]! ^ 0x01; // record 5 of 10
    layer.poke(SEGMENT_1, bytes);
    await expectCorrupt(layer, {}, /a valid record \(LSN 6\) follows/);
  });

  // Damage to any field of any record but the last, with valid records after it, is
  // corruption: refused, the file left byte for byte as it was, no record cut off.
  const FIELDS: [string, number, number][] = [
    ["magic", 0, 0x01],
    ["version", 2, 0x02],
    ["length (small change)", 4, 0x01],
    ["length (past the end)", 7, 0x40],
    ["LSN", 8, 0x01],
    ["op type", 16, 0x01],
    ["salt", 20, 0x01],
    ["checksum", 24, 0x80],
    ["payload", RECORD_HEADER_BYTES + 3, 0x01],
  ];
  it.each(FIELDS)("a flipped %s byte in any record before the last stops start-up and truncates nothing", async (_, at, mask) => {
    const count = 10;
    const pristine = await walWith(count);
    const offsets = frameOffsets(count);
    for (let victim = 1; victim < count; victim++) {
      const layer = pristine.afterProcessCrash();
      const damaged = layer.peek(SEGMENT_1);
      damaged[offsets[victim - 1]! + at]! ^= mask;
      layer.poke(SEGMENT_1, damaged);
      const where = `record ${victim}`;

      const error = await open(layer).catch((e: unknown) => e);
      expect(error, where).toBeInstanceOf(WalCorruptError);
      expect((error as WalCorruptError).lsn, where).toBe(victim);
      expect((error as Error).message, where).toMatch(/a valid record \(LSN \d+\) follows/);
      expect(layer.peek(SEGMENT_1).equals(damaged), `${where}: the segment is untouched`).toBe(true);
      expect((await layer.readdir(WAL_DIR)).filter((n) => n.endsWith(".broken")), where).toEqual([]);
      const [copy] = await layer.readdir(path.join(DATA_DIR, "quarantine"));
      expect(layer.peek(path.join(DATA_DIR, "quarantine", copy!)).equals(damaged), `${where}: quarantined as found`).toBe(true);
      // Refused again on the next start: nothing was "repaired" in between.
      expect(await open(layer).catch((e: unknown) => e), where).toBeInstanceOf(WalCorruptError);
    }
  });

  it("a missing middle segment stops start-up", async () => {
    const layer = await walWith(60, { segmentBytes: 500 });
    await layer.unlink(path.join(WAL_DIR, segmentFileName(2)));
    const error = await open(layer, { segmentBytes: 500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalCorruptError);
    expect((error as Error).message).toMatch(/segment 2 is missing/);
  });
});

describe("crashes and lost unsynced data", () => {
  const fates: UnsyncedFate[] = ["drop", "prefix", "zeros"];

  /** Runs writes until the simulated crash; returns the highest acknowledged LSN. */
  async function writeUntilCrash(layer: MemoryFileLayer, options: { syncMode: "fdatasync" | "fsync" | "none"; segmentBytes: number }, total: number) {
    const { writer } = await open(layer, options);
    let acked = 0;
    const pending: Promise<void>[] = [];
    for (let lsn = 1; lsn <= total; lsn++) {
      pending.push(
        writer.append([record(lsn)]).then(
          (durable) => void (acked = Math.max(acked, durable)),
          () => undefined,
        ),
      );
      if (lsn % 3 === 0) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    return acked;
  }

  it("catalog 5 and 9: a crash before any step of a segment cut loses and duplicates nothing acknowledged, and temp files are ignored", async () => {
    const options = { syncMode: "fdatasync" as const, segmentBytes: 260 };
    const probe = new MemoryFileLayer();
    await writeUntilCrash(probe, options, 30);
    const totalOps = probe.opCount;
    expect(probe.trace.filter((t) => t.startsWith("rename")).length).toBeGreaterThan(3);
    for (let op = 1; op <= totalOps; op++) {
      const layer = new MemoryFileLayer();
      await layer.mkdir(WAL_DIR);
      layer.crashBeforeOp(op);
      let acked = 0;
      try {
        acked = await writeUntilCrash(layer, options, 30);
      } catch (error) {
        expect(error).toBeInstanceOf(SimulatedCrash);
      }
      for (const disk of [layer.afterProcessCrash(), layer.afterPowerLoss("drop")]) {
        const { writer } = await open(disk, options);
        expect(writer.durableLsn, `crash before op ${op}`).toBeGreaterThanOrEqual(acked);
        expect(await readBack(disk)).toEqual(range(1, writer.durableLsn));
        expect((await disk.readdir(WAL_DIR)).some((n) => n.endsWith(".tmp"))).toBe(false);
      }
    }
  });

  for (const syncMode of ["fdatasync", "fsync"] as const) {
    it(`catalog 8 (${syncMode}): after a power loss every acknowledged LSN survives, whatever happened to unsynced bytes`, async () => {
      for (const fate of fates) {
        for (let crashAt = 5; crashAt < 120; crashAt += 7) {
          const layer = new MemoryFileLayer();
          await layer.mkdir(WAL_DIR);
          layer.crashBeforeOp(crashAt);
          const acked = await writeUntilCrash(layer, { syncMode, segmentBytes: 300 }, 40).catch(() => 0);
          const ackedBeforeCrash = acked;
          let seed = crashAt;
          const disk = layer.afterPowerLoss(fate, () => ((seed = (seed * 16807) % 2147483647) / 2147483647));
          const { writer } = await open(disk, { syncMode, segmentBytes: 300 });
          expect(writer.durableLsn, `${fate}, crash at ${crashAt}`).toBeGreaterThanOrEqual(ackedBeforeCrash);
          expect(await readBack(disk)).toEqual(range(1, writer.durableLsn));
        }
      }
    });
  }

  it("catalog 8 (none): after a power loss the WAL is a gap-free prefix of what was acknowledged", async () => {
    for (const fate of fates) {
      const layer = new MemoryFileLayer();
      const { writer } = await open(layer, { syncMode: "none", segmentBytes: 300 });
      for (let lsn = 1; lsn <= 40; lsn++) await writer.append([record(lsn)]);
      const disk = layer.afterPowerLoss(fate, () => 0.5);
      const reopened = await open(disk, { syncMode: "none", segmentBytes: 300 });
      expect(reopened.writer.durableLsn).toBeLessThanOrEqual(40);
      expect(await readBack(disk)).toEqual(range(1, reopened.writer.durableLsn));
      // The sealed segments were synced at each cut, so at least those survive.
      expect(reopened.writer.durableLsn).toBeGreaterThan(0);
    }
  });
});
