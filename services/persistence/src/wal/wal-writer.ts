import path from "node:path";
import { randomInt } from "node:crypto";
import type { WalSyncMode } from "@t4dm/config";
import {
  encodeRecordHeader,
  encodeSegmentHeader,
  MAX_PAYLOAD_BYTES,
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
  segmentFileName,
  type WalRecordData,
} from "@t4dm/wal-format";
import type { FileHandle, FileLayer } from "../storage/file-layer.js";
import { LsnFingerprints } from "./lsn-fingerprints.js";
import { LsnConflictError, LsnGapError, RecordRejectedError, WalFullError, WalPoisonedError } from "./wal-errors.js";

/** A segment the writer knows: sealed ones, then the active one last. */
export interface SegmentInfo {
  index: number;
  fileName: string;
  salt: number;
  firstLsn: number;
  /** firstLsn - 1 while empty. */
  lastLsn: number;
  /** Bytes written so far, header included. */
  bytes: number;
}

export interface WalWriterOptions {
  layer: FileLayer;
  dir: string;
  syncMode: WalSyncMode;
  segmentBytes: number;
  maxSegments: number;
  /** Ask for a checkpoint once this many segments exist. */
  checkpointRequestSegments?: number;
  /** Salt source; injectable so tests can make segments reproducible. */
  randomSalt?: () => number;
  /**
   * Records the size cap must let through, so the checkpoint commit that
   * frees space can always be logged (without it, a full WAL would deadlock).
   */
  isCapExempt?: (record: WalRecordData) => boolean;
  /**
   * Bytes at the end of the last segment that only cap-exempt records may
   * use, so they fit under the cap even after ordinary writes filled it.
   * Defaults to 8 KiB (an eighth of a segment at most).
   */
  capReserveBytes?: number;
}

/** What `tryAppend` decided, synchronously: refused at once, or durable later. */
export type AppendOutcome = { refused: Error } | { durable: Promise<number> };

interface Waiter {
  lsn: number;
  resolve: (durableLsn: number) => void;
  reject: (error: Error) => void;
}

/**
 * Appends records to the active segment with group commit: while one
 * write+sync is in flight, new records queue; when it returns, the whole
 * queue goes out in one writev and one sync. Callers learn "durable up to n".
 * At most one sync is ever in flight. Any write or sync error poisons the
 * writer: it acknowledges nothing more and never retries (fsyncgate).
 */
export class WalWriter {
  private readonly segments: SegmentInfo[];
  private handle: FileHandle;
  private lastAccepted: number;
  private durable: number;
  private queue: WalRecordData[] = [];
  private readonly waiters: Waiter[] = [];
  private flushing = false;
  private poison: WalPoisonedError | undefined;
  private readonly fingerprints: LsnFingerprints;
  private readonly durableListeners: ((records: readonly WalRecordData[]) => void)[] = [];
  private readonly poisonListeners: ((error: WalPoisonedError) => void)[] = [];
  private readonly spaceListeners: (() => void)[] = [];
  /**
   * Where the accepted records will end up (segment count, bytes in the last
   * one) once written, by the same cut rule `write` follows: the cap is judged
   * on this, so records queued or being written count too.
   */
  private plannedSegments: number;
  private plannedActiveBytes: number;
  /** An ordinary append was refused at the cap; cleared when segments are freed. */
  private capReached = false;
  private readonly randomSalt: () => number;
  private idle: Promise<void> = Promise.resolve();
  /** Sync count and total seconds, for the sync-latency metric. */
  syncs = 0;
  syncSeconds = 0;
  private markIdle: () => void = () => {};

  private constructor(
    private readonly options: WalWriterOptions,
    segments: SegmentInfo[],
    handle: FileHandle,
    fingerprints: LsnFingerprints,
  ) {
    this.fingerprints = fingerprints;
    this.segments = segments;
    this.handle = handle;
    this.lastAccepted = this.active.lastLsn;
    this.durable = this.active.lastLsn;
    this.plannedSegments = segments.length;
    this.plannedActiveBytes = this.active.bytes;
    this.randomSalt = options.randomSalt ?? (() => randomInt(1, 0xffffffff));
  }

