import path from "node:path";
import { persistenceV1 } from "@t4dm/proto";
import type { Config } from "@t4dm/config";
import type { Logger } from "@t4dm/telemetry";
import type { WalRecordData } from "@t4dm/wal-format";
import type { CheckpointStore } from "./checkpoints/checkpoint-store.js";
import { checkpointCommitOf, type CheckpointCommit } from "./checkpoint-commits.js";
import type { FileLayer } from "./storage/file-layer.js";
import type { TailRepair } from "./wal/recovery-policy.js";
import { readSegmentRecords } from "./wal/segment-reader.js";
import type { AppendOutcome, WalWriter } from "./wal/wal-writer.js";

/** Recovery cannot reach the last durable LSN from any valid checkpoint. */
export class RecoveryDataLossError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RecoveryDataLossError";
  }
}

/** A checkpoint for a state the WAL has not made durable yet. */
export class CheckpointAheadError extends Error {
  constructor(readonly lsn: number, readonly durableLsn: number) {
    super(`checkpoint at LSN ${lsn} is ahead of the durable LSN ${durableLsn}`);
    this.name = "CheckpointAheadError";
  }
}

const SYNC_MODES = {
  fsync: persistenceV1.SyncMode.SYNC_MODE_FSYNC,
  fdatasync: persistenceV1.SyncMode.SYNC_MODE_FDATASYNC,
  none: persistenceV1.SyncMode.SYNC_MODE_NONE,
} as const;

/** Chunks of at most this many bytes on the recovery stream. */
const RECOVERY_CHUNK_BYTES = 1024 * 1024;
/** Segment bytes per read while streaming the tail. */
const RECOVERY_READ_BYTES = 4 * 1024 * 1024;

export interface SidecarParts {
  layer: FileLayer;
  walDir: string;
  writer: WalWriter;
  checkpoints: CheckpointStore;
  /** Commits found in the WAL on open. */
  commits: Map<number, CheckpointCommit>;
  repair?: TailRepair;
  config: Pick<Config, "walSyncMode" | "walSegmentBytes" | "walMaxSegments">;
  logger: Logger;
}

/**
 * The sidecar's behaviour, apart from gRPC: appends through the WAL writer,
 * checkpoints that count once their CHECKPOINT_COMPLETE record is durable,
 * retention of checkpoints and segments, and the recovery stream.
 */
export class Sidecar {
  private maintenance: Promise<void> = Promise.resolve();
  /** Committed checkpoints the last recovery could not load: status never reports them as the newest. */
  private readonly unusable = new Set<number>();

  constructor(private readonly parts: SidecarParts) {
    parts.writer.onDurable((records) => this.onDurable(records));
  }

  get writer(): WalWriter {
    return this.parts.writer;
  }

  append(records: readonly WalRecordData[]): Promise<number> {
    return this.parts.writer.append(records);
  }

  /** `append`, with a refusal known before the caller's next message (see WalWriter.tryAppend). */
  tryAppend(records: readonly WalRecordData[]): AppendOutcome {
    return this.parts.writer.tryAppend(records);
  }

  /** Stores a checkpoint file; it counts once the writer logs its CHECKPOINT_COMPLETE. */
  async writeCheckpoint(input: { lsn: number; stateFormatVersion: number; stateHash: Buffer; body: Buffer }): Promise<persistenceV1.WriteCheckpointResponse> {
    const durable = this.parts.writer.durableLsn;
    if (input.lsn > durable) throw new CheckpointAheadError(input.lsn, durable);
    const written = await this.parts.checkpoints.write(input);
    this.parts.logger.info("checkpoint written; awaiting its commit record", {
      event: "checkpoint.written",
      lsn: input.lsn,
      file: written.fileName,
      sizeBytes: written.sizeBytes,
    });
    // compressed_bytes keeps its wire name (buf breaking); it carries the file's size, a gzip file now.
    return { lsn: input.lsn, fileName: written.fileName, compressedBytes: written.sizeBytes, sha256: written.sha256 };
  }

