import { ChunkedScanner, SEGMENT_HEADER_BYTES, type ScannedRecord } from "@t4dm/wal-format";
import type { FileHandle, FileLayer } from "../storage/file-layer.js";
import { WalCorruptError } from "./wal-errors.js";

/** What the reader needs to know of a segment the WAL was opened with. */
export interface SegmentExtent {
  fileName: string;
  salt: number;
  firstLsn: number;
  /** Bytes of whole records, header included: the scan at open validated them. */
  bytes: number;
}

/**
 * Yields a segment's records, chunk by chunk, in LSN order, up to
 * `segment.bytes`; `stopAfterLsn` ends the read early. One read is always in
 * flight ahead of the chunk being handed on, so the reading overlaps with
 * whatever the caller does with the records (streaming them, for recovery).
 * Every record is checked again as it is read (CRC-32C included): a frame
 * that no longer checks out, or bytes ending before `segment.bytes`, mean the
 * file changed since it was opened, a WalCorruptError.
 */
export async function* readSegmentRecords(
  layer: FileLayer,
  file: string,
  segment: SegmentExtent,
  options: { chunkBytes: number; stopAfterLsn: number },
): AsyncGenerator<ScannedRecord[]> {
  const handle = await layer.open(file, "read");
  const scanner = new ChunkedScanner(segment.salt, segment.firstLsn, SEGMENT_HEADER_BYTES);
  let position = SEGMENT_HEADER_BYTES;
  let next = readAhead(handle, position, segment.bytes, options.chunkBytes);
  try {
    while (next) {
      const chunk = await next;
      if (chunk.length === 0) break;
      position += chunk.length;
      next = scanner.lastLsn >= options.stopAfterLsn ? undefined : readAhead(handle, position, segment.bytes, options.chunkBytes);
      const records = scanner.push(chunk);
      if (records.length > 0) yield records;
      if (scanner.lastLsn >= options.stopAfterLsn) return;
    }
    const stop = scanner.end();
    if (stop.kind !== "end" || position < segment.bytes) {
      const reason = stop.kind === "invalid" ? stop.reason : `the file ends at ${position} bytes, not ${segment.bytes}`;
      throw new WalCorruptError(segment.fileName, position, scanner.lastLsn + 1, `changed since the WAL was opened: ${reason}`);
    }
  } finally {
    await next?.catch(() => undefined);
    await handle.close();
  }
}

/** The next chunk's read, already handled so a failure while the caller holds the previous chunk is not "unhandled". */
function readAhead(handle: FileHandle, position: number, end: number, chunkBytes: number): Promise<Buffer> | undefined {
  if (position >= end) return undefined;
  const read = handle.read(Math.min(chunkBytes, end - position), position);
  read.catch(() => undefined);
  return read;
}
