import path from "node:path";
import { parseCheckpointFileName, type ScannedRecord } from "@t4dm/wal-format";
import type { FileLayer } from "../storage/file-layer.js";
import { scanWalDirectory, type SegmentScan, type WalScan } from "../wal/wal-scan.js";
import { checkCheckpoint, type CheckpointCheck } from "./checkpoint-check.js";
import { DataDirError } from "./cli-errors.js";

export interface CheckpointDirectory {
  /** False when there is no checkpoints/ directory. */
  present: boolean;
  /** Checkpoint files by LSN, oldest first. */
  checks: CheckpointCheck[];
  /** Anything else in checkpoints/ (temp files of an interrupted write). */
  otherFiles: string[];
  /** The highest LSN in a checkpoint file name, valid or not, as recovery sees it; 0 when none. */
  newestLsn: number;
}

/** The data directory's entries; a DataDirError when it cannot be listed. */
export async function listDataDir(layer: FileLayer, dataDir: string): Promise<Set<string>> {
  try {
    return new Set(await layer.readdir(dataDir));
  } catch (error) {
    throw new DataDirError(dataDir, { cause: error });
  }
}

/** scanWalDirectory, or an empty scan when there is no wal/ (a fresh data directory). */
export async function scanWal(
  layer: FileLayer,
  dataDir: string,
  entries: Set<string>,
  onRecord?: (record: ScannedRecord, segment: SegmentScan) => void,
): Promise<WalScan> {
  const dir = path.join(dataDir, "wal");
  if (!entries.has("wal")) return { dir, segments: [], otherFiles: [] };
  return scanWalDirectory(layer, dir, onRecord);
}

export async function readCheckpoints(layer: FileLayer, dataDir: string, entries: Set<string>): Promise<CheckpointDirectory> {
  if (!entries.has("checkpoints")) return { present: false, checks: [], otherFiles: [], newestLsn: 0 };
  const dir = path.join(dataDir, "checkpoints");
  const names = await layer.readdir(dir);
  const files = names
    .map((name) => ({ name, lsn: parseCheckpointFileName(name) }))
    .filter((file): file is { name: string; lsn: number } => file.lsn !== undefined)
    .sort((a, b) => a.lsn - b.lsn);
  const checks: CheckpointCheck[] = [];
  // One file at a time: checkpoints can be large.
  for (const file of files) checks.push(checkCheckpoint(file.name, file.lsn, await layer.readFile(path.join(dir, file.name))));
  const otherFiles = names.filter((name) => parseCheckpointFileName(name) === undefined).sort();
  return { present: true, checks, otherFiles, newestLsn: files.at(-1)?.lsn ?? 0 };
}
