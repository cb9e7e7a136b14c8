import {
  CHECKPOINT_FORMAT_VERSION,
  CHECKPOINT_GZIP_PREFIX_BYTES,
  CHECKPOINT_GZIP_SUBFIELD_ID,
  CHECKPOINT_HEADER_BYTES,
  CHECKPOINT_LEGACY_FORMAT_VERSION,
  CHECKPOINT_MAGIC,
} from "./constants.js";
import { decodeCheckpointHeader, encodeCheckpointHeader, type CheckpointFileHeader, type DecodedCheckpointHeader } from "./checkpoint-header.js";
import { WalFormatError } from "./errors.js";

/*
 * A checkpoint file is one gzip member (RFC 1952) that `gzip -t` and `zcat`
 * read: the T4DM header block rides in the member header's FEXTRA field, and
 * the SHA-256 covers the bytes after it (the deflate stream and the gzip
 * trailer), so a reader verifies before it decompresses. FORMAT.md has the
 * byte layout. Files of format version 1 (header first, then a gzip stream)
 * are still read.
 */

const GZIP_ID = Buffer.from([0x1f, 0x8b]);
const CM_DEFLATE = 8;
const FLG_FEXTRA = 0x04;
const OS_UNKNOWN = 255;
const XLEN = 4 + CHECKPOINT_HEADER_BYTES;

export type CheckpointLayout = "gzip" | "legacy";

export interface CheckpointFileView {
  header: DecodedCheckpointHeader;
  layout: CheckpointLayout;
  /** The bytes the header's SHA-256 and compressedBytes cover. */
  hashed: Buffer;
  /** The bytes to hand to gunzip, once `hashed` verifies. */
  gzip: Buffer;
}

/**
 * Everything before the hashed bytes of a version-2 file: a gzip member
 * header (no name, no mtime, so the same state gives the same file) whose
 * FEXTRA holds one "T4" subfield with the header block.
 */
export function encodeCheckpointPrefix(header: CheckpointFileHeader): Buffer {
  const prefix = Buffer.alloc(CHECKPOINT_GZIP_PREFIX_BYTES);
  GZIP_ID.copy(prefix, 0);
  prefix[2] = CM_DEFLATE;
  prefix[3] = FLG_FEXTRA;
  // 4–7 MTIME zero, 8 XFL zero.
  prefix[9] = OS_UNKNOWN;
  prefix.writeUInt16LE(XLEN, 10);
  CHECKPOINT_GZIP_SUBFIELD_ID.copy(prefix, 12);
  prefix.writeUInt16LE(CHECKPOINT_HEADER_BYTES, 14);
  encodeCheckpointHeader(header, CHECKPOINT_FORMAT_VERSION).copy(prefix, 16);
  return prefix;
}

/**
 * The gzip member trailer that follows the deflate stream: CRC-32 (IEEE, as
 * zlib.crc32 computes it) and the body length modulo 2^32.
 */
export function encodeGzipTrailer(crc32: number, bodyBytes: number): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32 >>> 0, 0);
  trailer.writeUInt32LE(bodyBytes % 2 ** 32, 4);
  return trailer;
}

/**
 * Splits a checkpoint file of either layout into its header and the bytes its
 * SHA-256 covers, checking the framing and the length the header promises.
 * Does not hash or decompress. Throws WalFormatError.
 */
export function parseCheckpointFile(bytes: Buffer): CheckpointFileView {
  if (startsWith(bytes, GZIP_ID)) return parseGzipLayout(bytes);
  if (startsWith(bytes, CHECKPOINT_MAGIC)) return parseLegacyLayout(bytes);
  throw new WalFormatError("not a T4DM checkpoint (neither a gzip member nor the version-1 magic)", 0);
}

function parseGzipLayout(bytes: Buffer): CheckpointFileView {
  // A plain .gz someone copied in should say so, not "truncated".
  if (bytes.length > 2 && bytes[2] !== CM_DEFLATE) throw new WalFormatError(`gzip compression method ${bytes[2]}, not deflate`, 2);
  if (bytes.length > 3 && bytes[3] !== FLG_FEXTRA) throw new WalFormatError(`gzip flags 0x${bytes[3]!.toString(16)}: a T4DM checkpoint sets only FEXTRA`, 3);
  if (bytes.length < CHECKPOINT_GZIP_PREFIX_BYTES) throw new WalFormatError(`checkpoint gzip header truncated (${bytes.length} bytes)`, 0);
  if (bytes.readUInt16LE(10) !== XLEN || !bytes.subarray(12, 14).equals(CHECKPOINT_GZIP_SUBFIELD_ID) || bytes.readUInt16LE(14) !== CHECKPOINT_HEADER_BYTES) {
    throw new WalFormatError("gzip extra field does not hold a T4DM checkpoint header", 10);
  }
  const header = decodeCheckpointHeader(bytes.subarray(16, CHECKPOINT_GZIP_PREFIX_BYTES));
  if (header.formatVersion !== CHECKPOINT_FORMAT_VERSION) {
    throw new WalFormatError(`format version ${header.formatVersion} in a gzip-layout checkpoint`, 16);
  }
  const hashed = checkedBody(bytes, CHECKPOINT_GZIP_PREFIX_BYTES, header);
  return { header, layout: "gzip", hashed, gzip: bytes };
}

function parseLegacyLayout(bytes: Buffer): CheckpointFileView {
  const header = decodeCheckpointHeader(bytes);
  if (header.formatVersion !== CHECKPOINT_LEGACY_FORMAT_VERSION) {
    throw new WalFormatError(`format version ${header.formatVersion} in a legacy-layout checkpoint`, 0);
  }
  const hashed = checkedBody(bytes, CHECKPOINT_HEADER_BYTES, header);
  return { header, layout: "legacy", hashed, gzip: hashed };
}

function checkedBody(bytes: Buffer, start: number, header: CheckpointFileHeader): Buffer {
  const expected = start + header.compressedBytes;
  if (bytes.length < expected) throw new WalFormatError(`truncated: ${bytes.length} bytes, header promises ${expected}`, bytes.length);
  if (bytes.length > expected) throw new WalFormatError(`${bytes.length - expected} unexpected bytes after the body`, expected);
  return bytes.subarray(start);
}

function startsWith(bytes: Buffer, prefix: Buffer): boolean {
  return bytes.length >= prefix.length && bytes.subarray(0, prefix.length).equals(prefix);
}
