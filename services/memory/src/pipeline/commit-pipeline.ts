import type { ServiceError } from "@grpc/grpc-js";
import { Sequencer, type LearningState, type Operation, type Settled } from "@t4dm/learning";
import type { walV1 } from "@t4dm/proto";
import { context, trace, type Context, type Span } from "@opentelemetry/api";
import { decodeStatusDetails, ResourceExhaustedError, UnavailableError } from "@t4dm/rpc";
import type { Logger } from "@t4dm/telemetry";
import { WalStream } from "./wal-stream.js";
import type { PersistenceClient } from "../sidecar/persistence-client.js";

/** A call waiting for its records (or, for a barrier, what was in flight) to be durable and applied. */
interface Waiter {
  resolve: (lsn: number) => void;
  reject: (error: Error) => void;
  /** append → durable, for the call's records; a barrier has none. */
  span?: Span;
  context?: Context;
}

/** The client-facing answer while the WAL is at its size cap. */
export class WalFullError extends ResourceExhaustedError {
  constructor() {
    super("the WAL is at its size cap; a checkpoint is freeing space, retry shortly", "WAL_FULL");
  }
}

const tracer = trace.getTracer("t4dm-memory");

export interface PipelineListener {
  /** The pipeline can (true) or cannot (false) take writes now. */
  onWritable?(writable: boolean): void;
  /** The sidecar nears its WAL cap and wants a checkpoint. */
  onCheckpointRequested?(): void;
  /** The WAL reached its size cap (true) or a checkpoint freed space (false). */
  onWalFull?(full: boolean): void;
  /** Records applied to the durable state (for checkpoint-by-count). */
  onApplied?(count: number): void;
  /** Every entry applied to the durable state, in LSN order (for metrics). */
  onEntries?(entries: readonly walV1.WalEntry[]): void;
}

/**
 * Log before apply, the I/O half. The Sequencer (libs/learning) keeps the
 * bookkeeping — `projected` for planning, LSNs, the in-flight window,
 * `durable` for readers, waiters, retained records — and says what to do;
 * this class moves records to and from the sidecar, traces, logs, and tells
 * the listener. Handlers plan against `projected` and submit in the same
 * tick, so concurrent requests are sequenced one after another.
 */
export class CommitPipeline {
  private readonly sequencer: Sequencer<Waiter>;
  private readonly stream: WalStream;
  private refused: ServiceError | undefined;
  private readonly sidecarWaiters: { lsn: number; resolve: () => void }[] = [];

  constructor(
    durable: LearningState,
    client: PersistenceClient,
    private readonly logger: Logger,
    private readonly listener: PipelineListener = {},
    retainLimit = 100_000,
  ) {
    this.sequencer = new Sequencer(durable, retainLimit);
    this.stream = new WalStream(
      client,
      {
        onAck: (lsn, checkpointRequested, walFull) => this.onAck(lsn, checkpointRequested, walFull),
        onCapRefused: (fromLsn) => this.onCapRefused(fromLsn),
        onConnected: () => this.listener.onWritable?.(this.writable),
        onRefused: (error) => this.onRefused(error),
      },
      logger,
    );
  }

  /** Durable plus every record in flight: what handlers plan against. */
  get projected(): LearningState {
    return this.sequencer.projected;
  }

  /** Only acknowledged records, applied in LSN order: what readers see. */
  get durable(): LearningState {
    return this.sequencer.durable;
  }

  start(): void {
    this.stream.open();
  }

  close(): void {
    this.stream.close();
    this.fail(this.sequencer.failAll(), new UnavailableError("the memory service is shutting down", "SHUTTING_DOWN"));
  }

  /** Writes are accepted only while the stream to the sidecar is open and in sequence. */
  get writable(): boolean {
    return this.stream.connected && this.refused === undefined;
  }

  /** The sidecar's WAL is at its size cap: ordinary writes are refused until a checkpoint frees space. */
  get walFull(): boolean {
    return this.sequencer.walFull;
  }

  get appliedLsn(): number {
    return this.durable.appliedLsn;
  }

  get lastAssignedLsn(): number {
    return this.sequencer.lastAssignedLsn;
  }

  /** The highest LSN the sidecar has acknowledged as durable. */
  get durableLsn(): number {
    return this.sequencer.sidecarDurableLsn;
  }

  get inFlightRecords(): number {
    return this.sequencer.inFlightRecords;
  }

  /**
   * Sequences the operations (planned against `projected` in this same tick),
   * sends them, and resolves with the applied LSN once they are durable and
   * applied. Fails fast with UNAVAILABLE, changing nothing, if the sidecar
   * cannot take writes.
   */
  submit(operations: readonly Operation[], time: Date): Promise<number> {
    if (!this.writable) {
      return Promise.reject(
        new UnavailableError(
          this.refused ? "the WAL refused this service's sequence; restart the memory service" : "the persistence sidecar is not reachable",
          this.refused ? "WAL_SEQUENCE_REFUSED" : "SIDECAR_UNAVAILABLE",
        ),
      );
    }
    // Nothing to log: still wait for what is in flight, so the caller reads what it saw planned.
    if (operations.length === 0) return this.barrier();
    const parent = context.active();
    let waiter!: Waiter;
    const done = new Promise<number>((resolve, reject) => (waiter = { resolve, reject, context: parent }));
    const proposal = this.sequencer.propose(operations, time, waiter);
    if (!proposal.accepted) return Promise.reject(new WalFullError());
    const { records } = proposal;
    // append → durable: one span for the call's records, ended when the last is applied.
    waiter.span = tracer.startSpan(
      "wal.append",
      { attributes: { "t4dm.records": operations.length, "t4dm.first_lsn": records[0]!.lsn, "t4dm.last_lsn": records[records.length - 1]!.lsn } },
      parent,
    );
    this.stream.send(records);
    return done;
  }

