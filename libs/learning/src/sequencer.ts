import type { walV1 } from "@t4dm/proto";
import { BuiltEffects } from "./built-effects.js";
import { LearningState } from "./learning-state.js";
import { encodeEntry, type Operation } from "./wal-entries.js";

/** A record as it travels to the WAL (the shape of t4dm.persistence.v1.WalRecord). */
export interface SequencedRecord {
  lsn: number;
  opType: walV1.Operation;
  payload: Buffer;
}

/** An applied record, for the caller's metrics and spans. */
export interface AppliedRecord {
  lsn: number;
  entry: walV1.WalEntry;
}

/** A waiter that settles now; `lsn` is the last record it waited for. */
export interface Settled<W> {
  waiter: W;
  lsn: number;
}

/**
 * What the caller must do after a step, in this order: note the WAL's cap
 * state if it changed, report the applied records, then resolve (with the
 * durable state's applied LSN) or reject the listed waiters. Each waiter
 * appears in exactly one Ready, once.
 */
export interface Ready<W> {
  /** The WAL's cap state changed to this (undefined: unchanged). */
  walFull: boolean | undefined;
  /** Records now applied to the durable state, in LSN order. */
  applied: AppliedRecord[];
  /** Waiters whose records are durable and applied, in LSN order. */
  resolved: Settled<W>[];
  /** Waiters whose records will never be durable. */
  rejected: W[];
}

/** The outcome of proposing operations: the records to send, or a refusal that changed nothing. */
export type Proposal = { accepted: true; records: SequencedRecord[] } | { accepted: false; reason: "wal-full" };

/** What to do about records the sidecar lost (it reports a durable LSN below ours; sync mode none). */
export type LostRecords =
  /** The sidecar has everything we applied: nothing to send. */
  | { kind: "none-lost" }
  /** Send these again (the sidecar acknowledges them as new), then checkpoint. */
  | { kind: "resend"; records: SequencedRecord[] }
  /** Some are no longer retained: they cannot be sent again. */
  | { kind: "gone" };

/** Operations the sidecar has room reserved for at its WAL cap (see the sidecar's cap-exempt.ts). */
export const CAP_EXEMPT: ReadonlySet<Operation["$case"]> = new Set(["checkpointComplete", "systemStart", "systemShutdown"]);

interface InFlight {
  lsn: number;
  entry: walV1.WalEntry;
  /** What the projected apply built from the record, for the durable apply to take. */
  built: BuiltEffects;
}

interface Waiter<W> {
  waiter: W;
  lsn: number;
  /** Waits for what was in flight (no records of its own): a cap refusal moves it instead of failing it. */
  barrier: boolean;
}

/**
 * The write path's bookkeeping, as pure code (in the spirit of etcd-io/raft's
 * Ready): the caller feeds it proposals and the sidecar's answers, and does
 * the I/O it returns. Nothing here sends, times, or logs.
 *
 * - `projected` is `durable` plus every record in flight; plans are made
 *   against it and proposed in the same tick, so they sequence one after
 *   another. LSNs continue from it.
 * - `durable` holds only acknowledged records, applied in LSN order: readers
 *   see only it. After every step it equals a replay of exactly the
 *   acknowledged records (invariant I1).
 * - Each proposal has one waiter, settled once its last record is applied;
 *   a barrier settles once everything in flight when it was set is applied.
 * - Acknowledged records since the last checkpoint are retained (bounded) so
 *   they can be sent again if the sidecar loses them.
 */
export class Sequencer<W> {
  private projectedState: LearningState;
  private inFlight: InFlight[] = [];
  private waiters: Waiter<W>[] = [];
  private retained: SequencedRecord[] = [];
  private full = false;
  private sidecarLsn: number;

  constructor(
    readonly durable: LearningState,
    private readonly retainLimit = 100_000,
  ) {
    this.projectedState = durable.clone();
    // Recovered from the sidecar's WAL: everything applied is durable there.
    this.sidecarLsn = durable.appliedLsn;
  }

  /** The state plans are made against: durable plus every record in flight. */
  get projected(): LearningState {
    return this.projectedState;
  }

  /** The last LSN given to a record. */
  get lastAssignedLsn(): number {
    return this.projectedState.appliedLsn;
  }

  /** The highest LSN the sidecar has acknowledged as durable. */
  get sidecarDurableLsn(): number {
    return this.sidecarLsn;
  }

  get inFlightRecords(): number {
    return this.inFlight.length;
  }

  /** The WAL is at its size cap: only CAP_EXEMPT operations are taken. */
  get walFull(): boolean {
    return this.full;
  }

  /**
   * Gives the operations the next LSNs, applies them to `projected`, and
   * queues `waiter` for the last one. At the WAL cap, a proposal with any
   * operation the sidecar has no room for is refused before it gets an LSN.
   */
  propose(operations: readonly Operation[], time: Date, waiter: W): Proposal {
    if (operations.length === 0) throw new Error("an empty proposal has no records to wait for; use barrier");
    if (this.full && !operations.every((operation) => CAP_EXEMPT.has(operation.$case))) return { accepted: false, reason: "wal-full" };
    const records: SequencedRecord[] = [];
    for (const operation of operations) {
      const encoded = encodeEntry(operation, time);
      const lsn = this.projectedState.appliedLsn + 1;
      const built = new BuiltEffects();
      this.projectedState.apply(lsn, encoded.entry, built);
      this.inFlight.push({ lsn, entry: encoded.entry, built });
      records.push({ lsn, opType: encoded.opType, payload: encoded.payload });
    }
    this.waiters.push({ waiter, lsn: records[records.length - 1]!.lsn, barrier: false });
    this.retain(records);
    return { accepted: true, records };
  }

