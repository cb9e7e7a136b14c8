import path from "node:path";
import { decodeSegmentHeader, parseCheckpointFileName, parseSegmentFileName, type ScannedRecord, type SegmentHeader } from "@t4dm/wal-format";
import { checkpointCommitOf } from "../checkpoint-commits.js";
import type { FileLayer } from "../storage/file-layer.js";
import { scanSegment } from "../wal/wal-scan.js";
import type { CliOutput } from "./cli-output.js";
import { ExitCode, type ExitCodeValue } from "./exit-codes.js";
import { checkCheckpointFile } from "./checkpoint-check.js";
import {
  checkpointBlock,
  checkpointFileBlock,
  otherCheckpointFileLine,
  otherWalFileLine,
  recordJson,
  recordLine,
  recordsStopLine,
  segmentTable,
  type RecordsStop,
  type RecordView,
} from "./format.js";
import type { RecordsOptions } from "./parse-args.js";
import { decodePayload, entryToJson, operationName } from "./payload-view.js";
import { listDataDir, readCheckpoints, scanWal } from "./read-data-dir.js";
import { verifyReport, type PayloadProblem } from "./verify-report.js";

/** Payload problems verify spells out; the rest are only counted. */
const PAYLOAD_PROBLEMS_SHOWN = 10;

export async function verifyCommand(layer: FileLayer, dataDir: string, output: CliOutput): Promise<ExitCodeValue> {
  const entries = await listDataDir(layer, dataDir);
  const payloadProblems: PayloadProblem[] = [];
  const commits = new Map<number, number>();
  let payloadsChecked = 0;
  let payloadProblemCount = 0;
  const scan = await scanWal(layer, dataDir, entries, (record, segment) => {
    payloadsChecked += 1;
    const commit = checkpointCommitOf(record);
    if (commit !== undefined) commits.set(commit.lsn, record.lsn);
    const { problem } = decodePayload(record);
    if (problem === undefined) return;
    payloadProblemCount += 1;
    if (payloadProblems.length < PAYLOAD_PROBLEMS_SHOWN) payloadProblems.push({ fileName: segment.fileName, offset: record.offset, lsn: record.lsn, reason: problem });
  });
  const checkpoints = await readCheckpoints(layer, dataDir, entries);
  const report = verifyReport({ scan, checkpoints, payloadsChecked, payloadProblems, payloadProblemCount, commits });
  for (const line of report.lines) await output.out(line);
  return report.exitCode;
}

export async function segmentsCommand(layer: FileLayer, dataDir: string, output: CliOutput): Promise<ExitCodeValue> {
  const entries = await listDataDir(layer, dataDir);
  if (!entries.has("wal")) {
    output.err("no wal/ directory");
    return ExitCode.clean;
  }
  const scan = await scanWal(layer, dataDir, entries);
  for (const line of segmentTable(scan)) await output.out(line);
  for (const name of scan.otherFiles) await output.out(otherWalFileLine(name));
  return ExitCode.clean;
}

export async function checkpointsCommand(layer: FileLayer, dataDir: string, output: CliOutput): Promise<ExitCodeValue> {
  const entries = await listDataDir(layer, dataDir);
  const checkpoints = await readCheckpoints(layer, dataDir, entries);
  if (!checkpoints.present) {
    output.err("no checkpoints/ directory");
    return ExitCode.clean;
  }
  if (checkpoints.checks.length === 0) output.err("no checkpoint files");
  // Whether each file counts depends on the WAL: read it for CHECKPOINT_COMPLETE records.
  const commits = new Map<number, number>();
  await scanWal(layer, dataDir, entries, (record) => {
    const commit = checkpointCommitOf(record);
    if (commit !== undefined) commits.set(commit.lsn, record.lsn);
  });
  for (const check of checkpoints.checks) for (const line of checkpointBlock(check, commits.get(check.nameLsn))) await output.out(line);
  for (const name of checkpoints.otherFiles) await output.out(otherCheckpointFileLine(name));
  return ExitCode.clean;
}

