import { createHash } from "node:crypto";
import { constants as bufferConstants } from "node:buffer";
import { gunzipSync } from "node:zlib";
import { parseCheckpointFile, WalFormatError, type CheckpointFileView, type CheckpointLayout, type DecodedCheckpointHeader } from "@t4dm/wal-format";

export type CheckState = "ok" | "bad" | "unchecked";

export interface CheckpointFileCheck {
  fileName: string;
  size: number;
  /** Undefined when the header itself is invalid. */
  header?: DecodedCheckpointHeader;
  /** gzip (version 2) or legacy (version 1); undefined when the header is invalid. */
  layout?: CheckpointLayout;
  sha256: CheckState;
  /** Whether the body decompresses to the length the header gives. */
  body: CheckState;
  /** Undefined when the file verifies. */
  problem?: string;
}

/** A file in a checkpoints/ directory, named after its LSN. */
export interface CheckpointCheck extends CheckpointFileCheck {
  /** The LSN in the file name. */
  nameLsn: number;
}

export function checkCheckpoint(fileName: string, nameLsn: number, bytes: Buffer): CheckpointCheck {
  return { ...checkCheckpointFile(fileName, bytes, nameLsn), nameLsn };
}

/**
 * Verifies a checkpoint file of either layout the way FORMAT.md asks a
 * reader to: header CRC and file length, then the SHA-256 over the
 * compressed bytes, and only then gunzip, capped at the header's body length
 * so a corrupt body cannot balloon. `nameLsn`, when given, must match the
 * header's LSN.
 */
export function checkCheckpointFile(fileName: string, bytes: Buffer, nameLsn?: number): CheckpointFileCheck {
  const check: CheckpointFileCheck = { fileName, size: bytes.length, sha256: "unchecked", body: "unchecked" };
  const fail = (problem: string): CheckpointFileCheck => ({ ...check, problem });
  if (bytes.length === 0) return fail("empty file");
  let file: CheckpointFileView;
  try {
    file = parseCheckpointFile(bytes);
  } catch (error) {
    if (!(error instanceof WalFormatError)) throw error;
    return fail(error.message);
  }
  const header = file.header;
  check.header = header;
  check.layout = file.layout;
  if (nameLsn !== undefined && header.lsn !== nameLsn) return fail(`header LSN ${header.lsn} does not match the file name`);

  check.sha256 = createHash("sha256").update(file.hashed).digest().equals(header.sha256) ? "ok" : "bad";
  if (check.sha256 === "bad") return fail("SHA-256 mismatch over the compressed body");

  let body: Buffer;
  try {
    body = gunzipSync(file.gzip, { maxOutputLength: Math.min(header.bodyBytes + 1, bufferConstants.MAX_LENGTH) });
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
