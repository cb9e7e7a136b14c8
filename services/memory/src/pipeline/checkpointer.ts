import type { ClientWritableStream } from "@grpc/grpc-js";
import type { persistenceV1 } from "@t4dm/proto";
import type { Logger } from "@t4dm/telemetry";
import { STATE_FORMAT_VERSION } from "@t4dm/learning";
import type { CommitPipeline } from "./commit-pipeline.js";
import { SnapshotEncoder } from "./snapshot-encoder.js";
import type { PersistenceClient } from "../sidecar/persistence-client.js";

export interface CheckpointResult {
  lsn: number;
  fileName: string;
  /** The checkpoint file's size (a gzip file); AdminService calls it size_bytes, as do HTTP and the logs. */
  sizeBytes: number;
}

const CHUNK_BYTES = 1024 * 1024;
const STATE_HASH_HEADER_BYTES = 28;

/**
 * Checkpoints the durable state: a consistent snapshot taken synchronously at
 * the applied LSN, streamed to the sidecar, then committed by a
 * CHECKPOINT_COMPLETE record through the pipeline. One at a time: a request
 * during a checkpoint joins it.
 */
/** The trigger reason while the WAL is at its cap: checkpoints follow one another until space is back. */
export const WAL_FULL_REASON = "wal full";

export interface CheckpointerOptions {
  everyRecords: number;
  now: () => Date;
  onCommitted?: (lsn: number) => void;
  /** Backoff between retries of a failed checkpoint (and between checkpoints while the WAL stays full). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Timer seam for the retries; returns a cancel function. */
  setTimer?: (run: () => void, ms: number) => () => void;
}

export class Checkpointer {
  private running: Promise<CheckpointResult> | undefined;
  private recordsSince = 0;
  private failures = 0;
  private cancelRetry: (() => void) | undefined;
  private closed = false;
  lastCheckpoint: { lsn: number; time: Date } | undefined;
  /** Background checkpoints that failed (each is retried with backoff). */
  failedAttempts = 0;

  constructor(
    private readonly pipeline: CommitPipeline,
    private readonly client: PersistenceClient,
    private readonly logger: Logger,
    private readonly options: CheckpointerOptions,
    private readonly encoder: SnapshotEncoder = new SnapshotEncoder(),
  ) {}

  close(): Promise<void> {
    this.closed = true;
    this.cancelRetry?.();
    return this.encoder.close();
  }

  /** Counts applied records; checkpoints once `everyRecords` have accumulated. */
  noteApplied(count: number): void {
    this.recordsSince += count;
    if (this.recordsSince >= this.options.everyRecords) this.trigger("records");
  }

  /**
   * Starts a checkpoint in the background unless one is running. One that
   * fails is retried with backoff until one succeeds; while the WAL stays at
   * its cap after one succeeds (retention keeps the WAL back to the oldest
   * kept checkpoint, so freeing space can take several), another follows.
   */
  trigger(reason: string): void {
    if (this.closed) return;
    if (this.running) {
      // One already running (an admin call's, say) may not free enough: look again after it.
      if (reason === WAL_FULL_REASON) this.retryLater(reason);
      return;
    }
    if (!this.pipeline.writable) {
      // Counts as a failed attempt, so the retries back off while the sidecar is away.
      this.failures += 1;
      return this.retryLater(reason);
    }
    this.checkpoint(reason).then(
      () => {
        this.failures = 0;
        if (this.pipeline.walFull) this.retryLater(WAL_FULL_REASON);
      },
      (error: unknown) => {
        this.failures += 1;
        this.failedAttempts += 1;
        this.logger.warn("checkpoint failed; the WAL still holds everything; retrying", { event: "checkpoint.failed", reason, error, failures: this.failures });
        this.retryLater(reason);
      },
    );
  }

  /** Counts records replayed at start-up toward the next checkpoint, so crash loops cannot grow the replay without bound. */
  noteReplayed(count: number): void {
    this.noteApplied(count);
  }

