import { createHash } from "node:crypto";
import { constants as bufferConstants } from "node:buffer";
import { gunzipSync } from "node:zlib";
import { CHECKPOINT_HEADER_BYTES, decodeCheckpointHeader, WalFormatError, type CheckpointFileHeader } from "@t4dm/wal-format";

export type CheckState = "ok" | "bad" | "unchecked";

export interface CheckpointCheck {
  fileName: string;
  /** The LSN in the file name. */
  nameLsn: number;
  size: number;
  /** Undefined when the header itself is invalid. */
  header?: CheckpointFileHeader;
  sha256: CheckState;
  /** Whether the body decompresses to the length the header gives. */
  body: CheckState;
  /** Undefined when the file verifies. */
  problem?: string;
}

/**
 * Verifies a checkpoint file the way FORMAT.md asks a reader to: header CRC,
 * then the SHA-256 over the compressed bytes, and only then gunzip, capped
 * at the header's body length so a corrupt body cannot balloon.
 */
export function checkCheckpoint(fileName: string, nameLsn: number, bytes: Buffer): CheckpointCheck {
  const check: CheckpointCheck = { fileName, nameLsn, size: bytes.length, sha256: "unchecked", body: "unchecked" };
  const fail = (problem: string): CheckpointCheck => ({ ...check, problem });
  try {
    check.header = decodeCheckpointHeader(bytes);
  } catch (error) {
    if (error instanceof WalFormatError) return fail(error.message);
    throw error;
  }
  const header = check.header;
  if (header.lsn !== nameLsn) return fail(`header LSN ${header.lsn} does not match the file name`);
  const expected = CHECKPOINT_HEADER_BYTES + header.compressedBytes;
  if (bytes.length < expected) return fail(`truncated: ${bytes.length - CHECKPOINT_HEADER_BYTES} of ${header.compressedBytes} compressed bytes present`);
  if (bytes.length > expected) return fail(`${bytes.length - expected} unexpected bytes after the compressed body`);

  const compressed = bytes.subarray(CHECKPOINT_HEADER_BYTES);
  check.sha256 = createHash("sha256").update(compressed).digest().equals(header.sha256) ? "ok" : "bad";
  if (check.sha256 === "bad") return fail("SHA-256 mismatch over the compressed body");

  let body: Buffer;
  try {
    body = gunzipSync(compressed, { maxOutputLength: Math.min(header.bodyBytes + 1, bufferConstants.MAX_LENGTH) });
  } catch (error) {
    check.body = "bad";
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ERR_BUFFER_TOO_LARGE") return fail(`body decompresses to more than the ${header.bodyBytes} bytes the header gives`);
    return fail(`body does not decompress: ${(error as Error).message}`);
  }
  check.body = body.length === header.bodyBytes ? "ok" : "bad";
  if (check.body === "bad") return fail(`body decompresses to ${body.length} bytes, header gives ${header.bodyBytes}`);
  return check;
}
