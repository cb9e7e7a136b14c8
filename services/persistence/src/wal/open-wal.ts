import path from "node:path";
import { decodeSegmentHeader, parseSegmentFileName, SEGMENT_HEADER_BYTES, type ScannedRecord, type WalRecordData } from "@t4dm/wal-format";
import type { WalSyncMode } from "@t4dm/config";
import type { Logger } from "@t4dm/telemetry";
import type { FileLayer } from "../storage/file-layer.js";
import { LsnFingerprints } from "./lsn-fingerprints.js";
import { judgeWal, type Corruption, type TailRepair } from "./recovery-policy.js";
import { WalCorruptError } from "./wal-errors.js";
import { scanWalDirectory, type SegmentScan } from "./wal-scan.js";
import { WalWriter, type SegmentInfo } from "./wal-writer.js";

export interface OpenWalOptions {
  layer: FileLayer;
  dataDir: string;
  syncMode: WalSyncMode;
  segmentBytes: number;
  maxSegments: number;
  /** The highest checkpoint LSN on disk: damage at or below it is never a torn tail. */
  newestCheckpointLsn: number;
  logger: Logger;
  /** Sees every valid record on disk, in LSN order (for example to find checkpoint commits). */
  onRecord?: (record: ScannedRecord) => void;
  randomSalt?: () => number;
  /** See WalWriterOptions.isCapExempt. */
  isCapExempt?: (record: WalRecordData) => boolean;
}

export interface OpenedWal {
  writer: WalWriter;
  /** What recovery cut off, if anything. */
  repair?: TailRepair;
  /** Temp files from an interrupted segment cut that were removed. */
  removedTempFiles: string[];
}

/**
 * Opens the WAL for writing after a crash or a clean stop: removes temp
 * files of interrupted cuts, scans every segment, cuts off a torn tail in the
 * newest one (keeping the bytes in a `.broken` file), and refuses to start
 * with a WalCorruptError, after copying the damaged file to quarantine/,
 * when the damage is anything else.
 */
export async function openWal(options: OpenWalOptions): Promise<OpenedWal> {
  const { layer, logger } = options;
  const dir = path.join(options.dataDir, "wal");
  await layer.mkdir(dir);

  const removedTempFiles = (await layer.readdir(dir)).filter((name) => name.endsWith(".tmp"));
  for (const name of removedTempFiles) await layer.unlink(path.join(dir, name));
  if (removedTempFiles.length > 0) {
    await layer.syncDir(dir);
    logger.warn("removed temp files of an interrupted segment cut", { event: "wal.temp_removed", files: removedTempFiles });
  }

  // Remember the newest records' fingerprints: a writer reconnecting after our
  // restart re-sends LSNs we made durable, and we must tell those from forgeries.
  const fingerprints = new LsnFingerprints();
  const fingerprintFrom = await oldestLsnToFingerprint(layer, dir, fingerprints.capacity);
  const scan = await scanWalDirectory(layer, dir, (record) => {
    if (record.lsn >= fingerprintFrom) fingerprints.remember(record);
    options.onRecord?.(record);
  });
  const verdict = judgeWal(scan, options.newestCheckpointLsn);
  if (verdict.kind === "corrupt") {
    await quarantine(layer, options.dataDir, dir, verdict.corruption);
    const { fileName, offset, lsn, reason } = verdict.corruption;
    throw new WalCorruptError(fileName, offset, lsn, reason);
  }

  let segments = scan.segments;
  let repair: TailRepair | undefined;
  if (verdict.kind === "repair") {
    repair = verdict.repair;
    segments = await applyRepair(layer, dir, segments, repair);
    logger.warn("cut a torn tail off the newest WAL segment", {
      event: "wal.tail_repaired",
      file: repair.fileName,
      offset: repair.truncateAt,
      droppedBytes: repair.droppedBytes,
      reason: repair.reason,
      keptIn: repair.keepBrokenBytes ? brokenName(repair) : undefined,
    });
  }

  const infos: SegmentInfo[] = segments.map((s) => ({
    index: s.index,
    fileName: s.fileName,
    salt: s.header!.salt,
    firstLsn: s.firstLsn,
    lastLsn: s.lastLsn,
    bytes: s.validEnd,
  }));
  const writer = await WalWriter.open(
    { layer, dir, syncMode: options.syncMode, segmentBytes: options.segmentBytes, maxSegments: options.maxSegments, randomSalt: options.randomSalt, isCapExempt: options.isCapExempt },
    infos,
    // Only when no segment is left: reuse the removed one's number, or start at 1.
    { index: scan.segments.at(-1)?.index ?? 1, firstLsn: options.newestCheckpointLsn + 1 },
    fingerprints,
  );
  return { writer, repair, removedTempFiles };
}

/**
 * The ring keeps the newest `capacity` LSNs, and the WAL, if it opens at
 * all, runs contiguously into its newest segment, so no record more than
 * `capacity` below that segment's first LSN can be among them: those need no
 * fingerprint (a second CRC over every payload at open). 0 when the newest
 * segment's header cannot tell.
 */
async function oldestLsnToFingerprint(layer: FileLayer, dir: string, capacity: number): Promise<number> {
  const indexes = (await layer.readdir(dir)).map((name) => ({ name, index: parseSegmentFileName(name) }));
  const newest = indexes.filter((entry) => entry.index !== undefined).sort((a, b) => b.index! - a.index!)[0];
  if (!newest) return 0;
  const handle = await layer.open(path.join(dir, newest.name), "read");
  try {
    return Math.max(0, decodeSegmentHeader(await handle.read(SEGMENT_HEADER_BYTES, 0)).firstLsn - capacity);
  } catch {
    return 0;
  } finally {
    await handle.close();
  }
}

async function applyRepair(layer: FileLayer, dir: string, segments: SegmentScan[], repair: TailRepair): Promise<SegmentScan[]> {
  const file = path.join(dir, repair.fileName);
  if (repair.keepBrokenBytes) {
    const bytes = await layer.readFile(file);
    await writeDurably(layer, path.join(dir, brokenName(repair)), bytes.subarray(repair.truncateAt));
  }
  if (repair.removeFile) {
    await layer.unlink(file);
    await layer.syncDir(dir);
    return segments.filter((s) => s.fileName !== repair.fileName);
  }
  const handle = await layer.open(file, "write");
  try {
    await handle.truncate(repair.truncateAt);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await layer.syncDir(dir);
  return segments.map((s) => (s.fileName === repair.fileName ? { ...s, size: repair.truncateAt, stop: { kind: "end" } } : s));
}

/** `segment_00000003.wal.4096.broken`: the cut bytes and where they were cut. */
function brokenName(repair: TailRepair): string {
  return `${repair.fileName}.${repair.truncateAt}.broken`;
}

/** Copies the damaged file aside for an operator; the original stays for salvage. */
async function quarantine(layer: FileLayer, dataDir: string, dir: string, corruption: Corruption): Promise<void> {
  const target = path.join(dataDir, "quarantine");
  await layer.mkdir(target);
  const bytes = await layer.readFile(path.join(dir, corruption.fileName));
  const name = `${corruption.fileName}.${Date.now()}`;
  await writeDurably(layer, path.join(target, name), bytes);
  await layer.syncDir(target);
}

async function writeDurably(layer: FileLayer, file: string, bytes: Buffer): Promise<void> {
  try {
    await layer.unlink(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const handle = await layer.open(file, "create");
  try {
    await handle.writev([bytes], 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
