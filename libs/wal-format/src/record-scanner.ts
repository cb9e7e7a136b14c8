import { MAX_PAYLOAD_BYTES, RECORD_FORMAT_VERSION, RECORD_HEADER_BYTES, RECORD_MAGIC } from "./constants.js";
import { frameChecksum, type WalRecordData } from "./record-frame.js";

export interface ScannedRecord extends WalRecordData {
  /** Where the frame starts in the scanned bytes. */
  offset: number;
  /** Frame length, header included. */
  length: number;
}

/** Why a scan stopped. */
export type ScanStop =
  /** The bytes ended exactly after the last valid record. */
  | { kind: "end" }
  /** Only zero bytes follow the last valid record (a zero-filled tail). */
  | { kind: "zeros" }
  /** The frame at `validEnd` is not valid. */
  | { kind: "invalid"; reason: string };

export interface ScanResult {
  /** Offset just past the last valid record. */
  validEnd: number;
  /** LSN of the last valid record, or firstLsn - 1 when there is none. */
  lastLsn: number;
  recordCount: number;
  stop: ScanStop;
}

export interface ScanOptions {
  /** The segment's salt; records with another salt are stale bytes. */
  salt: number;
  /** The LSN the first record must carry. */
  firstLsn: number;
  /** Where records begin (just past the segment header). */
  offset: number;
}

/**
 * Decodes records from `bytes` until the first frame that is not valid, and
 * says why it stopped. It never throws on bad input and never allocates from
 * a length field: payloads are views into `bytes`.
 */
export function scanRecords(bytes: Buffer, options: ScanOptions, onRecord?: (record: ScannedRecord) => void): ScanResult {
  let offset = options.offset;
  let expectedLsn = options.firstLsn;
  let recordCount = 0;
  const result = (stop: ScanStop): ScanResult => ({ validEnd: offset, lastLsn: expectedLsn - 1, recordCount, stop });
  if (offset > bytes.length) {
    offset = bytes.length;
    return result({ kind: "invalid", reason: `file ends at ${bytes.length} bytes, before records begin at ${options.offset}` });
  }

  while (offset < bytes.length) {
    const problem = checkFrame(bytes, offset, options.salt);
    if (problem !== undefined) {
      if (problem === ZERO_HEADER) {
        return isZero(bytes, offset) ? result({ kind: "zeros" }) : result({ kind: "invalid", reason: "zeroed record header followed by non-zero bytes" });
      }
      return result({ kind: "invalid", reason: problem });
    }
    const lsn = Number(bytes.readBigUInt64LE(offset + 8));
    if (lsn !== expectedLsn) return result({ kind: "invalid", reason: `LSN ${lsn} where ${expectedLsn} was expected` });
    const length = RECORD_HEADER_BYTES + bytes.readUInt32LE(offset + 4);
    onRecord?.({
      lsn,
      opType: bytes.readUInt16LE(offset + 16),
      payload: bytes.subarray(offset + RECORD_HEADER_BYTES, offset + length),
      offset,
      length,
    });
    offset += length;
    expectedLsn += 1;
    recordCount += 1;
  }
  return result({ kind: "end" });
}

/**
 * Looks for any valid frame of this segment, carrying an LSN above
 * `aboveLsn`, starting at or after `from`. Recovery uses it to tell a torn
 * tail (nothing valid follows) from corruption in the middle of the log.
 */
export function findValidFrameAfter(bytes: Buffer, from: number, salt: number, aboveLsn: number): { offset: number; lsn: number } | undefined {
  for (let offset = from; offset + RECORD_HEADER_BYTES <= bytes.length; offset++) {
    if (bytes.readUInt16LE(offset) !== RECORD_MAGIC || bytes.readUInt32LE(offset + 20) !== salt >>> 0) continue;
    if (checkFrame(bytes, offset, salt) !== undefined) continue;
    const lsn = Number(bytes.readBigUInt64LE(offset + 8));
    if (lsn > aboveLsn) return { offset, lsn };
  }
  return undefined;
}

const ZERO_HEADER = "zero header";

/** Undefined when the frame at `offset` is whole and its checksum holds; else why not. */
function checkFrame(bytes: Buffer, offset: number, salt: number): string | undefined {
  const remaining = bytes.length - offset;
  if (remaining < RECORD_HEADER_BYTES) {
    return isZero(bytes, offset) ? ZERO_HEADER : `truncated record header (${remaining} bytes)`;
  }
  if (isZero(bytes.subarray(offset, offset + RECORD_HEADER_BYTES), 0)) return ZERO_HEADER;
  if (bytes.readUInt16LE(offset) !== RECORD_MAGIC) return "bad record magic";
  if (bytes.readUInt8(offset + 2) !== RECORD_FORMAT_VERSION) return `unsupported record version ${bytes.readUInt8(offset + 2)}`;
  const payloadLength = bytes.readUInt32LE(offset + 4);
  if (payloadLength > MAX_PAYLOAD_BYTES) return `record length ${payloadLength} exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`;
  if (payloadLength > remaining - RECORD_HEADER_BYTES) return `record length ${payloadLength} runs past the end of the file`;
  if (bytes.readUInt32LE(offset + 20) !== salt >>> 0) return "record salt does not match its segment (stale bytes)";
  const frame = bytes.subarray(offset, offset + RECORD_HEADER_BYTES + payloadLength);
  if (frame.readUInt32LE(24) !== frameChecksum(frame)) return "record checksum mismatch";
  return undefined;
}

function isZero(bytes: Buffer, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
