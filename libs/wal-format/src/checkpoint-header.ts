import { crc32c } from "@node-rs/crc32";
import {
  CHECKPOINT_FORMAT_VERSION,
  CHECKPOINT_HEADER_BYTES,
  CHECKPOINT_LEGACY_FORMAT_VERSION,
  CHECKPOINT_MAGIC,
  STATE_HASH_BYTES,
} from "./constants.js";
import { WalFormatError } from "./errors.js";

export interface CheckpointFileHeader {
  lsn: number;
  /** The state's own format version, chosen by the writer. */
  stateFormatVersion: number;
  /** Length of the bytes the SHA-256 covers: everything after the header (see FORMAT.md). */
  compressedBytes: number;
  bodyBytes: number;
  /** SHA-256 of the compressed bytes after the header (32 bytes). */
  sha256: Buffer;
  /** Canonical hash of the state, up to 28 bytes. */
  stateHash: Buffer;
}

export interface DecodedCheckpointHeader extends CheckpointFileHeader {
  /** 2: gzip layout; 1: legacy layout. */
  formatVersion: number;
}

/** The 104-byte header block; `formatVersion` says which file layout it belongs to. */
export function encodeCheckpointHeader(header: CheckpointFileHeader, formatVersion: number = CHECKPOINT_FORMAT_VERSION): Buffer {
  if (header.sha256.length !== 32) throw new RangeError("sha256 must be 32 bytes");
  if (header.stateHash.length > STATE_HASH_BYTES) throw new RangeError(`state hash longer than ${STATE_HASH_BYTES} bytes`);
  const bytes = Buffer.alloc(CHECKPOINT_HEADER_BYTES);
  CHECKPOINT_MAGIC.copy(bytes, 0);
  bytes.writeUInt16LE(formatVersion, 8);
  bytes.writeUInt16LE(header.stateFormatVersion, 10);
  bytes.writeBigUInt64LE(BigInt(header.lsn), 16);
  bytes.writeBigUInt64LE(BigInt(header.compressedBytes), 24);
  bytes.writeBigUInt64LE(BigInt(header.bodyBytes), 32);
  header.sha256.copy(bytes, 40);
  header.stateHash.copy(bytes, 72);
  bytes.writeUInt32LE(crc32c(bytes.subarray(0, 100)), 100);
  return bytes;
}

/** Throws WalFormatError unless `bytes` start with a valid checkpoint header block (either version). */
export function decodeCheckpointHeader(bytes: Buffer): DecodedCheckpointHeader {
  if (bytes.length < CHECKPOINT_HEADER_BYTES) throw new WalFormatError(`checkpoint header truncated (${bytes.length} bytes)`, 0);
  if (!bytes.subarray(0, 8).equals(CHECKPOINT_MAGIC)) throw new WalFormatError("not a T4DM checkpoint (bad magic)", 0);
  if (bytes.readUInt32LE(100) !== crc32c(bytes.subarray(0, 100))) throw new WalFormatError("checkpoint header checksum mismatch", 0);
  const version = bytes.readUInt16LE(8);
  if (version !== CHECKPOINT_FORMAT_VERSION && version !== CHECKPOINT_LEGACY_FORMAT_VERSION) {
    throw new WalFormatError(`unsupported checkpoint format version ${version}`, 0);
  }
  return {
    formatVersion: version,
    stateFormatVersion: bytes.readUInt16LE(10),
    lsn: Number(bytes.readBigUInt64LE(16)),
    compressedBytes: Number(bytes.readBigUInt64LE(24)),
    bodyBytes: Number(bytes.readBigUInt64LE(32)),
    sha256: Buffer.from(bytes.subarray(40, 72)),
    stateHash: Buffer.from(bytes.subarray(72, 100)),
  };
}

/** `checkpoint_0000000000001234.bin.gz` */
export function checkpointFileName(lsn: number): string {
  return `checkpoint_${String(lsn).padStart(16, "0")}.bin.gz`;
}

export function parseCheckpointFileName(name: string): number | undefined {
  const match = /^checkpoint_(\d{16})\.bin\.gz$/.exec(name);
  return match ? Number(match[1]) : undefined;
}
