import { describe, expect, it } from "vitest";
import { ChunkedScanner, encodeRecord, scanRecords, SEGMENT_HEADER_BYTES, type ScannedRecord } from "../src/index.js";

const SALT = 0x5eed;

/** A segment body (header bytes left zero) with records 1..n of varied sizes. */
function segmentBytes(n: number): Buffer {
  const frames = Array.from({ length: n }, (_, i) => encodeRecord({ lsn: i + 1, opType: 3, payload: Buffer.alloc(10 + ((i * 37) % 90), i + 1) }, SALT));
  return Buffer.concat([Buffer.alloc(SEGMENT_HEADER_BYTES), ...frames]);
}

function inChunks(bytes: Buffer, size: number): { records: ScannedRecord[]; scanner: ChunkedScanner } {
  const scanner = new ChunkedScanner(SALT, 1, SEGMENT_HEADER_BYTES);
  const records: ScannedRecord[] = [];
  for (let at = SEGMENT_HEADER_BYTES; at < bytes.length; at += size) records.push(...scanner.push(bytes.subarray(at, at + size)));
  return { records, scanner };
}

const shape = (r: ScannedRecord) => ({ lsn: r.lsn, opType: r.opType, offset: r.offset, length: r.length, payload: Buffer.from(r.payload).toString("hex") });

describe("ChunkedScanner", () => {
  it("decodes the same records as one scan of the whole segment, wherever the chunks are cut", () => {
    const bytes = segmentBytes(40);
    const whole: ScannedRecord[] = [];
    scanRecords(bytes, { salt: SALT, firstLsn: 1, offset: SEGMENT_HEADER_BYTES }, (r) => whole.push(r));
    for (const size of [1, 2, 7, 27, 28, 29, 64, 100, 1000, bytes.length]) {
      const { records, scanner } = inChunks(bytes, size);
      expect(records.map(shape), `chunks of ${size}`).toEqual(whole.map(shape));
      expect(scanner.end()).toEqual({ kind: "end" });
      expect(scanner.lastLsn).toBe(40);
    }
  });

  it("copies only the frame a chunk boundary cut, not the chunk after it", () => {
    const bytes = segmentBytes(40);
    const scanner = new ChunkedScanner(SALT, 1, SEGMENT_HEADER_BYTES);
    const middle = SEGMENT_HEADER_BYTES + 1000;
    // Own buffers, not slices of Node's shared pool, so `.buffer` tells the chunks apart.
    const own = (part: Buffer) => Uint8Array.prototype.slice.call(part) as Uint8Array;
    const first = scanner.push(Buffer.from(own(bytes.subarray(SEGMENT_HEADER_BYTES, middle)).buffer));
    const second = Buffer.from(own(bytes.subarray(middle)).buffer);
    const records = scanner.push(second);
    expect(first.length + records.length).toBe(40);
    // The frame cut at `middle` is joined in a copy; every later payload is a view into the chunk itself.
    expect(records[0]!.payload.buffer).not.toBe(second.buffer);
    for (const record of records.slice(1)) expect(record.payload.buffer).toBe(second.buffer);
  });

  it("stops for good at a frame whose checksum fails, and says why", () => {
    const bytes = segmentBytes(40);
    const good: ScannedRecord[] = [];
    scanRecords(bytes, { salt: SALT, firstLsn: 1, offset: SEGMENT_HEADER_BYTES }, (r) => good.push(r));
    const flipAt = good[20]!.offset + 30; // a payload bit of LSN 21
    bytes[flipAt] = bytes[flipAt]! ^ 0x01;
    for (const size of [5, 64, 4096]) {
      const { records, scanner } = inChunks(bytes, size);
      expect(records.map((r) => r.lsn)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(scanner.end()).toEqual({ kind: "invalid", reason: "record checksum mismatch" });
    }
  });

  it("reports a frame cut off by the end of the bytes as truncated", () => {
    const bytes = segmentBytes(5);
    const { records, scanner } = inChunks(bytes.subarray(0, bytes.length - 3), 16);
    expect(records.map((r) => r.lsn)).toEqual([1, 2, 3, 4]);
    expect(scanner.end()).toMatchObject({ kind: "invalid", reason: expect.stringContaining("runs past the end") });
  });
});
