import type { ServiceError } from "@grpc/grpc-js";
import { encodeEntry, type LearningState, type Operation } from "@t4dm/learning";
import type { persistenceV1, walV1 } from "@t4dm/proto";
import { context, trace, type Context, type Span } from "@opentelemetry/api";
import { decodeStatusDetails, ResourceExhaustedError, UnavailableError } from "@t4dm/rpc";
import type { Logger } from "@t4dm/telemetry";
import { WalStream } from "./wal-stream.js";
import type { PersistenceClient } from "../sidecar/persistence-client.js";

interface Waiter {
  lsn: number;
  resolve: (lsn: number) => void;
  reject: (error: Error) => void;
  /** Waits for what was in flight (no records of its own). */
  barrier?: boolean;
}

/** Operations the sidecar has room reserved for at its WAL cap (see the sidecar's cap-exempt.ts). */
const CAP_EXEMPT: ReadonlySet<Operation["$case"]> = new Set(["checkpointComplete", "systemStart", "systemShutdown"]);

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
 * Log before apply. Handlers plan against `projected` (the durable state
 * plus every record in flight) and submit in the same tick, so concurrent
 * requests are sequenced one after another and never break an invariant.
 * Records get the next LSNs, go to the sidecar, and are applied to `durable`
 * strictly in LSN order once acknowledged; readers only see `durable`.
 */