  private retryLater(reason: string): void {
    if (this.cancelRetry || this.closed) return;
    const min = this.options.retryMinMs ?? 100;
    const delay = Math.min(this.options.retryMaxMs ?? 10_000, min * 2 ** Math.min(this.failures, 16));
    const setTimer =
      this.options.setTimer ??
      ((run: () => void, ms: number) => {
        const timer = setTimeout(run, ms);
        timer.unref();
        return () => clearTimeout(timer);
      });
    this.cancelRetry = setTimer(() => {
      this.cancelRetry = undefined;
      // A checkpoint for the cap is moot once space is back.
      if (reason === WAL_FULL_REASON && !this.pipeline.walFull) return;
      this.trigger(reason);
    }, delay);
  }

  /**
   * Runs a checkpoint. A background trigger joins one already running; an
   * explicit one (`fresh`: admin, shutdown) waits for it and then captures the
   * state as it is now.
   */
  checkpoint(reason: string, options: { fresh?: boolean } = {}): Promise<CheckpointResult> {
    if (this.running && options.fresh) {
      const after = this.running.catch(() => undefined).then(() => this.checkpoint(reason, options));
      return after;
    }
    this.running ??= this.run(reason).finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(reason: string): Promise<CheckpointResult> {
    const started = Date.now();
    const state = this.pipeline.durable;
    // Taken in one synchronous step on the event loop, so it is consistent at
    // this LSN; serialised and hashed off it, in the encoder's worker.
    const lsn = state.appliedLsn;
    const snapshot = state.snapshot();
    const { body, hash: stateHash } = await this.encoder.encode(snapshot);
    this.recordsSince = 0;
    await this.pipeline.sidecarReaches(lsn);
    // The checkpoint header has room for 28 bytes of it; the commit record carries all 32.
    const written = await this.write(lsn, body, stateHash.subarray(0, STATE_HASH_HEADER_BYTES));
    await this.pipeline.submit(
      [{ $case: "checkpointComplete", value: { checkpointLsn: lsn, fileName: written.fileName, sha256: written.sha256, stateHash } }],
      this.options.now(),
    );
    this.lastCheckpoint = { lsn, time: this.options.now() };
    this.options.onCommitted?.(lsn);
    this.logger.info("checkpoint committed", {
      event: "checkpoint.done",
      reason,
      lsn,
      file: written.fileName,
      bytes: body.length,
      sizeBytes: written.compressedBytes,
      ms: Date.now() - started,
    });
    // The sidecar's compressed_bytes keeps its wire name (buf breaking) and carries the file size.
    return { lsn, fileName: written.fileName, sizeBytes: written.compressedBytes };
  }

  private async write(lsn: number, body: Buffer, stateHash: Buffer): Promise<persistenceV1.WriteCheckpointResponse> {
    let stream!: ClientWritableStream<persistenceV1.WriteCheckpointRequest>;
    const answered = new Promise<persistenceV1.WriteCheckpointResponse>((resolve, reject) => {
      stream = this.client.writeCheckpoint((error, response) => (error ? reject(error) : resolve(response!)));
    });
    // A failed call settles `answered` and closes the stream; stop feeding it then.
    let failed = false;
    answered.catch(() => (failed = true));
    stream.write({ part: { $case: "header", value: { lsn, formatVersion: STATE_FORMAT_VERSION, stateHash, bodyBytes: body.length } } });
    for (let offset = 0; offset < body.length && !failed; offset += CHUNK_BYTES) {
      // Each chunk is copied twice on its way out (encode, gRPC framing): wait for the stream to
      // drain rather than copying tens of MB in one event-loop turn.
      const more = stream.write({ part: { $case: "chunk", value: body.subarray(offset, offset + CHUNK_BYTES) } });
      if (!more) await new Promise<void>((resolve) => {
        stream.once("drain", resolve);
        void answered.catch(() => resolve());
      });
    }
    stream.end();
    return answered;
  }
}
