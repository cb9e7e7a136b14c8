import { randomInt } from "node:crypto";
import { crc32c } from "@node-rs/crc32";
import { afterAll, describe, expect, it } from "vitest";
import {
  CHECKPOINT_HEADER_BYTES,
  CHECKPOINT_LEGACY_FORMAT_VERSION,
  decodeCheckpointHeader,
  encodeCheckpointPrefix,
  parseCheckpointFile,
  decodeSegmentHeader,
  encodeCheckpointHeader,
  encodeRecord,
  encodeSegmentHeader,
  findValidFrameAfter,
  MAX_PAYLOAD_BYTES,
  RECORD_HEADER_BYTES,
  RECORD_MAGIC,
  RECORD_FORMAT_VERSION,
  scanRecords,
  SEGMENT_HEADER_BYTES,
  WalFormatError,
  type ScannedRecord,
  type ScanOptions,
  type ScanResult,
} from "../src/index.js";
import { mulberry32 } from "@t4dm/testkit";

/*
 * DURABILITY.md: random and mutated bytes never make the decoder throw
 * anything but its own WalFormatError, nor allocate from a length field.
 * Every run prints its seed; rerun a failure with T4DM_FUZZ_SEED=<seed>.
 */
const SEED = process.env.T4DM_FUZZ_SEED !== undefined ? Number(process.env.T4DM_FUZZ_SEED) : randomInt(2 ** 31);
console.log(`wal-format fuzz seed ${SEED} (rerun with T4DM_FUZZ_SEED=${SEED})`);
const ALLOCATION_LIMIT = MAX_PAYLOAD_BYTES + RECORD_HEADER_BYTES;