export class CommitPipeline {
  projected: LearningState;
  private inFlight: { lsn: number; entry: walV1.WalEntry; span?: Span; context?: Context }[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly stream: WalStream;
  private refused: ServiceError | undefined;
  private full = false;
  private sidecarDurableLsn = 0;
  /**
   * Acknowledged records since the last checkpoint (bounded): if the sidecar
   * comes back having lost some (sync mode none), they can be sent again.
   */
  private retained: persistenceV1.WalRecord[] = [];
  private readonly sidecarWaiters: { lsn: number; resolve: () => void }[] = [];

  constructor(
    readonly durable: LearningState,
    client: PersistenceClient,
    private readonly logger: Logger,
    private readonly listener: PipelineListener = {},
    private readonly retainLimit = 100_000,
  ) {
    this.projected = durable.clone();
    // Recovered from the sidecar's WAL: everything applied is durable there.
    this.sidecarDurableLsn = durable.appliedLsn;
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

  start(): void {
    this.stream.open();
  }

  close(): void {
    this.stream.close();
    for (const waiter of this.waiters.splice(0)) waiter.reject(new UnavailableError("the memory service is shutting down", "SHUTTING_DOWN"));
  }

  /** Writes are accepted only while the stream to the sidecar is open and in sequence. */
  get writable(): boolean {
    return this.stream.connected && this.refused === undefined;
  }

  /** The sidecar's WAL is at its size cap: ordinary writes are refused until a checkpoint frees space. */
  get walFull(): boolean {
    return this.full;
  }

  get appliedLsn(): number {
    return this.durable.appliedLsn;
  }

  get lastAssignedLsn(): number {
    return this.projected.appliedLsn;
  }

  /** The highest LSN the sidecar has acknowledged as durable. */
  get durableLsn(): number {
    return this.sidecarDurableLsn;
  }

  get inFlightRecords(): number {
    return this.inFlight.length;
  }

  /**
   * Sequences the operations (planned against `projected` in this same tick),
   * sends them, and resolves with the last LSN once they are durable and
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
    // Refused before sequencing: a record the sidecar cannot take must never get an LSN.
    if (this.full && !operations.every((operation) => CAP_EXEMPT.has(operation.$case))) return Promise.reject(new WalFullError());
    const records: persistenceV1.WalRecord[] = [];
    // append → durable: one span for the call's records, ended when the last is applied.
    const parent = context.active();
    const span = tracer.startSpan("wal.append", { attributes: { "t4dm.records": operations.length } }, parent);
    for (const operation of operations) {
      const encoded = encodeEntry(operation, time);
      const lsn = this.projected.appliedLsn + 1;
      this.projected.apply(lsn, encoded.entry);
      this.inFlight.push({ lsn, entry: encoded.entry });
      records.push({ lsn, opType: encoded.opType, payload: encoded.payload });
    }
    span.setAttributes({ "t4dm.first_lsn": records[0]!.lsn, "t4dm.last_lsn": records[records.length - 1]!.lsn });
    const last = this.inFlight[this.inFlight.length - 1]!;
    last.span = span;
    last.context = parent;
    const lastLsn = records[records.length - 1]!.lsn;
    const done = new Promise<number>((resolve, reject) => this.waiters.push({ lsn: lastLsn, resolve, reject }));
    this.retained.push(...records);
    // Trim in bulk, a quarter of the limit past it: trimming on every submit copied the whole
    // window (100k records) per write once that many accumulated without a checkpoint.
    if (this.retained.length > this.retainLimit + (this.retainLimit >> 2)) this.retained = this.retained.slice(this.retained.length - this.retainLimit);
    this.stream.send(records);
    return done;
  }

  /** A checkpoint at `lsn` committed: records at or below it need not be kept for re-sending. */
  forgetThrough(lsn: number): void {
    let drop = 0;
    while (drop < this.retained.length && this.retained[drop]!.lsn <= lsn) drop++;
    if (drop > 0) this.retained = this.retained.slice(drop);
  }

  /** Resolves once every record submitted so far is durable and applied. */
  barrier(): Promise<number> {
    const last = this.projected.appliedLsn;
    if (last <= this.durable.appliedLsn) return Promise.resolve(this.durable.appliedLsn);
    return new Promise<number>((resolve, reject) => {
      // Keep waiters ordered by LSN; a barrier waits for the last record in flight.
      this.waiters.push({ lsn: last, resolve, reject, barrier: true });
      this.waiters.sort((a, b) => a.lsn - b.lsn);
    });
  }

  /** Resolves once the sidecar has acknowledged `lsn` as durable (a checkpoint must not run ahead of its WAL). */
  sidecarReaches(lsn: number): Promise<void> {
    if (this.sidecarDurableLsn >= lsn) return Promise.resolve();
    return new Promise((resolve) => this.sidecarWaiters.push({ lsn, resolve }));
  }

  private onAck(durableLsn: number, checkpointRequested: boolean, walFull: boolean): void {
    this.setWalFull(walFull);
    this.sidecarDurableLsn = Math.max(this.sidecarDurableLsn, durableLsn);
    for (const waiter of this.sidecarWaiters.filter((w) => w.lsn <= this.sidecarDurableLsn)) {
      this.sidecarWaiters.splice(this.sidecarWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    // One splice per ack, not a shift per record: thousands of records can be in flight.
    let durableCount = 0;
    while (durableCount < this.inFlight.length && this.inFlight[durableCount]!.lsn <= durableLsn) durableCount += 1;
    const applied: walV1.WalEntry[] = [];
    for (const { lsn, entry, span, context: parent } of this.inFlight.splice(0, durableCount)) {
      this.durable.apply(lsn, entry);
      applied.push(entry);
      if (span) {
        // durable → apply, as a sibling under the same RPC span.
        span.addEvent("durable", { "t4dm.durable_lsn": durableLsn });
        span.end();
        tracer.startSpan("wal.apply", { attributes: { "t4dm.lsn": lsn } }, parent).end();
      }
    }
    let settled = 0;
    while (settled < this.waiters.length && this.waiters[settled]!.lsn <= this.durable.appliedLsn) settled += 1;
    for (const waiter of this.waiters.splice(0, settled)) waiter.resolve(this.durable.appliedLsn);
    if (applied.length > 0) {
      this.listener.onApplied?.(applied.length);
      this.listener.onEntries?.(applied);
    }
    if (checkpointRequested) this.listener.onCheckpointRequested?.();
  }

  private setWalFull(full: boolean): void {
    if (this.full === full) return;
    this.full = full;
    this.logger[full ? "warn" : "info"](full ? "the WAL is at its size cap: writes are refused until a checkpoint frees space" : "WAL space freed: writes resume", {
      event: full ? "wal.full" : "wal.space_freed",
      appliedLsn: this.durable.appliedLsn,
    });
    this.listener.onWalFull?.(full);
  }

  /**
   * The WAL at its cap refused every record from `fromLsn` on: they will
   * never be durable. Their callers get RESOURCE_EXHAUSTED, and `projected`
   * is rebuilt from `durable` plus the records still in flight, so the next
   * plan continues the sequence at `fromLsn` from the state the sidecar has.
   */
  private onCapRefused(fromLsn: number): void {
    this.setWalFull(true);
    const kept = this.inFlight.filter((r) => r.lsn < fromLsn);
    const dropped = this.inFlight.length - kept.length;
    if (dropped === 0) return;
    for (const { span } of this.inFlight.slice(kept.length)) span?.end();
    this.inFlight = kept;
    this.retained = this.retained.filter((r) => r.lsn < fromLsn);
    const projected = this.durable.clone();
    for (const { lsn, entry } of kept) projected.apply(lsn, entry);
    this.projected = projected;
    const lastKept = projected.appliedLsn;
    const failure = new WalFullError();
    for (const waiter of this.waiters.filter((w) => w.lsn > lastKept)) {
      if (waiter.barrier) {
        // It waited for records that are gone: what remains in flight is what it may read.
        waiter.lsn = lastKept;
        continue;
      }
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.reject(failure);
    }
    this.waiters.sort((a, b) => a.lsn - b.lsn);
    let settled = 0;
    while (settled < this.waiters.length && this.waiters[settled]!.lsn <= this.durable.appliedLsn) settled += 1;
    for (const waiter of this.waiters.splice(0, settled)) waiter.resolve(this.durable.appliedLsn);
    this.logger.warn("the WAL at its cap refused records; their calls get RESOURCE_EXHAUSTED", {
      event: "wal.cap_refused",
      fromLsn,
      dropped,
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
      inFlight: this.inFlight.length,
    });
    const failure = new UnavailableError("the WAL refused this service's sequence; restart the memory service", "WAL_SEQUENCE_REFUSED");
    for (const waiter of this.waiters.splice(0)) waiter.reject(failure);
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
   * lost acknowledged records. Send them again from `retained` and ask for a
   * checkpoint at once. False when they are no longer all retained.
   */
  recoverLost(expected: number): boolean {
    if (expected > this.durable.appliedLsn) return true;
    const firstRetained = this.retained[0]?.lsn;
    if (!Number.isSafeInteger(expected) || firstRetained === undefined || firstRetained > expected) return false;
    const lost = this.retained.filter((r) => r.lsn >= expected && r.lsn <= this.durable.appliedLsn);
    this.sidecarDurableLsn = expected - 1;
    this.logger.warn("the sidecar lost acknowledged records (sync mode none); sending them again, then checkpointing", {
      event: "wal_stream.resend_lost",
      fromLsn: expected,
      count: lost.length,
    });
    this.stream.resend(lost);
    this.listener.onCheckpointRequested?.();
    return true;
  }
}