  /** Queues `waiter` until everything in flight now is applied; false (nothing queued) when nothing is in flight. */
  barrier(waiter: W): boolean {
    const last = this.projectedState.appliedLsn;
    if (last <= this.durable.appliedLsn) return false;
    // Waiters stay in LSN order; the barrier goes after the proposal it waits for.
    this.waiters.push({ waiter, lsn: last, barrier: true });
    return true;
  }

  /**
   * The sidecar made every record up to `durableLsn` durable: apply those
   * still in flight to `durable`, in LSN order, and settle their waiters.
   */
  acknowledge(durableLsn: number, walFull: boolean): Ready<W> {
    const ready = this.emptyReady(walFull);
    this.sidecarLsn = Math.max(this.sidecarLsn, durableLsn);
    // One splice per ack, not a shift per record: thousands of records can be in flight.
    let durableCount = 0;
    while (durableCount < this.inFlight.length && this.inFlight[durableCount]!.lsn <= durableLsn) durableCount += 1;
    for (const record of this.inFlight.splice(0, durableCount)) {
      this.durable.apply(record.lsn, record.entry, record.built);
      ready.applied.push({ lsn: record.lsn, entry: record.entry });
    }
    ready.resolved = this.settleApplied();
    return ready;
  }

  /**
   * The WAL at its cap refused every record from `fromLsn` on: they will
   * never be durable. Their waiters are rejected, barriers now wait only for
   * what remains in flight, and `projected` is rebuilt from `durable` plus
   * those records, so the sequence continues at `fromLsn` from the state the
   * sidecar has. `dropped`: how many records in flight were refused.
   */
  refuseFrom(fromLsn: number): Ready<W> & { dropped: number } {
    const ready = this.emptyReady(true);
    const kept = this.inFlight.filter((record) => record.lsn < fromLsn);
    const dropped = this.inFlight.length - kept.length;
    if (dropped === 0) return { ...ready, dropped };
    this.inFlight = kept;
    this.retained = this.retained.filter((record) => record.lsn < fromLsn);
    const projected = this.durable.clone();
    for (const { lsn, entry, built } of kept) projected.apply(lsn, entry, built);
    this.projectedState = projected;
    const lastKept = projected.appliedLsn;
    const remaining: Waiter<W>[] = [];
    for (const waiter of this.waiters) {
      if (waiter.lsn <= lastKept) remaining.push(waiter);
      else if (waiter.barrier) remaining.push({ ...waiter, lsn: lastKept });
      else ready.rejected.push(waiter.waiter);
    }
    this.waiters = remaining;
    ready.resolved = this.settleApplied();
    return { ...ready, dropped };
  }

  /** Every waiter fails (shutdown, or the sidecar refused our sequence); returns them in LSN order. */
  failAll(): W[] {
    return this.waiters.splice(0).map((waiter) => waiter.waiter);
  }

  /** A checkpoint at `lsn` committed: records at or below it need not be kept for re-sending. */
  forgetThrough(lsn: number): void {
    let drop = 0;
    while (drop < this.retained.length && this.retained[drop]!.lsn <= lsn) drop++;
    if (drop > 0) this.retained = this.retained.slice(drop);
  }

  /**
   * The sidecar expects `expected` next although we applied up to a higher
   * LSN: it lost acknowledged records. Hands back the retained ones from
   * `expected` to our applied LSN to send again, and from now counts the
   * sidecar as durable only up to `expected - 1`.
   */
  lost(expected: number): LostRecords {
    if (expected > this.durable.appliedLsn) return { kind: "none-lost" };
    const firstRetained = this.retained[0]?.lsn;
    if (!Number.isSafeInteger(expected) || firstRetained === undefined || firstRetained > expected) return { kind: "gone" };
    const records = this.retained.filter((record) => record.lsn >= expected && record.lsn <= this.durable.appliedLsn);
    this.sidecarLsn = expected - 1;
    return { kind: "resend", records };
  }

  private retain(records: readonly SequencedRecord[]): void {
    this.retained.push(...records);
    // Trim in bulk, a quarter of the limit past it: trimming on every proposal copied the whole
    // window (100k records) per write once that many accumulated without a checkpoint.
    if (this.retained.length > this.retainLimit + (this.retainLimit >> 2)) this.retained = this.retained.slice(this.retained.length - this.retainLimit);
  }

  /** Waiters whose LSN is applied leave the queue, in LSN order. */
  private settleApplied(): Settled<W>[] {
    let settled = 0;
    while (settled < this.waiters.length && this.waiters[settled]!.lsn <= this.durable.appliedLsn) settled += 1;
    return this.waiters.splice(0, settled).map(({ waiter, lsn }) => ({ waiter, lsn }));
  }

  private emptyReady(walFull: boolean): Ready<W> {
    const changed = walFull !== this.full;
    this.full = walFull;
    return { walFull: changed ? walFull : undefined, applied: [], resolved: [], rejected: [] };
  }
}
