import type { Verdict } from "../wal/recovery-policy.js";
import type { SegmentScan, WalScan } from "../wal/wal-scan.js";
import type { CheckpointCheck, CheckpointFileCheck } from "./checkpoint-check.js";

/** One record as the records command shows it. */
export interface RecordView {
  lsn: number;
  op: string;
  payloadBytes: number;
  fileName: string;
  offset: number;
  /** The WalEntry as protobuf JSON; undefined when the payload does not decode. */
  entry?: unknown;
  problem?: string;
}

/** Where and why the records command stopped before the range it was asked for ended. */
export interface RecordsStop {
  fileName: string;
  offset: number;
  lsn?: number;
  reason: string;
}

export function lsnRange(segment: SegmentScan): string {
  if (segment.header === undefined) return "-";
  if (segment.recordCount === 0) return `empty (first ${segment.firstLsn})`;
  return `${segment.firstLsn}..${segment.lastLsn}`;
}

/** Why the segment's scan stopped, in a few words; "ok" when it read to the end. */
export function segmentStatus(segment: SegmentScan): string {
  if (segment.headerError !== undefined) return `bad header: ${segment.headerError}`;
  switch (segment.stop.kind) {
    case "end":
      return "ok";
    case "zeros":
      return `zero-filled from offset ${segment.validEnd}`;
    case "invalid": {
      const after = segment.validFrameAfterStop;
      const follows = after ? `; a valid record (LSN ${after.lsn}) follows at offset ${after.offset}` : "";
      return `invalid frame at offset ${segment.validEnd}: ${segment.stop.reason}${follows}`;
    }
  }
}

export function verifySegmentLine(segment: SegmentScan): string {
  return `${segment.fileName}  index ${segment.index}  LSN ${lsnRange(segment)}  ${plural(segment.recordCount, "record")}  ${plural(segment.size, "byte")}  ${segmentStatus(segment)}`;
}

export function segmentTable(scan: WalScan): string[] {
  const rows = scan.segments.map((s) => [
    s.fileName,
    String(s.index),
    s.header ? String(s.firstLsn) : "-",
    s.header && s.recordCount > 0 ? String(s.lastLsn) : "-",
    String(s.recordCount),
    String(s.size),
    String(s.validEnd),
    segmentStatus(s),
  ]);
  return alignColumns([["FILE", "INDEX", "FIRST_LSN", "LAST_LSN", "RECORDS", "BYTES", "VALID_END", "STATUS"], ...rows]);
}

/** What a non-segment file in wal/ is, judged by its name (see open-wal). */
export function otherWalFileLine(name: string): string {
  if (name.endsWith(".tmp")) return `${name}  temp file of an interrupted segment cut (the sidecar removes it on open)`;
  if (name.endsWith(".broken")) return `${name}  bytes a tail repair cut off (kept for salvage)`;
  return `${name}  not a WAL file`;
}

export function otherCheckpointFileLine(name: string): string {
  if (name.endsWith(".tmp")) return `${name}  temp file of an interrupted checkpoint write`;
  return `${name}  not a checkpoint file`;
}

/** `commitLsn`: the LSN of the CHECKPOINT_COMPLETE naming this checkpoint, if the WAL holds one. */
export function verifyCheckpointLine(check: CheckpointCheck, commitLsn: number | undefined): string {
  const h = check.header;
  const sizes = h ? `${plural(check.size, "byte")} (compressed ${h.compressedBytes}, body ${h.bodyBytes})` : plural(check.size, "byte");
  return `${check.fileName}  LSN ${check.nameLsn}  ${sizes}  SHA-256 ${check.sha256}  ${commitText(commitLsn)}  ${check.problem === undefined ? "ok" : `BAD: ${check.problem}`}`;
}

export function checkpointBlock(check: CheckpointCheck, commitLsn: number | undefined): string[] {
  return [`${check.fileName}  ${check.problem === undefined ? "ok" : `BAD: ${check.problem}`}  ${commitText(commitLsn)}`, ...checkpointDetails(check)];
}

/** One file checked on its own: whether it is committed depends on a WAL this does not read. */
export function checkpointFileBlock(check: CheckpointFileCheck): string[] {
  return [`${check.fileName}  ${check.problem === undefined ? "ok" : `BAD: ${check.problem}`}`, ...checkpointDetails(check)];
}

function checkpointDetails(check: CheckpointFileCheck): string[] {
  const h = check.header;
  if (h === undefined) return [`  file ${check.size} bytes, no valid header`];
  return [
    `  format ${h.formatVersion} (${check.layout} layout)  lsn ${h.lsn}  state format ${h.stateFormatVersion}  file ${check.size} bytes  compressed ${h.compressedBytes}  body ${h.bodyBytes}`,
    `  sha256 ${h.sha256.toString("hex")} (${check.sha256})  body ${check.body}`,
    `  state hash ${trimZeroPadding(h.stateHash).toString("hex") || "(none)"}`,
  ];
}

export function verdictLine(verdict: Verdict): string {
  switch (verdict.kind) {
    case "clean":
      return "wal: clean";
    case "repair": {
      const r = verdict.repair;
      const action = r.removeFile
        ? `recovery would remove ${r.fileName} (${plural(r.droppedBytes, "byte")})`
        : `recovery would cut ${r.fileName} at offset ${r.truncateAt}, dropping ${plural(r.droppedBytes, "byte")}`;
      return `wal: torn tail: ${action}: ${r.reason}`;
    }
    case "corrupt": {
      const c = verdict.corruption;
      const lsn = c.lsn !== undefined ? `, LSN ${c.lsn}` : "";
      return `wal: corrupt: ${c.fileName} at offset ${c.offset}${lsn}: ${c.reason} (recovery would refuse to start)`;
    }
  }
}

export function recordLine(record: RecordView): string {
  const parts = [String(record.lsn), record.op, `${record.payloadBytes}B`];
  if (record.entry !== undefined) parts.push(JSON.stringify(record.entry));
  if (record.problem !== undefined) parts.push(`!! ${record.problem}`);
  return parts.join(" ");
}

export function recordJson(record: RecordView): string {
  return JSON.stringify({
    lsn: record.lsn,
    op: record.op,
    payloadBytes: record.payloadBytes,
    file: record.fileName,
    offset: record.offset,
    entry: record.entry,
    problem: record.problem,
  });
}

export function recordsStopLine(stop: RecordsStop): string {
  const lsn = stop.lsn !== undefined ? ` (LSN ${stop.lsn})` : "";
  return `stopped at ${stop.fileName} offset ${stop.offset}${lsn}: ${stop.reason}`;
}

/** Pads every column but the last to its widest cell. */
export function alignColumns(rows: readonly string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "));
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** A checkpoint counts only once a durable CHECKPOINT_COMPLETE names it (DURABILITY.md). */
function commitText(commitLsn: number | undefined): string {
  return commitLsn === undefined ? "not committed" : `committed at LSN ${commitLsn}`;
}

function trimZeroPadding(bytes: Buffer): Buffer {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return bytes.subarray(0, end);
}