class Fuzz {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  u32(): number {
    return this.int(2 ** 32);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

interface Segment {
  bytes: Buffer;
  options: ScanOptions;
  /** Where each record starts, for mutations aimed at a frame. */
  frames: number[];
}

function validSegment(fuzz: Fuzz): Segment {
  const salt = fuzz.u32();
  const firstLsn = 1 + fuzz.int(2 ** 40);
  const parts = [encodeSegmentHeader({ salt, index: 1 + fuzz.int(99_999_999), firstLsn })];
  const frames: number[] = [];
  let offset = SEGMENT_HEADER_BYTES;
  const count = fuzz.int(9);
  for (let i = 0; i < count; i++) {
    const frame = encodeRecord({ lsn: firstLsn + i, opType: fuzz.int(2 ** 16), payload: fuzz.bytes(fuzz.chance(0.2) ? 0 : fuzz.int(300)) }, salt);
    frames.push(offset);
    offset += frame.length;
    parts.push(frame);
  }
  return { bytes: Buffer.concat(parts), options: { salt, firstLsn, offset: SEGMENT_HEADER_BYTES }, frames };
}

const MUTATIONS = ["bitFlip", "overwrite", "truncate", "insert", "hugeLength", "zeroRange", "resignedLsn"] as const;
type Mutation = (typeof MUTATIONS)[number];

/** Applies one mutation; `resignedLsn` rewrites an LSN and fixes the CRC, so only the LSN check can catch it. */
function mutate(fuzz: Fuzz, segment: Segment, kind: Mutation): Buffer {
  const bytes = Buffer.from(segment.bytes);
  const at = fuzz.int(bytes.length);
  // A second mutation may run on bytes the first one shortened; aim only at frames still whole.
  const frames = segment.frames.filter((offset) => offset + RECORD_HEADER_BYTES <= bytes.length);
  const frame = frames.length > 0 ? fuzz.pick(frames) : undefined;
  switch (kind) {
    case "bitFlip":
      bytes[at]! ^= 1 << fuzz.int(8);
      return bytes;
    case "overwrite":
      fuzz.bytes(1 + fuzz.int(16)).copy(bytes, at);
      return bytes;
    case "truncate":
      return bytes.subarray(0, at);
    case "insert":
      return Buffer.concat([bytes.subarray(0, at), fuzz.bytes(1 + fuzz.int(40)), bytes.subarray(at)]);
    case "zeroRange":
      bytes.fill(0, at, Math.min(bytes.length, at + 1 + fuzz.int(512)));
      return bytes;
    case "hugeLength": {
      if (frame === undefined) return bytes;
      const remaining = bytes.length - frame - RECORD_HEADER_BYTES;
      bytes.writeUInt32LE(fuzz.pick([0xffffffff, MAX_PAYLOAD_BYTES + 1, remaining + 1, MAX_PAYLOAD_BYTES, fuzz.u32()]) >>> 0, frame + 4);
      return bytes;
    }
    case "resignedLsn": {
      if (frame === undefined) return bytes;
      const lsn = bytes.readBigUInt64LE(frame + 8);
      bytes.writeBigUInt64LE(fuzz.pick([lsn - 1n, lsn + 1n, 0n, 2n ** 64n - 1n]) & (2n ** 64n - 1n), frame + 8);
      const end = frame + RECORD_HEADER_BYTES + bytes.readUInt32LE(frame + 4);
      bytes.writeUInt32LE(crc32c(bytes.subarray(frame + RECORD_HEADER_BYTES, end), crc32c(bytes.subarray(frame, frame + 24))), frame + 24);
      return bytes;
    }
  }
}

interface Allocations {
  calls: number;
  largest: number;
}

/** Runs `fn` with Buffer's allocators wrapped, recording every size asked for. */
function trackAllocations<T>(fn: () => T): { value: T } & Allocations {
  const originals = { alloc: Buffer.alloc, allocUnsafe: Buffer.allocUnsafe, allocUnsafeSlow: Buffer.allocUnsafeSlow };
  const seen: Allocations = { calls: 0, largest: 0 };
  const wrap =
    <F extends (size: number, ...rest: never[]) => Buffer>(original: F) =>
    (size: number, ...rest: never[]): Buffer => {
      seen.calls += 1;
      seen.largest = Math.max(seen.largest, size);
      return original.call(Buffer, size, ...rest);
    };
  const target = Buffer as unknown as Record<keyof typeof originals, unknown>;
  try {
    target.alloc = wrap(originals.alloc);
    target.allocUnsafe = wrap(originals.allocUnsafe);
    target.allocUnsafeSlow = wrap(originals.allocUnsafeSlow);
    return { value: fn(), ...seen };
  } finally {
    Object.assign(target, originals);
  }
}

/** What a correct scan must satisfy, checked from the bytes alone; empty when it does. */
function scanViolations(bytes: Buffer, options: ScanOptions, records: ScannedRecord[], result: ScanResult): string[] {
  const problems: string[] = [];
  let expectedOffset = Math.min(options.offset, bytes.length);
  records.forEach((record, i) => {
    const where = `record ${i} at ${record.offset}`;
    if (record.offset !== expectedOffset) problems.push(`${where}: not contiguous (expected offset ${expectedOffset})`);
    if (record.lsn !== options.firstLsn + i) problems.push(`${where}: LSN ${record.lsn}, expected ${options.firstLsn + i}`);
    if (record.length !== RECORD_HEADER_BYTES + record.payload.length) problems.push(`${where}: length ${record.length} disagrees with its payload`);
    if (record.payload.length > MAX_PAYLOAD_BYTES) problems.push(`${where}: payload over the limit`);
    const end = record.offset + record.length;
    if (record.offset < 0 || end > bytes.length) {
      problems.push(`${where}: lies outside the buffer`);
      return;
    }
    if (record.payload.buffer !== bytes.buffer || record.payload.byteOffset !== bytes.byteOffset + record.offset + RECORD_HEADER_BYTES) {
      problems.push(`${where}: payload is not a view into the scanned bytes`);
    }
    const crc = crc32c(bytes.subarray(record.offset + RECORD_HEADER_BYTES, end), crc32c(bytes.subarray(record.offset, record.offset + 24)));
    if (crc !== bytes.readUInt32LE(record.offset + 24)) problems.push(`${where}: CRC does not hold`);
    if (bytes.readUInt32LE(record.offset + 20) !== options.salt >>> 0) problems.push(`${where}: salt differs from the segment's`);
    if (bytes.readUInt16LE(record.offset) !== RECORD_MAGIC) problems.push(`${where}: bad magic`);
    expectedOffset = end;
  });
  if (result.recordCount !== records.length) problems.push(`recordCount ${result.recordCount}, saw ${records.length}`);
  if (result.validEnd !== expectedOffset) problems.push(`validEnd ${result.validEnd}, records end at ${expectedOffset}`);
  if (result.lastLsn !== options.firstLsn - 1 + records.length) problems.push(`lastLsn ${result.lastLsn} after ${records.length} records`);
  const shorterThanHeader = bytes.length < options.offset;
  if (shorterThanHeader && result.stop.kind !== "invalid") problems.push(`a file shorter than its header must stop invalid, got ${result.stop.kind}`);
  if (!shorterThanHeader && (result.stop.kind === "end") !== (result.validEnd === bytes.length)) problems.push(`stop ${result.stop.kind} with validEnd ${result.validEnd} of ${bytes.length}`);
  if (result.stop.kind === "zeros" && bytes.subarray(result.validEnd).some((b) => b !== 0)) problems.push("stop zeros but non-zero bytes follow");
  return problems;
}

interface Tally {
  end: number;
  zeros: number;
  invalid: number;
  records: number;
  reasons: Set<string>;
}

const tally: Tally = { end: 0, zeros: 0, invalid: 0, records: 0, reasons: new Set() };
afterAll(() => console.log(`wal-format fuzz seed ${SEED}: stops ${JSON.stringify({ ...tally, reasons: [...tally.reasons] })}`));

/** Scans once under the allocation tracker and asserts every invariant; `label` makes a failure reproducible. */
function checkScan(bytes: Buffer, options: ScanOptions, label: string): ScanResult {
  const records: ScannedRecord[] = [];
  let outcome: { value: ScanResult } & Allocations;
  try {
    outcome = trackAllocations(() => scanRecords(bytes, options, (record) => records.push(record)));
  } catch (error) {
    expect.fail(`${label}: scanRecords threw ${String(error)}`);
  }
  const result = outcome.value;
  expect(outcome.calls, `${label}: scanRecords allocated (largest ${outcome.largest} bytes)`).toBe(0);
  expect(scanViolations(bytes, options, records, result), label).toEqual([]);

  const after = trackAllocations(() => findValidFrameAfter(bytes, result.validEnd + 1, options.salt, result.lastLsn));
  expect(after.calls, `${label}: findValidFrameAfter allocated`).toBe(0);
  if (after.value !== undefined) {
    expect(after.value.offset, label).toBeGreaterThan(result.validEnd);
    expect(after.value.offset + RECORD_HEADER_BYTES, label).toBeLessThanOrEqual(bytes.length);
    expect(after.value.lsn, label).toBeGreaterThan(result.lastLsn);
  }

  tally[result.stop.kind] += 1;
  tally.records += records.length;
  if (result.stop.kind === "invalid") tally.reasons.add(result.stop.reason.replace(/\d+/g, "N"));
  return result;
}

/** Header decoders may throw only their own error, and allocate no more than a record. */
function checkHeaderDecoder(decode: (bytes: Buffer) => unknown, bytes: Buffer, label: string): "ok" | "rejected" {
  let outcome: "ok" | "rejected" = "ok";
  const allocations = trackAllocations(() => {
    try {
      decode(bytes);
    } catch (error) {
      if (!(error instanceof WalFormatError)) throw new Error(`${label}: threw ${String(error)}`, { cause: error });
      outcome = "rejected";
    }
  });
  expect(allocations.largest, label).toBeLessThanOrEqual(ALLOCATION_LIMIT);
  return outcome;
}

describe(`WAL decoder fuzz (seed ${SEED})`, () => {
  it("survives pure random bytes, with and without a valid segment header in front", () => {
    const fuzz = new Fuzz(SEED);
    for (let i = 0; i < 3000; i++) {
      const label = `seed ${SEED} random #${i}`;
      const noise = fuzz.bytes(fuzz.chance(0.05) ? fuzz.int(8192) : fuzz.int(300));
      const salt = fuzz.u32();
      if (fuzz.chance(0.5)) {
        checkScan(noise, { salt, firstLsn: fuzz.int(2 ** 40), offset: 0 }, label);
        checkHeaderDecoder(decodeSegmentHeader, noise, label);
        checkHeaderDecoder(decodeCheckpointHeader, noise, label);
      } else {
        const firstLsn = 1 + fuzz.int(2 ** 40);
        const bytes = Buffer.concat([encodeSegmentHeader({ salt, index: 1, firstLsn }), noise]);
        expect(decodeSegmentHeader(bytes).salt, label).toBe(salt);
        checkScan(bytes, { salt, firstLsn, offset: SEGMENT_HEADER_BYTES }, label);
      }
    }
  });

  it("survives plausible frames: right magic, version and salt, random length and body", () => {
    const fuzz = new Fuzz(SEED ^ 0x5eed);
    let pastEnd = 0;
    for (let i = 0; i < 2000; i++) {
      const salt = fuzz.u32();
      const frame = fuzz.bytes(RECORD_HEADER_BYTES + fuzz.int(200));
      frame.writeUInt16LE(RECORD_MAGIC, 0);
      frame.writeUInt8(RECORD_FORMAT_VERSION, 2);
      frame.writeUInt32LE(fuzz.pick([0xffffffff, MAX_PAYLOAD_BYTES + 1, frame.length - RECORD_HEADER_BYTES + 1, fuzz.int(400), fuzz.u32()]) >>> 0, 4);
      frame.writeUInt32LE(salt, 20);
      const result = checkScan(frame, { salt, firstLsn: 1, offset: 0 }, `seed ${SEED} plausible #${i}`);
      if (result.stop.kind === "invalid" && /past the end|exceeds/.test(result.stop.reason)) pastEnd += 1;
    }
    // The length guards were really reached, so the huge lengths above were judged, not allocated.
    expect(pastEnd).toBeGreaterThan(500);
  });

  it("survives valid segments mutated by flips, overwrites, truncations, insertions, huge lengths, zeroing and re-signed LSNs", () => {
    const fuzz = new Fuzz(SEED ^ 0xabcdef);
    const byKind = new Map<Mutation, { invalid: number; total: number }>(MUTATIONS.map((m) => [m, { invalid: 0, total: 0 }]));
    for (let i = 0; i < 5000; i++) {
      const segment = validSegment(fuzz);
      const kind = fuzz.pick(MUTATIONS);
      let bytes = mutate(fuzz, segment, kind);
      if (fuzz.chance(0.3)) bytes = mutate(fuzz, { ...segment, bytes }, fuzz.pick(MUTATIONS));
      const label = `seed ${SEED} mutated #${i} (${kind})`;
      const headerOk = checkHeaderDecoder(decodeSegmentHeader, bytes, label) === "ok";
      if (headerOk) expect(decodeSegmentHeader(bytes).firstLsn, label).toBeGreaterThan(0);
      const result = checkScan(bytes, segment.options, label);
      const stats = byKind.get(kind)!;
      stats.total += 1;
      if (result.stop.kind === "invalid") stats.invalid += 1;
    }
    // Sanity: the mutations really break frames, so the invariants above were tested on bad input.
    for (const kind of ["bitFlip", "hugeLength", "insert", "resignedLsn"] as const) {
      const stats = byKind.get(kind)!;
      expect(stats.invalid, `${kind}: ${JSON.stringify(stats)}`).toBeGreaterThan(stats.total / 3);
    }
    expect(tally.reasons).toContain("LSN N where N was expected");
    expect(tally.reasons).toContain("record checksum mismatch");
  });

  it("rejects mutated checkpoint headers only with WalFormatError", () => {
    const fuzz = new Fuzz(SEED ^ 0xc4ec);
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const header = encodeCheckpointHeader({
        lsn: fuzz.int(2 ** 40),
        stateFormatVersion: fuzz.int(2 ** 16),
        compressedBytes: fuzz.int(2 ** 40),
        bodyBytes: fuzz.int(2 ** 40),
        sha256: fuzz.bytes(32),
        stateHash: fuzz.bytes(fuzz.int(29)),
      });
      const bytes = mutate(fuzz, { bytes: Buffer.concat([header, fuzz.bytes(fuzz.int(64))]), options: { salt: 0, firstLsn: 1, offset: 0 }, frames: [] }, fuzz.pick(["bitFlip", "overwrite", "truncate", "insert"] as const));
      if (checkHeaderDecoder(decodeCheckpointHeader, bytes, `seed ${SEED} checkpoint #${i}`) === "rejected") rejected += 1;
    }
    expect(rejected).toBeGreaterThan(1000);
    expect(() => decodeCheckpointHeader(Buffer.alloc(CHECKPOINT_HEADER_BYTES))).toThrow(WalFormatError);
  });

  it("rejects mutated checkpoint files of either layout only with WalFormatError", () => {
    const fuzz = new Fuzz(SEED ^ 0xf11e);
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const hashed = fuzz.bytes(fuzz.int(64));
      const header = {
        lsn: fuzz.int(2 ** 40),
        stateFormatVersion: fuzz.int(2 ** 16),
        compressedBytes: fuzz.chance(0.5) ? hashed.length : fuzz.int(2 ** 40),
        bodyBytes: fuzz.int(2 ** 40),
        sha256: fuzz.bytes(32),
        stateHash: fuzz.bytes(fuzz.int(29)),
      };
      const prefix = fuzz.chance(0.5) ? encodeCheckpointPrefix(header) : encodeCheckpointHeader(header, CHECKPOINT_LEGACY_FORMAT_VERSION);
      const file = { bytes: Buffer.concat([prefix, hashed]), options: { salt: 0, firstLsn: 1, offset: 0 }, frames: [] };
      const bytes = mutate(fuzz, file, fuzz.pick(["bitFlip", "overwrite", "truncate", "insert"] as const));
      if (checkHeaderDecoder(parseCheckpointFile, bytes, `seed ${SEED} checkpoint file #${i}`) === "rejected") rejected += 1;
    }
    expect(rejected).toBeGreaterThan(1000);
  });

