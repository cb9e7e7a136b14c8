import { crc32c } from "@node-rs/crc32";
import { MAX_PAYLOAD_BYTES, RECORD_FORMAT_VERSION, RECORD_HEADER_BYTES, RECORD_MAGIC } from "./constants.js";

export interface WalRecordData {
  lsn: number;
  opType: number;
  payload: Uint8Array;
}

/** Encodes one record for a segment with the given salt, as one buffer. */
export function encodeRecord(record: WalRecordData, salt: number): Buffer {
  return Buffer.concat([encodeRecordHeader(record, salt), record.payload]);
}

/**
 * The 28-byte header of a record's frame, checksum included. The payload
 * follows it on disk unchanged, so a writer can hand both to one `writev`
 * without copying the payload into a frame buffer.
 */
export function encodeRecordHeader(record: WalRecordData, salt: number): Buffer {
  if (record.payload.length > MAX_PAYLOAD_BYTES) {
    throw new RangeError(`payload of ${record.payload.length} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte record limit`);
  }
  const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
  header.writeUInt16LE(RECORD_MAGIC, 0);
  header.writeUInt8(RECORD_FORMAT_VERSION, 2);
  header.writeUInt8(0, 3);
  header.writeUInt32LE(record.payload.length, 4);
  // u64 LE as two u32 halves: LSNs are safe integers, and a BigInt per record is avoidable garbage.
  header.writeUInt32LE(record.lsn % 0x1_0000_0000, 8);
  header.writeUInt32LE(Math.floor(record.lsn / 0x1_0000_0000), 12);
  header.writeUInt16LE(record.opType, 16);
  header.writeUInt16LE(0, 18);
  header.writeUInt32LE(salt >>> 0, 20);
  header.writeUInt32LE(crc32c(record.payload, crc32c(header.subarray(0, 24))), 24);
  return header;
}

/** CRC-32C over the header's first 24 bytes, then the payload. */
export function frameChecksum(frame: Buffer): number {
  return crc32c(frame.subarray(RECORD_HEADER_BYTES), crc32c(frame.subarray(0, 24)));
}
