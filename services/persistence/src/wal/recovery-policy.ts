import { SEGMENT_HEADER_BYTES } from "@t4dm/wal-format";
import type { SegmentScan, WalScan } from "./wal-scan.js";

/** A torn tail in the newest segment that recovery may cut off. */
export interface TailRepair {
  fileName: string;
  /** Truncate the file to this length. */
  truncateAt: number;
  droppedBytes: number;
  /** Remove the whole file (its header never became valid). */
  removeFile: boolean;
  /** Keep the dropped bytes in a `.broken` file (not worth it for zeros). */
  keepBrokenBytes: boolean;
  reason: string;
}

export interface Corruption {
  fileName: string;
  offset: number;
  lsn?: number;
  reason: string;
}

export type Verdict =
  | { kind: "clean" }
  | { kind: "repair"; repair: TailRepair }
  | { kind: "corrupt"; corruption: Corruption };

/**
 * Point-in-time recovery with a guard (DURABILITY.md): an invalid frame in
 * the newest segment with nothing valid after it, above every checkpoint, is
 * a torn tail to cut off; anything else (a sealed segment, valid records
 * after the damage, damage at or below a checkpoint, a missing segment) is
 * corruption, and start-up must stop. Pure: it only reads the scan.
 */
export function judgeWal(scan: WalScan, newestCheckpointLsn: number): Verdict {
  const segments = scan.segments;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const newest = i === segments.length - 1;
    const previous = segments[i - 1];
    if (previous && segment.index !== previous.index + 1) {
      return corrupt(segment, 0, undefined, `segment ${previous.index + 1} is missing (found ${previous.fileName} then ${segment.fileName})`);
    }
    if (segment.header === undefined) {
      if (newest && segment.size <= SEGMENT_HEADER_BYTES && segment.recordCount === 0) {
        return repair(segment, 0, segment.size, true, true, `newest segment has no valid header (${segment.headerError})`);
      }
      return corrupt(segment, 0, undefined, `invalid segment header: ${segment.headerError}`);
    }
    if (segment.header.index !== segment.index) {
      return corrupt(segment, 0, undefined, `header says segment ${segment.header.index} but the file is ${segment.fileName}`);
    }
    if (previous && segment.firstLsn !== previous.lastLsn + 1) {
      return corrupt(segment, 0, segment.firstLsn, `segment starts at LSN ${segment.firstLsn} but ${previous.fileName} ends at LSN ${previous.lastLsn}`);
    }
    if (segment.stop.kind === "end") continue;
    const at = segment.lastLsn + 1;
    const reason = segment.stop.kind === "zeros" ? "zero-filled tail" : segment.stop.reason;
    if (!newest) return corrupt(segment, segment.validEnd, at, `sealed segment: ${reason}`);
    if (segment.validFrameAfterStop) {
      const after = segment.validFrameAfterStop;
      return corrupt(segment, segment.validEnd, at, `${reason}, but a valid record (LSN ${after.lsn}) follows at offset ${after.offset}`);
    }
    if (at <= newestCheckpointLsn) {
      return corrupt(segment, segment.validEnd, at, `${reason}, at or below checkpoint LSN ${newestCheckpointLsn}`);
    }
    return repair(segment, segment.validEnd, segment.size - segment.validEnd, false, segment.stop.kind === "invalid", reason);
  }
  return { kind: "clean" };
}

function corrupt(segment: SegmentScan, offset: number, lsn: number | undefined, reason: string): Verdict {
  return { kind: "corrupt", corruption: { fileName: segment.fileName, offset, lsn, reason } };
}

function repair(segment: SegmentScan, truncateAt: number, droppedBytes: number, removeFile: boolean, keepBrokenBytes: boolean, reason: string): Verdict {
  return { kind: "repair", repair: { fileName: segment.fileName, truncateAt, droppedBytes, removeFile, keepBrokenBytes, reason } };
}
