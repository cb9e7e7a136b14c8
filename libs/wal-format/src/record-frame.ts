import { crc32c } from "@node-rs/crc32";
import { MAX_PAYLOAD_BYTES, RECORD_FORMAT_VERSION, RECORD_HEADER_BYTES, RECORD_MAGIC } from "./constants.js";

export interface WalRecordData {
  lsn: number;
  opType: number;
  payload: Uint8Array;
}

/** Encodes one record for a segment with the given salt. */
export function encodeRecord(record: WalRecordData, salt: number): Buffer {
  if (record.payload.length > MAX_PAYLOAD_BYTES) {
    throw new RangeError(`payload of ${record.payload.length} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte record limit`);
  }
  const frame = Buffer.allocUnsafe(RECORD_HEADER_BYTES + record.payload.length);
  frame.writeUInt16LE(RECORD_MAGIC, 0);
  frame.writeUInt8(RECORD_FORMAT_VERSION, 2);
  frame.writeUInt8(0, 3);
  frame.writeUInt32LE(record.payload.length, 4);
  frame.writeBigUInt64LE(BigInt(record.lsn), 8);
  frame.writeUInt16LE(record.opType, 16);
  frame.writeUInt16LE(0, 18);
  frame.writeUInt32LE(salt >>> 0, 20);
  frame.set(record.payload, RECORD_HEADER_BYTES);
  frame.writeUInt32LE(frameChecksum(frame), 24);
  return frame;
}

/** CRC-32C over the header's first 24 bytes, then the payload. */
export function frameChecksum(frame: Buffer): number {
  return crc32c(frame.subarray(RECORD_HEADER_BYTES), crc32c(frame.subarray(0, 24)));
}