/**
 * Verifies one checkpoint file of either layout, wherever it lies (a backup,
 * say): exit 0 when it verifies, 2 when it does not. A name of the form
 * checkpoint_<LSN>.bin.gz must match the header's LSN.
 */
export async function checkpointCommand(layer: FileLayer, file: string, output: CliOutput): Promise<ExitCodeValue> {
  const check = checkCheckpointFile(path.basename(file), await layer.readFile(file), parseCheckpointFileName(path.basename(file)));
  for (const line of checkpointFileBlock(check)) await output.out(line);
  return check.problem === undefined ? ExitCode.clean : ExitCode.corrupt;
}

/**
 * Prints records in LSN order across segments and stops at the first thing
 * replay would stop at: an invalid frame, a bad segment header, a missing
 * segment or an LSN gap between segments. Reads one segment at a time and
 * stops reading once the range or the limit is done.
 */
export async function recordsCommand(layer: FileLayer, dataDir: string, options: RecordsOptions, output: CliOutput): Promise<ExitCodeValue> {
  const entries = await listDataDir(layer, dataDir);
  if (!entries.has("wal")) {
    output.err("no wal/ directory");
    return ExitCode.clean;
  }
  const dir = path.join(dataDir, "wal");
  const files = (await layer.readdir(dir))
    .map((name) => ({ name, index: parseSegmentFileName(name) }))
    .filter((file): file is { name: string; index: number } => file.index !== undefined)
    .sort((a, b) => a.index - b.index);
  const from = options.from ?? 0;
  const to = options.to ?? Number.MAX_SAFE_INTEGER;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const print = options.json ? recordJson : recordLine;

  let printed = 0;
  let previous: { index: number; fileName: string; lastLsn: number } | undefined;
  let stop: RecordsStop | undefined;
  for (const file of files) {
    if (printed >= limit || (previous !== undefined && previous.lastLsn >= to)) break;
    if (previous !== undefined && file.index !== previous.index + 1) {
      stop = { fileName: file.name, offset: 0, reason: `segment ${previous.index + 1} is missing` };
      break;
    }
    const bytes = await layer.readFile(path.join(dir, file.name));
    const header = headerOf(bytes);
    if (previous !== undefined && header !== undefined && header.firstLsn !== previous.lastLsn + 1) {
      stop = { fileName: file.name, offset: 0, lsn: header.firstLsn, reason: `segment starts at LSN ${header.firstLsn} but ${previous.fileName} ends at LSN ${previous.lastLsn}` };
      break;
    }
    // Views into `bytes`, collected so that printing can wait for a slow pipe.
    const wanted: ScannedRecord[] = [];
    const segment = scanSegment(file.name, file.index, bytes, (record) => {
      if (record.lsn >= from && record.lsn <= to && printed + wanted.length < limit) wanted.push(record);
    });
    for (const record of wanted) await output.out(print(recordView(record, file.name)));
    printed += wanted.length;
    if (segment.stop.kind !== "end") {
      const lsn = segment.header ? segment.lastLsn + 1 : undefined;
      const reason = segment.headerError !== undefined ? `invalid segment header: ${segment.headerError}` : segment.stop.kind === "zeros" ? "zero-filled tail" : segment.stop.reason;
      // Only worth saying when the stop cut the requested range short.
      if (printed < limit && (lsn === undefined || lsn <= to)) stop = { fileName: file.name, offset: segment.validEnd, lsn, reason };
      break;
    }
    previous = { index: file.index, fileName: file.name, lastLsn: segment.lastLsn };
  }
  if (stop !== undefined) output.err(recordsStopLine(stop));
  return ExitCode.clean;
}

function recordView(record: ScannedRecord, fileName: string): RecordView {
  const { entry, problem } = decodePayload(record);
  return {
    lsn: record.lsn,
    op: operationName(record.opType),
    payloadBytes: record.payload.length,
    fileName,
    offset: record.offset,
    entry: entry === undefined ? undefined : entryToJson(entry),
    problem,
  };
}

function headerOf(bytes: Buffer): SegmentHeader | undefined {
  try {
    return decodeSegmentHeader(bytes);
  } catch {
    // scanSegment reports the same error as the stop reason.
    return undefined;
  }
}