  /**
   * The recovery stream: the plan, the newest valid committed checkpoint in
   * chunks, every durable record after its LSN, and a completion message.
   */
  async *recover(): AsyncGenerator<persistenceV1.RecoverResponse> {
    const durableLsn = this.parts.writer.durableLsn;
    const committed = new Set(this.parts.commits.keys());
    const selection = await this.parts.checkpoints.selectNewestValid(committed);
    const chosen = selection.chosen;
    const startLsn = chosen?.lsn ?? 0;
    const segments = this.parts.writer.segmentList;
    const oldest = segments[0]!;
    if (oldest.firstLsn > startLsn + 1) {
      throw new RecoveryDataLossError(
        `no valid checkpoint reaches the WAL: ${chosen ? `checkpoint ${startLsn}` : "no checkpoint"} but the WAL starts at LSN ${oldest.firstLsn}` +
          (selection.rejected.length ? `; rejected: ${selection.rejected.map((r) => `${r.fileName} (${r.reason})`).join(", ")}` : ""),
      );
    }
    for (const bad of selection.corrupt) {
      this.unusable.add(bad.lsn);
      this.parts.logger.warn("checkpoint rejected; recovery falls back to an older one", {
        event: "checkpoint.rejected",
        file: bad.fileName,
        reason: bad.reason,
        fallbackFile: chosen?.fileName,
      });
    }
    this.parts.logger.info("recovery requested", {
      event: "recovery.plan",
      checkpointLsn: chosen?.lsn,
      checkpointFile: chosen?.fileName,
      rejected: selection.rejected,
      durableLsn,
    });
    yield {
      part: {
        $case: "plan",
        value: {
          checkpoint: chosen
            ? { lsn: chosen.lsn, formatVersion: chosen.header.stateFormatVersion, stateHash: chosen.header.stateHash, bodyBytes: chosen.body.length }
            : undefined,
          checkpointFileName: chosen?.fileName ?? "",
          rejectedCheckpoints: selection.rejected,
          durableLsn,
          repairNote: this.parts.repair ? `${this.parts.repair.fileName}: cut ${this.parts.repair.droppedBytes} bytes at offset ${this.parts.repair.truncateAt} (${this.parts.repair.reason})` : "",
        },
      },
    };
    if (chosen) {
      for (let offset = 0; offset < chosen.body.length; offset += RECOVERY_CHUNK_BYTES) {
        yield { part: { $case: "checkpointChunk", value: chosen.body.subarray(offset, offset + RECOVERY_CHUNK_BYTES) } };
      }
    }
    let sent = 0;
    let lastLsn = startLsn;
    let batch: persistenceV1.WalRecord[] = [];
    let batchBytes = 0;
    const takeBatch = (): persistenceV1.RecoverResponse => {
      const records = batch;
      sent += records.length;
      lastLsn = records[records.length - 1]!.lsn;
      batch = [];
      batchBytes = 0;
      return { part: { $case: "records", value: { records } } };
    };
    for (const segment of segments) {
      if (segment.lastLsn <= startLsn && segment !== segments.at(-1)) continue;
      if (segment.firstLsn > durableLsn) break;
      const file = path.join(this.parts.walDir, segment.fileName);
      // Read in chunks with one read ahead: records go out while the next chunk is read, not after the whole segment.
      for await (const records of readSegmentRecords(this.parts.layer, file, segment, { chunkBytes: RECOVERY_READ_BYTES, stopAfterLsn: durableLsn })) {
        for (const record of records) {
          if (record.lsn <= startLsn || record.lsn > durableLsn) continue;
          // A view into the chunk just read, which lives until this batch is sent.
          batch.push({ lsn: record.lsn, opType: record.opType, payload: record.payload });
          batchBytes += record.length;
          if (batchBytes >= RECOVERY_CHUNK_BYTES) yield takeBatch();
        }
      }
    }
    if (batch.length > 0) yield takeBatch();
    if (lastLsn !== durableLsn) {
      throw new RecoveryDataLossError(`recovery reached LSN ${lastLsn}, not the durable LSN ${durableLsn}`);
    }
    yield { part: { $case: "complete", value: { lastLsn, recordsSent: sent } } };
  }

  /** What GetStatus answers, but for the open Append streams, which the server counts. */
  status(): Omit<persistenceV1.GetStatusResponse, "connectedWriters"> {
    const writer = this.parts.writer;
    const newest = [...this.parts.commits.values()].filter((c) => !this.unusable.has(c.lsn)).sort((a, b) => b.lsn - a.lsn)[0];
    return {
      durableLsn: writer.durableLsn,
      segmentCount: writer.segmentList.length,
      walBytes: writer.totalBytes,
      walBytesLimit: this.parts.config.walSegmentBytes * this.parts.config.walMaxSegments,
      newestCheckpointLsn: newest?.lsn ?? 0,
      newestCheckpointTime: newest?.time,
      checkpointCount: this.parts.commits.size,
      syncMode: SYNC_MODES[this.parts.config.walSyncMode],
      poisoned: writer.poisoned !== undefined,
      poisonReason: writer.poisoned?.reason ?? "",
      checkpointRequested: writer.checkpointRequested,
      walFull: writer.full,
      syncs: writer.syncs,
      syncSecondsTotal: writer.syncSeconds,
    };
  }

  /** Resolves once retention work queued so far has finished (for tests and shutdown). */
  settled(): Promise<void> {
    return this.maintenance;
  }

  private onDurable(records: readonly WalRecordData[]): void {
    let committedAny = false;
    for (const record of records) {
      const commit = checkpointCommitOf(record);
      if (!commit) continue;
      this.parts.commits.set(commit.lsn, commit);
      committedAny = true;
      this.parts.logger.info("checkpoint committed", { event: "checkpoint.committed", lsn: commit.lsn, commitLsn: record.lsn });
    }
    if (committedAny) this.maintenance = this.maintenance.then(() => this.applyRetention());
  }

  /** Keeps the newest checkpoints and drops WAL segments no kept checkpoint needs. */
  private async applyRetention(): Promise<void> {
    if (this.parts.writer.poisoned) return;
    try {
      const committed = new Set(this.parts.commits.keys());
      const { deleted, oldestKeptLsn } = await this.parts.checkpoints.prune(committed);
      for (const lsn of [...this.parts.commits.keys()]) if (oldestKeptLsn === undefined || lsn < oldestKeptLsn) this.parts.commits.delete(lsn);
      const segments = oldestKeptLsn === undefined ? [] : await this.parts.writer.deleteSegmentsThrough(oldestKeptLsn);
      if (deleted.length > 0 || segments.length > 0) {
        this.parts.logger.info("retention applied", { event: "retention", deletedCheckpoints: deleted, deletedSegments: segments, oldestKeptLsn });
      }
    } catch (error) {
      this.parts.logger.error("retention failed; files are kept", { event: "retention.failed", error });
    }
  }
}
