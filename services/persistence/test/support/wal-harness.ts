import path from "node:path";
import type { WalSyncMode } from "@t4dm/config";
import { createLogger, type Logger } from "@t4dm/telemetry";
import { parseSegmentFileName, scanRecords, SEGMENT_HEADER_BYTES, decodeSegmentHeader, type WalRecordData } from "@t4dm/wal-format";
import type { FileLayer } from "../../src/storage/file-layer.js";
import { openWal, type OpenedWal } from "../../src/wal/open-wal.js";

export const DATA_DIR = "/data";
export const WAL_DIR = path.join(DATA_DIR, "wal");

/** A logger that keeps its lines for assertions. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: "debug", service: "test", write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

export interface HarnessOptions {
  syncMode?: WalSyncMode;
  segmentBytes?: number;
  maxSegments?: number;
  newestCheckpointLsn?: number;
}

export async function open(layer: FileLayer, options: HarnessOptions = {}): Promise<OpenedWal & { lines: Record<string, unknown>[] }> {
  const { logger, lines } = captureLogger();
  let salt = 0x1000;
  const opened = await openWal({
    layer,
    dataDir: DATA_DIR,
    syncMode: options.syncMode ?? "fdatasync",
    segmentBytes: options.segmentBytes ?? 64 * 1024,
    maxSegments: options.maxSegments ?? 100,
    newestCheckpointLsn: options.newestCheckpointLsn ?? 0,
    logger,
    randomSalt: () => ++salt,
  });
  return { ...opened, lines };
}

/** A recognisable payload for LSN n, of varying length. */
export function payloadFor(lsn: number, size = 20 + (lsn % 7) * 9): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (lsn * 31 + i * 7) & 0xff;
  return bytes;
}

export function record(lsn: number, size?: number): WalRecordData {
  return { lsn, opType: 10, payload: payloadFor(lsn, size) };
}

export function records(from: number, to: number, size?: number): WalRecordData[] {
  const out: WalRecordData[] = [];
  for (let lsn = from; lsn <= to; lsn++) out.push(record(lsn, size));
  return out;
}

/** Every valid record on disk, in order, checked against payloadFor. */
export async function readBack(layer: FileLayer): Promise<number[]> {
  const names = (await layer.readdir(WAL_DIR)).filter((n) => parseSegmentFileName(n) !== undefined).sort();
  const lsns: number[] = [];
  for (const name of names) {
    const bytes = await layer.readFile(path.join(WAL_DIR, name));
    const header = decodeSegmentHeader(bytes);
    scanRecords(bytes, { salt: header.salt, firstLsn: header.firstLsn, offset: SEGMENT_HEADER_BYTES }, (r) => {
      if (!Buffer.from(r.payload).equals(payloadFor(r.lsn, r.payload.length))) throw new Error(`payload of LSN ${r.lsn} differs`);
      lsns.push(r.lsn);
    });
  }
  return lsns;
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