  /**
   * Opens the writer on recovered segments (oldest first, the last one active
   * and already repaired), or creates the `fresh` segment when there are none.
   */
  static async open(
    options: WalWriterOptions,
    segments: SegmentInfo[],
    fresh: { index: number; firstLsn: number } = { index: 1, firstLsn: 1 },
    /** Fingerprints of the newest records on disk, so re-sends after a restart can be verified. */
    fingerprints: LsnFingerprints = new LsnFingerprints(),
  ): Promise<WalWriter> {
    const known = segments.map((s) => ({ ...s }));
    if (known.length === 0) {
      const salt = (options.randomSalt ?? (() => randomInt(1, 0xffffffff)))();
      const handle = await createSegment(options.layer, options.dir, { ...fresh, salt });
      known.push({ ...fresh, fileName: segmentFileName(fresh.index), salt, lastLsn: fresh.firstLsn - 1, bytes: SEGMENT_HEADER_BYTES });
      return new WalWriter(options, known, handle, fingerprints);
    }
    const active = known[known.length - 1]!;
    const handle = await options.layer.open(path.join(options.dir, active.fileName), "write");
    return new WalWriter(options, known, handle, fingerprints);
  }

  get durableLsn(): number {
    return this.durable;
  }

  get lastAcceptedLsn(): number {
    return this.lastAccepted;
  }

  get poisoned(): WalPoisonedError | undefined {
    return this.poison;
  }

  /** Segments oldest first; the last is active. Copies, safe to keep. */
  get segmentList(): SegmentInfo[] {
    return this.segments.map((s) => ({ ...s }));
  }

  get totalBytes(): number {
    return this.segments.reduce((sum, s) => sum + s.bytes, 0);
  }

  /** True once the WAL is close to its cap: a checkpoint would let old segments go. */
  get checkpointRequested(): boolean {
    const threshold = this.options.checkpointRequestSegments ?? Math.max(2, Math.ceil(this.options.maxSegments * 0.75));
    return this.capReached || this.segments.length >= threshold;
  }

  /** True from an append refused at the cap until a checkpoint lets segments go. */
  get full(): boolean {
    return this.capReached;
  }

  /** Called when deleting segments ended a `full` spell: ordinary appends fit again. */
  onSpaceFreed(listener: () => void): void {
    this.spaceListeners.push(listener);
  }

  onDurable(listener: (records: readonly WalRecordData[]) => void): void {
    this.durableListeners.push(listener);
  }

  onPoisoned(listener: (error: WalPoisonedError) => void): void {
    this.poisonListeners.push(listener);
  }

  /**
   * Accepts records in LSN order and resolves with the durable LSN once all
   * of them are durable. The whole call is refused, and nothing queued, if
   * any record would leave a gap or re-sends an LSN with other content. An
   * identical re-send of an accepted LSN is acknowledged again.
   */
  append(records: readonly WalRecordData[]): Promise<number> {
    const outcome = this.tryAppend(records);
    return "refused" in outcome ? Promise.reject(outcome.refused) : outcome.durable;
  }

