import path from "node:path";
import {
  decodeSegmentHeader,
  findValidFrameAfter,
  parseSegmentFileName,
  scanRecords,
  SEGMENT_HEADER_BYTES,
  type ScannedRecord,
  type ScanStop,
  type SegmentHeader,
} from "@t4dm/wal-format";
import type { FileLayer } from "../storage/file-layer.js";

/** What one segment file holds, as far as it is valid. */
export interface SegmentScan {
  fileName: string;
  /** The number in the file name. */
  index: number;
  /** Undefined when the header itself is invalid (see headerError). */
  header?: SegmentHeader;
  headerError?: string;
  /** The file's size in bytes. */
  size: number;
  /** Offset just past the last valid record. */
  validEnd: number;
  firstLsn: number;
  /** firstLsn - 1 when the segment holds no valid record. */
  lastLsn: number;
  recordCount: number;
  stop: ScanStop;
  /** Set when the scan stopped at an invalid frame and a valid frame with a higher LSN follows it. */
  validFrameAfterStop?: { offset: number; lsn: number };
}

/** Everything on disk under wal/, read but not judged. */
export interface WalScan {
  dir: string;
  /** Segment files by index, oldest first. */
  segments: SegmentScan[];
  /** Other files (temp files from an interrupted cut, `.broken` tails). */
  otherFiles: string[];
}

/**
 * Reads every segment and decodes its records up to the first invalid frame.
 * `onRecord` sees each valid record in LSN order. Pure reading: recovery
 * policy and the offline tool decide what the result means.
 */
export async function scanWalDirectory(
  layer: FileLayer,
  dir: string,
  onRecord?: (record: ScannedRecord, segment: SegmentScan) => void,
): Promise<WalScan> {
  const names = await layer.readdir(dir);
  const indexed = names
    .map((name) => ({ name, index: parseSegmentFileName(name) }))
    .filter((entry): entry is { name: string; index: number } => entry.index !== undefined)
    .sort((a, b) => a.index - b.index);
  const segments: SegmentScan[] = [];
  for (const { name, index } of indexed) {
    const bytes = await layer.readFile(path.join(dir, name));
    segments.push(scanSegment(name, index, bytes, onRecord));
  }
  const otherFiles = names.filter((name) => parseSegmentFileName(name) === undefined).sort();
  return { dir, segments, otherFiles };
}

export function scanSegment(
  fileName: string,
  index: number,
  bytes: Buffer,
  onRecord?: (record: ScannedRecord, segment: SegmentScan) => void,
): SegmentScan {
  let header: SegmentHeader;
  try {
    header = decodeSegmentHeader(bytes);
  } catch (error) {
    return {
      fileName,
      index,
      headerError: (error as Error).message,
      size: bytes.length,
      validEnd: 0,
      firstLsn: 0,
      lastLsn: -1,
      recordCount: 0,
      stop: { kind: "invalid", reason: (error as Error).message },
    };
  }
  const segment: SegmentScan = {
    fileName,
    index,
    header,
    size: bytes.length,
    validEnd: SEGMENT_HEADER_BYTES,
    firstLsn: header.firstLsn,
    lastLsn: header.firstLsn - 1,
    recordCount: 0,
    stop: { kind: "end" },
  };
  const result = scanRecords(bytes, { salt: header.salt, firstLsn: header.firstLsn, offset: SEGMENT_HEADER_BYTES }, (record) =>
    onRecord?.(record, segment),
  );
  segment.validEnd = result.validEnd;
  segment.lastLsn = result.lastLsn;
  segment.recordCount = result.recordCount;
  segment.stop = result.stop;
  if (result.stop.kind === "invalid") {
    segment.validFrameAfterStop = findValidFrameAfter(bytes, result.validEnd + 1, header.salt, result.lastLsn);
  }
  return segment;
}