  /** A checkpoint at `lsn` committed: records at or below it need not be kept for re-sending. */
  forgetThrough(lsn: number): void {
    this.sequencer.forgetThrough(lsn);
  }

  /** Resolves once every record submitted so far is durable and applied. */
  barrier(): Promise<number> {
    let waiter!: Waiter;
    const done = new Promise<number>((resolve, reject) => (waiter = { resolve, reject }));
    return this.sequencer.barrier(waiter) ? done : Promise.resolve(this.durable.appliedLsn);
  }

  /** Resolves once the sidecar has acknowledged `lsn` as durable (a checkpoint must not run ahead of its WAL). */
  sidecarReaches(lsn: number): Promise<void> {
    if (this.durableLsn >= lsn) return Promise.resolve();
    return new Promise((resolve) => this.sidecarWaiters.push({ lsn, resolve }));
  }

  private onAck(durableLsn: number, checkpointRequested: boolean, walFull: boolean): void {
    const ready = this.sequencer.acknowledge(durableLsn, walFull);
    this.noteWalFull(ready.walFull);
    for (const waiter of this.sidecarWaiters.filter((w) => w.lsn <= this.durableLsn)) {
      this.sidecarWaiters.splice(this.sidecarWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    this.resolve(ready.resolved, durableLsn);
    if (ready.applied.length > 0) {
      this.listener.onApplied?.(ready.applied.length);
      this.listener.onEntries?.(ready.applied.map((record) => record.entry));
    }
    if (checkpointRequested) this.listener.onCheckpointRequested?.();
  }

  /** Waiters whose records are applied, in LSN order: each gets the applied LSN. */
  private resolve(settled: readonly Settled<Waiter>[], durableLsn: number): void {
    const appliedLsn = this.durable.appliedLsn;
    for (const { waiter, lsn } of settled) {
      if (waiter.span) {
        // durable → apply, as a sibling under the same RPC span.
        waiter.span.addEvent("durable", { "t4dm.durable_lsn": durableLsn });
        waiter.span.end();
        tracer.startSpan("wal.apply", { attributes: { "t4dm.lsn": lsn } }, waiter.context).end();
      }
      waiter.resolve(appliedLsn);
    }
  }

  private fail(waiters: readonly Waiter[], failure: Error): void {
    for (const waiter of waiters) {
      waiter.span?.end();
      waiter.reject(failure);
    }
  }

  private noteWalFull(full: boolean | undefined): void {
    if (full === undefined) return;
    this.logger[full ? "warn" : "info"](full ? "the WAL is at its size cap: writes are refused until a checkpoint frees space" : "WAL space freed: writes resume", {
      event: full ? "wal.full" : "wal.space_freed",
      appliedLsn: this.durable.appliedLsn,
    });
    this.listener.onWalFull?.(full);
  }

  /**
   * The WAL at its cap refused every record from `fromLsn` on: they will
   * never be durable. Their callers get RESOURCE_EXHAUSTED; the sequencer
   * continues the sequence at `fromLsn` from the state the sidecar has.
   */
  private onCapRefused(fromLsn: number): void {
    const ready = this.sequencer.refuseFrom(fromLsn);
    this.noteWalFull(ready.walFull);
    if (ready.dropped === 0) return;
    // In LSN order: barriers that now wait for nothing, then the refused calls.
    this.resolve(ready.resolved, this.durableLsn);
    this.fail(ready.rejected, new WalFullError());
    this.logger.warn("the WAL at its cap refused records; their calls get RESOURCE_EXHAUSTED", {
      event: "wal.cap_refused",
      fromLsn,
      dropped: ready.dropped,
      appliedLsn: this.durable.appliedLsn,
    });
    this.listener.onCheckpointRequested?.();
  }

  /**
   * The sidecar refused our sequence: its WAL and our state disagree, so no
   * retry can help. Stop taking writes; a restart recovers from the WAL.
   */
  private onRefused(error: ServiceError): void {
    if (this.resendLost(error)) return;
    this.refused = error;
    this.logger.error("the WAL refused this service's record sequence; writes stop until a restart", {
      event: "wal_stream.refused",
      detail: error.details,
      appliedLsn: this.durable.appliedLsn,
      inFlight: this.inFlightRecords,
    });
    this.fail(this.sequencer.failAll(), new UnavailableError("the WAL refused this service's sequence; restart the memory service", "WAL_SEQUENCE_REFUSED"));
    this.listener.onWritable?.(false);
  }

  /**
   * A gap below what we sent means the sidecar lost acknowledged records
   * (only possible under sync mode none). Re-send them from memory if we
   * still have them all, then ask for a checkpoint at once.
   */
  private resendLost(error: ServiceError): boolean {
    const info = decodeStatusDetails(error).errorInfo;
    if (info?.reason !== "LSN_GAP") return false;
    return this.recoverLost(Number(info.metadata.expected_lsn));
  }

  /**
   * The sidecar reports a durable LSN below what this service applied: it
   * lost acknowledged records. Send them again from those retained and ask
   * for a checkpoint at once. False when they are no longer all retained.
   */
  recoverLost(expected: number): boolean {
    const lost = this.sequencer.lost(expected);
    if (lost.kind === "none-lost") return true;
    if (lost.kind === "gone") return false;
    this.logger.warn("the sidecar lost acknowledged records (sync mode none); sending them again, then checkpointing", {
      event: "wal_stream.resend_lost",
      fromLsn: expected,
      count: lost.records.length,
    });
    this.stream.resend(lost.records);
    this.listener.onCheckpointRequested?.();
    return true;
  }
}
