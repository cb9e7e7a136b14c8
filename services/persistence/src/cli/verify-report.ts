import { judgeWal } from "../wal/recovery-policy.js";
import type { WalScan } from "../wal/wal-scan.js";
import type { CheckpointCheck } from "./checkpoint-check.js";
import { ExitCode, type ExitCodeValue } from "./exit-codes.js";
import {
  otherCheckpointFileLine,
  otherWalFileLine,
  plural,
  verdictLine,
  verifyCheckpointLine,
  verifySegmentLine,
} from "./format.js";
import type { CheckpointDirectory } from "./read-data-dir.js";

export interface PayloadProblem {
  fileName: string;
  offset: number;
  lsn: number;
  reason: string;
}

export interface VerifyInput {
  scan: WalScan;
  checkpoints: CheckpointDirectory;
  /** Valid records whose payload was decoded. */
  payloadsChecked: number;
  /** The first few payload problems, in LSN order… */
  payloadProblems: PayloadProblem[];
  /** …and how many there were in all. */
  payloadProblemCount: number;
  /** Checkpoint LSN → LSN of the CHECKPOINT_COMPLETE record that commits it. */
  commits: ReadonlyMap<number, number>;
}

export interface VerifyReport {
  lines: string[];
  exitCode: ExitCodeValue;
}

/**
 * Grades what verify read. The WAL verdict is the recovery policy's own
 * (judgeWal), so the tool and the sidecar cannot disagree about a torn tail;
 * checkpoints, payloads and WAL coverage add what only an offline pass checks.
 */
export function verifyReport(input: VerifyInput): VerifyReport {
  const { scan, checkpoints } = input;
  const lines: string[] = [];
  let exitCode: ExitCodeValue = ExitCode.clean;
  const raise = (code: ExitCodeValue) => (exitCode = Math.max(exitCode, code) as ExitCodeValue);

  lines.push(...scan.segments.map(verifySegmentLine), ...scan.otherFiles.map(otherWalFileLine));
  lines.push(...checkpoints.checks.map((check) => verifyCheckpointLine(check, input.commits.get(check.nameLsn))));
  lines.push(...checkpoints.otherFiles.map(otherCheckpointFileLine));

  const verdict = judgeWal(scan, checkpoints.newestLsn);
  lines.push(verdict.kind === "clean" ? `wal: clean (${walSummary(scan)})` : verdictLine(verdict));
  if (verdict.kind === "repair") raise(ExitCode.tornTail);
  if (verdict.kind === "corrupt") raise(ExitCode.corrupt);

  const bad = checkpoints.checks.filter((check) => check.problem !== undefined);
  if (!checkpoints.present) lines.push("checkpoints: none (no checkpoints/ directory)");
  else if (bad.length === 0) lines.push(`checkpoints: ${plural(checkpoints.checks.length, "file")}, all verify`);
  else {
    raise(ExitCode.corrupt);
    for (const check of bad) lines.push(`checkpoints: corrupt: ${check.fileName}: ${check.problem}`);
  }

  if (input.payloadProblemCount === 0) {
    lines.push(`payloads: ${plural(input.payloadsChecked, "record")} decode and match their op type`);
  } else {
    raise(ExitCode.corrupt);
    for (const p of input.payloadProblems) lines.push(`payloads: corrupt: ${p.fileName} at offset ${p.offset}, LSN ${p.lsn}: ${p.reason}`);
    const more = input.payloadProblemCount - input.payloadProblems.length;
    if (more > 0) lines.push(`payloads: … and ${more} more`);
  }

  const gap = coverageGap(scan, checkpoints.checks, input.commits);
  if (gap !== undefined) {
    raise(ExitCode.corrupt);
    lines.push(`coverage: corrupt: ${gap}`);
  }

  lines.push(exitCode === ExitCode.clean ? "result: clean" : `result: ${exitCode === ExitCode.tornTail ? "torn tail" : "corrupt"} (exit ${exitCode})`);
  return { lines, exitCode };
}

function walSummary(scan: WalScan): string {
  const first = scan.segments[0];
  const last = scan.segments.at(-1);
  if (first === undefined || last === undefined) return "no segments";
  const records = scan.segments.reduce((sum, s) => sum + s.recordCount, 0);
  if (records === 0) return `no records in ${plural(scan.segments.length, "segment")}`;
  return `LSN ${first.firstLsn}..${last.lastLsn} in ${plural(scan.segments.length, "segment")}`;
}

/**
 * Recovery loads the newest committed checkpoint that verifies and replays
 * the WAL after it, so the oldest segment must start at or below that LSN + 1;
 * a later start means LSNs that exist nowhere (fault 7: the WAL must be kept
 * far enough back to fall back to an older checkpoint).
 */
function coverageGap(scan: WalScan, checks: CheckpointCheck[], commits: ReadonlyMap<number, number>): string | undefined {
  const first = scan.segments[0];
  if (first?.header === undefined) return undefined;
  const usable = checks.filter((c) => c.problem === undefined && commits.has(c.nameLsn)).map((c) => c.nameLsn);
  const base = Math.max(0, ...usable);
  if (first.firstLsn <= base + 1) return undefined;
  const from = base === 0 ? "there is no valid committed checkpoint" : `the newest valid committed checkpoint is at LSN ${base}`;
  const missing = first.firstLsn - 1 === base + 1 ? `LSN ${base + 1} is` : `LSNs ${base + 1}..${first.firstLsn - 1} are`;
  return `the WAL starts at LSN ${first.firstLsn} but ${from}: ${missing} in no valid checkpoint or segment`;
}