  /**
   * `append`, with the refusal decided synchronously: a caller that must
   * know before its next message whether this one was taken (the Append
   * stream, after a cap refusal) needs no microtask ordering.
   */
  tryAppend(records: readonly WalRecordData[]): AppendOutcome {
    const refuse = (error: Error) => ({ refused: error });
    if (this.poison) return refuse(this.poison);
    let next = this.lastAccepted;
    let target = 0;
    const fresh: WalRecordData[] = [];
    for (const record of records) {
      target = Math.max(target, record.lsn);
      if (!Number.isSafeInteger(record.lsn) || record.lsn < 1) {
        return refuse(new LsnConflictError(`invalid LSN ${record.lsn}`, next + 1, record.lsn));
      }
      if (record.lsn <= next) {
        if (fresh.length > 0) {
          return refuse(new LsnConflictError(`LSN ${record.lsn} out of order after ${next}`, next + 1, record.lsn));
        }
        const same = this.fingerprints.matches(record);
        if (same === undefined) {
          return refuse(new LsnConflictError(`re-sent LSN ${record.lsn} is too old to verify`, next + 1, record.lsn));
        }
        if (!same) {
          return refuse(new LsnConflictError(`re-sent LSN ${record.lsn} differs from the record already accepted`, next + 1, record.lsn));
        }
        continue;
      }
      if (record.lsn !== next + 1) {
        return refuse(new LsnGapError(`LSN ${record.lsn} would leave a gap after ${next}`, next + 1, record.lsn));
      }
      if (record.payload.length > MAX_PAYLOAD_BYTES) {
        return refuse(new RecordRejectedError(`record ${record.lsn} is larger than ${MAX_PAYLOAD_BYTES} bytes`, record.lsn));
      }
      fresh.push(record);
      next = record.lsn;
    }
    const exempt = this.options.isCapExempt;
    const layout = this.planLayout(fresh);
    // Cap-exempt records always go in (the reserve is there for them): refusing them would deadlock.
    // Once full, stays full until segments are freed: a small record must not slip into the reserve.
    if (fresh.length > 0 && !(exempt && fresh.every(exempt)) && (this.capReached || this.passesCap(layout))) {
      this.capReached = true;
      return refuse(new WalFullError(this.segments.length, this.options.maxSegments, fresh[0]!.lsn));
    }
    this.plannedSegments = layout.segments;
    this.plannedActiveBytes = layout.activeBytes;
    for (const record of fresh) this.fingerprints.remember(record);
    this.queue.push(...fresh);
    this.lastAccepted = next;

    if (target <= this.durable) return { durable: Promise.resolve(this.durable) };
    const promise = new Promise<number>((resolve, reject) => this.waiters.push({ lsn: target, resolve, reject }));
    void this.pump();
    return { durable: promise };
  }

  /**
   * Deletes sealed segments whose every record is at or below `lsn`, oldest
   * first, then makes the deletions durable. Never touches the active segment.
   */
  async deleteSegmentsThrough(lsn: number): Promise<string[]> {
    const deleted: string[] = [];
    while (this.segments.length > 1 && this.segments[0]!.lastLsn <= lsn) {
      const segment = this.segments[0]!;
      await this.options.layer.unlink(path.join(this.options.dir, segment.fileName));
      this.segments.shift();
      this.plannedSegments -= 1;
      deleted.push(segment.fileName);
    }
    if (deleted.length > 0) await this.options.layer.syncDir(this.options.dir);
    if (deleted.length > 0 && this.capReached) {
      this.capReached = false;
      for (const listener of this.spaceListeners) listener();
    }
    return deleted;
  }

  /** Waits for queued records to be written (or the writer to be poisoned), then closes the file. */
  async close(): Promise<void> {
    while (this.flushing) await this.idle;
    await this.handle.close();
  }

  private get active(): SegmentInfo {
    return this.segments[this.segments.length - 1]!;
  }

  /** Where the planned tail would end with `fresh` added, cutting as `write` will. */
  private planLayout(fresh: readonly WalRecordData[]): { segments: number; activeBytes: number } {
    let segments = this.plannedSegments;
    let activeBytes = this.plannedActiveBytes;
    for (const record of fresh) {
      const frameBytes = RECORD_HEADER_BYTES + record.payload.length;
      if (activeBytes > SEGMENT_HEADER_BYTES && activeBytes + frameBytes > this.options.segmentBytes) {
        segments += 1;
        activeBytes = SEGMENT_HEADER_BYTES;
      }
      activeBytes += frameBytes;
    }
    return { segments, activeBytes };
  }

  /** Ordinary records must leave the reserve free in the last segment the cap allows. */
  private passesCap(layout: { segments: number; activeBytes: number }): boolean {
    const reserve = this.options.capReserveBytes ?? Math.min(8 * 1024, Math.floor(this.options.segmentBytes / 8));
    if (layout.segments < this.options.maxSegments) return false;
    return layout.segments > this.options.maxSegments || layout.activeBytes > this.options.segmentBytes - reserve;
  }

