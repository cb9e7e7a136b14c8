import { crc32c } from "@node-rs/crc32";
import { CHECKSUM_CRC32C, SEGMENT_FORMAT_VERSION, SEGMENT_HEADER_BYTES, SEGMENT_MAGIC } from "./constants.js";
import { WalFormatError } from "./errors.js";

export interface SegmentHeader {
  /** Random per segment; every record in the segment repeats it. */
  salt: number;
  /** The number in the file name. */
  index: number;
  /** The LSN of the first record this segment may hold. */
  firstLsn: number;
}

export function encodeSegmentHeader(header: SegmentHeader): Buffer {
  const bytes = Buffer.alloc(SEGMENT_HEADER_BYTES);
  SEGMENT_MAGIC.copy(bytes, 0);
  bytes.writeUInt16LE(SEGMENT_FORMAT_VERSION, 8);
  bytes.writeUInt16LE(CHECKSUM_CRC32C, 10);
  bytes.writeUInt32LE(header.salt >>> 0, 12);
  bytes.writeBigUInt64LE(BigInt(header.index), 16);
  bytes.writeBigUInt64LE(BigInt(header.firstLsn), 24);
  bytes.writeUInt32LE(crc32c(bytes.subarray(0, 36)), 36);
  return bytes;
}

/** Throws WalFormatError (offset 0) unless the bytes start with a valid segment header. */
export function decodeSegmentHeader(bytes: Buffer): SegmentHeader {
  if (bytes.length < SEGMENT_HEADER_BYTES) throw new WalFormatError(`segment header truncated (${bytes.length} bytes)`, 0);
  if (!bytes.subarray(0, 8).equals(SEGMENT_MAGIC)) throw new WalFormatError("not a T4DM WAL segment (bad magic)", 0);
  if (bytes.readUInt32LE(36) !== crc32c(bytes.subarray(0, 36))) throw new WalFormatError("segment header checksum mismatch", 0);
  const version = bytes.readUInt16LE(8);
  if (version !== SEGMENT_FORMAT_VERSION) throw new WalFormatError(`unsupported segment format version ${version}`, 0);
  const checksum = bytes.readUInt16LE(10);
  if (checksum !== CHECKSUM_CRC32C) throw new WalFormatError(`unsupported checksum algorithm ${checksum}`, 0);
  return {
    salt: bytes.readUInt32LE(12),
    index: Number(bytes.readBigUInt64LE(16)),
    firstLsn: Number(bytes.readBigUInt64LE(24)),
  };
}

/** `segment_00000042.wal` */
export function segmentFileName(index: number): string {
  return `segment_${String(index).padStart(8, "0")}.wal`;
}

/** The index in a segment file name, or undefined for any other file (temp, .broken, …). */
export function parseSegmentFileName(name: string): number | undefined {
  const match = /^segment_(\d{8})\.wal$/.exec(name);
  return match ? Number(match[1]) : undefined;
}