  it("has checks that can fail", () => {
    const segment = validSegment(new Fuzz(SEED));
    const records: ScannedRecord[] = [];
    const result = scanRecords(segment.bytes, segment.options, (r) => records.push(r));
    expect(scanViolations(segment.bytes, segment.options, records, result)).toEqual([]);
    // A scanner that reported a stale frame, or stopped early, would be caught.
    const fake = { ...result, validEnd: result.validEnd + 1 };
    expect(scanViolations(segment.bytes, segment.options, records, fake).length).toBeGreaterThan(0);
    const frame = encodeRecord({ lsn: 1, opType: 1, payload: Buffer.from("x") }, 7);
    frame[RECORD_HEADER_BYTES]! ^= 1;
    const forged: ScannedRecord = { lsn: 1, opType: 1, payload: frame.subarray(RECORD_HEADER_BYTES), offset: 0, length: frame.length };
    expect(scanViolations(frame, { salt: 7, firstLsn: 1, offset: 0 }, [forged], { validEnd: frame.length, lastLsn: 1, recordCount: 1, stop: { kind: "end" } })).toEqual([
      "record 0 at 0: CRC does not hold",
    ]);
    expect(trackAllocations(() => Buffer.allocUnsafe(123))).toMatchObject({ calls: 1, largest: 123 });
  });
});