  private async pump(): Promise<void> {
    if (this.flushing || this.poison) return;
    this.flushing = true;
    this.idle = new Promise((resolve) => (this.markIdle = resolve));
    try {
      while (this.queue.length > 0 && !this.poison) {
        const batch = this.queue;
        this.queue = [];
        await this.write(batch);
        if (this.options.syncMode !== "none") {
          const started = process.hrtime.bigint();
          if (this.options.syncMode === "fsync") await this.handle.sync();
          else await this.handle.datasync();
          this.syncs += 1;
          this.syncSeconds += Number(process.hrtime.bigint() - started) / 1e9;
        }
        this.durable = batch[batch.length - 1]!.lsn;
        this.settle();
        for (const listener of this.durableListeners) listener(batch);
      }
    } catch (error) {
      this.poisonWith(error);
    } finally {
      this.flushing = false;
      this.markIdle();
    }
  }

  /** Writes a batch with one writev per segment it lands in, cutting segments as they fill. */
  private async write(batch: readonly WalRecordData[]): Promise<void> {
    let frames: Buffer[] = [];
    let bytes = 0;
    let lastLsn = 0;
    const flushFrames = async () => {
      if (frames.length === 0) return;
      await this.handle.writev(frames, this.active.bytes);
      this.active.bytes += bytes;
      this.active.lastLsn = lastLsn;
      frames = [];
      bytes = 0;
    };
    for (const record of batch) {
      const frameBytes = RECORD_HEADER_BYTES + record.payload.length;
      const segmentHasData = this.active.bytes + bytes > SEGMENT_HEADER_BYTES;
      if (segmentHasData && this.active.bytes + bytes + frameBytes > this.options.segmentBytes) {
        await flushFrames();
        await this.cut(record.lsn);
      }
      // Header and payload go to writev side by side: the payload is never copied.
      frames.push(encodeRecordHeader(record, this.active.salt), toBuffer(record.payload));
      bytes += frameBytes;
      lastLsn = record.lsn;
    }
    await flushFrames();
  }

  /**
   * Seals the active segment and starts the next: sync the old file, write
   * the new header to a temp file, sync it, rename it into place, sync the
   * directory. A crash at any step leaves either no new segment or a whole one.
   */
  private async cut(firstLsn: number): Promise<void> {
    if (this.options.syncMode === "fsync") await this.handle.sync();
    else await this.handle.datasync();
    const index = this.active.index + 1;
    const salt = this.randomSalt();
    const next = await createSegment(this.options.layer, this.options.dir, { index, firstLsn, salt });
    const old = this.handle;
    this.handle = next;
    this.segments.push({ index, fileName: segmentFileName(index), salt, firstLsn, lastLsn: firstLsn - 1, bytes: SEGMENT_HEADER_BYTES });
    await old.close();
  }

  private settle(): void {
    while (this.waiters.length > 0 && this.waiters[0]!.lsn <= this.durable) this.waiters.shift()!.resolve(this.durable);
  }

  private poisonWith(error: unknown): void {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = `${code ? `${code}: ` : ""}${(error as Error).message}`;
    this.poison = new WalPoisonedError(reason, { cause: error });
    this.queue = [];
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.poison);
    for (const listener of this.poisonListeners) listener(this.poison);
  }
}

/** temp file → header → sync → rename → sync the directory. */
async function createSegment(layer: FileLayer, dir: string, header: { index: number; firstLsn: number; salt: number }): Promise<FileHandle> {
  const finalPath = path.join(dir, segmentFileName(header.index));
  const tempPath = `${finalPath}.tmp`;
  try {
    await layer.unlink(tempPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const handle = await layer.open(tempPath, "create");
  await handle.writev([encodeSegmentHeader(header)], 0);
  await handle.sync();
  await layer.rename(tempPath, finalPath);
  await layer.syncDir(dir);
  return handle;
}

/** A Buffer view of the bytes (no copy), as FileHandle.writev wants. */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
