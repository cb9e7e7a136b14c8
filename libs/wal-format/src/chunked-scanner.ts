import { MAX_PAYLOAD_BYTES, RECORD_HEADER_BYTES, RECORD_MAGIC } from "./constants.js";
import { scanRecords, type ScannedRecord, type ScanStop } from "./record-scanner.js";

/**
 * Decodes a segment's records from consecutive chunks of its bytes, so a
 * reader can hand records on while it reads the next chunk instead of
 * reading the whole segment first. Each record is checked exactly as
 * `scanRecords` checks it (magic, length, LSN sequence, salt, CRC-32C). A
 * frame cut by a chunk boundary is carried over and decoded with the next
 * chunk; any other invalid frame stops the scan for good. Pure: the caller
 * reads the bytes.
 */
export class ChunkedScanner {
  private carry: Buffer = Buffer.alloc(0);
  private carryOffset: number;
  private expectedLsn: number;
  private stop: ScanStop | undefined;

  /** `offset`: where the first chunk starts in the segment (just past its header). */
  constructor(
    private readonly salt: number,
    firstLsn: number,
    offset: number,
  ) {
    this.expectedLsn = firstLsn;
    this.carryOffset = offset;
  }

  /** LSN of the last record decoded so far (firstLsn - 1 before any). */
  get lastLsn(): number {
    return this.expectedLsn - 1;
  }

  /**
   * The records that end within the bytes pushed so far and were not
   * returned before, in LSN order. Payloads are views into `chunk` (or into
   * one copy of a carried frame joined with `chunk`); offsets are the
   * segment's. Returns nothing once a frame proved invalid.
   */
  push(chunk: Buffer): ScannedRecord[] {
    if (this.stop) return [];
    const records: ScannedRecord[] = [];
    let rest = chunk;
    if (this.carry.length > 0) {
      // Join only what completes the carried frame: copying the whole chunk would copy the WAL once more.
      const take = Math.min(chunk.length, Math.max(0, frameLength(this.carry, chunk) - this.carry.length));
      this.scan(Buffer.concat([this.carry, chunk.subarray(0, take)]), records);
      if (this.stop || this.carry.length > 0) return records;
      rest = chunk.subarray(take);
    }
    this.scan(rest, records);
    return records;
  }

  /** Scans `bytes`, which start at `carryOffset`; keeps what follows the last whole record as the carry. */
  private scan(bytes: Buffer, records: ScannedRecord[]): void {
    const base = this.carryOffset;
    const result = scanRecords(bytes, { salt: this.salt, firstLsn: this.expectedLsn, offset: 0 }, (record) => {
      record.offset += base;
      records.push(record);
    });
    this.expectedLsn = result.lastLsn + 1;
    this.carry = bytes.subarray(result.validEnd);
    this.carryOffset = base + result.validEnd;
    if (result.stop.kind !== "end" && !cutByChunkEnd(this.carry)) this.stop = result.stop;
  }

  /**
   * After the last chunk: "end" when the bytes ended just after a valid
   * record, else why the scan stopped (a frame cut off by the end of the
   * bytes is a truncated frame, as `scanRecords` would say).
   */
  end(): ScanStop {
    if (this.stop) return this.stop;
    if (this.carry.length === 0) return { kind: "end" };
    return scanRecords(this.carry, { salt: this.salt, firstLsn: this.expectedLsn, offset: 0 }).stop;
  }
}

/**
 * The length of the frame that starts with `carry` (its header may continue
 * in `next`); Infinity when that cannot be told yet or the header is not
 * plausible, so the caller joins all it has and lets the scan judge.
 */
function frameLength(carry: Buffer, next: Buffer): number {
  const head = carry.length >= 8 ? carry : Buffer.concat([carry, next.subarray(0, 8 - carry.length)]);
  if (head.length < 8 || head.readUInt16LE(0) !== RECORD_MAGIC) return Infinity;
  const payloadLength = head.readUInt32LE(4);
  return payloadLength > MAX_PAYLOAD_BYTES ? Infinity : RECORD_HEADER_BYTES + payloadLength;
}

/** True when `rest` is the start of a plausible frame whose declared length runs past it. */
function cutByChunkEnd(rest: Buffer): boolean {
  if (rest.length < RECORD_HEADER_BYTES) return rest.length < 2 || rest.readUInt16LE(0) === RECORD_MAGIC;
  if (rest.readUInt16LE(0) !== RECORD_MAGIC) return false;
  const payloadLength = rest.readUInt32LE(4);
  return payloadLength <= MAX_PAYLOAD_BYTES && RECORD_HEADER_BYTES + payloadLength > rest.length;
}
