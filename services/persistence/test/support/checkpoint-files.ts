import { createHash } from "node:crypto";
import { crc32, deflateRawSync, gzipSync } from "node:zlib";
import { CHECKPOINT_LEGACY_FORMAT_VERSION, encodeCheckpointHeader, encodeCheckpointPrefix, encodeGzipTrailer, type CheckpointFileHeader } from "@t4dm/wal-format";

export interface CheckpointFileInput {
  lsn: number;
  stateFormatVersion: number;
  stateHash: Buffer;
  body: Buffer;
  /** Written into the header instead of the true body length. */
  bodyBytesClaimed?: number;
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest();

function header(input: CheckpointFileInput, hashed: Buffer): CheckpointFileHeader {
  return {
    lsn: input.lsn,
    stateFormatVersion: input.stateFormatVersion,
    compressedBytes: hashed.length,
    bodyBytes: input.bodyBytesClaimed ?? input.body.length,
    sha256: sha256(hashed),
    stateHash: input.stateHash,
  };
}

/** A whole checkpoint file in today's gzip layout (FORMAT.md, version 2), built synchronously for tests. */
export function gzipCheckpointFile(input: CheckpointFileInput): Buffer {
  const hashed = Buffer.concat([deflateRawSync(input.body), encodeGzipTrailer(crc32(input.body), input.body.length)]);
  return Buffer.concat([encodeCheckpointPrefix(header(input, hashed)), hashed]);
}

/** A whole checkpoint file in the legacy layout (version 1), as data directories from before the gzip layout hold. */
export function legacyCheckpointFile(input: CheckpointFileInput): Buffer {
  const hashed = gzipSync(input.body);
  return Buffer.concat([encodeCheckpointHeader(header(input, hashed), CHECKPOINT_LEGACY_FORMAT_VERSION), hashed]);
}

export const CHECKPOINT_LAYOUTS = [
  ["gzip", gzipCheckpointFile],
  ["legacy", legacyCheckpointFile],
] as const;
