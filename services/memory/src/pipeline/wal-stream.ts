import { status, type ClientDuplexStream, type ServiceError } from "@grpc/grpc-js";
import type { persistenceV1 } from "@t4dm/proto";
import type { Logger } from "@t4dm/telemetry";
import type { PersistenceClient } from "../sidecar/persistence-client.js";

export interface WalStreamEvents {
  /** Every record at or below `durableLsn` is durable; `walFull`: ordinary records are refused until a checkpoint frees space. */
  onAck(durableLsn: number, checkpointRequested: boolean, walFull: boolean): void;
  /**
   * The WAL is at its cap and refused every record from `fromLsn` on (those
   * sent after it are dropped by the sidecar). The stream stays open; the
   * sequence must continue at `fromLsn`.
   */
  onCapRefused(fromLsn: number): void;
  /** The stream opened (true) or broke (false). */
  onConnected(connected: boolean): void;
  /** The sidecar refused our sequence (gap or conflict): retrying the same bytes cannot help. */
  onRefused(error: ServiceError): void;
}

/**
 * The memory service's one long-lived Append stream. Records stay in
 * `unacked` until an ack covers them; when the stream breaks it reopens with
 * backoff and re-sends them, which the sidecar acknowledges idempotently.
 */
export class WalStream {
  private stream: ClientDuplexStream<persistenceV1.AppendRequest, persistenceV1.AppendResponse> | undefined;
  private unacked: persistenceV1.WalRecord[] = [];
  /** Records waiting for this tick's message. */
  private outgoing: persistenceV1.WalRecord[] = [];
  private backoffMs = 50;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  connected = false;

  constructor(
    private readonly client: PersistenceClient,
    private readonly events: WalStreamEvents,
    private readonly logger: Logger,
    // The sidecar is local and restarts in well under a second: reopen soon after it does.
    private readonly maxBackoffMs = 250,
  ) {}

  open(): void {
    if (this.closed || this.stream) return;
    const stream = this.client.append();
    this.stream = stream;
    let settled = false;
    const broken = (error: ServiceError | undefined) => {
      if (settled) return;
      settled = true;
      // A stream we replaced on purpose (see resend) is no news.
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.setConnected(false);
      if (error && (error.code === status.FAILED_PRECONDITION || error.code === status.INVALID_ARGUMENT)) {
        this.events.onRefused(error);
        return;
      }
      if (this.closed) return;
      this.logger.warn("WAL stream broke; reconnecting", {
        event: "wal_stream.broken",
        code: error ? status[error.code] : "END",
        detail: error?.details,
        unacked: this.unacked.length,
        retryInMs: this.backoffMs,
      });
      this.timer = setTimeout(() => this.open(), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
    };
    stream.on("data", (response: persistenceV1.AppendResponse) => {
      this.backoffMs = 50;
      let drop = 0;
      while (drop < this.unacked.length && this.unacked[drop]!.lsn <= response.durableLsn) drop++;
      if (drop > 0) this.unacked.splice(0, drop);
      if (response.refusedFromLsn > 0) this.forgetFrom(response.refusedFromLsn);
      this.events.onAck(response.durableLsn, response.checkpointRequested, response.walFull);
      if (response.refusedFromLsn > 0) this.events.onCapRefused(response.refusedFromLsn);
    });
    stream.on("error", (error: ServiceError) => broken(error));
    stream.on("end", () => broken(undefined));
    this.setConnected(true);
    // Re-send what is not durable yet (the sidecar acknowledges repeats again);
    // that includes anything queued for this tick.
    this.outgoing = [];
    if (this.unacked.length > 0) stream.write({ records: this.unacked });
  }

  /**
   * Sends records (LSN order, continuing the sequence), kept until
   * acknowledged. Records sent in the same tick travel in one message: one
   * gRPC frame and one ack for a whole burst of requests.
   */
  send(records: persistenceV1.WalRecord[]): void {
    this.unacked.push(...records);
    this.outgoing.push(...records);
    if (this.outgoing.length === records.length) queueMicrotask(() => this.flush());
  }

  private flush(): void {
    const records = this.outgoing;
    this.outgoing = [];
    if (records.length > 0) this.stream?.write({ records });
  }

  /**
   * Puts records back in front of the unacknowledged ones (the sidecar lost
   * them: sync mode none and an OS crash) and reopens the stream to send all.
   */
  resend(records: persistenceV1.WalRecord[]): void {
    const first = this.unacked[0]?.lsn ?? Infinity;
    this.unacked = [...records.filter((r) => r.lsn < first), ...this.unacked];
    const old = this.stream;
    this.stream = undefined;
    old?.cancel();
    this.open();
  }

  /** The sidecar refused these records: never send them again. */
  private forgetFrom(lsn: number): void {
    this.unacked = this.unacked.filter((r) => r.lsn < lsn);
    this.outgoing = this.outgoing.filter((r) => r.lsn < lsn);
  }

  /** Records sent but not yet durable. */
  get pending(): number {
    return this.unacked.length;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.stream?.end();
    this.stream = undefined;
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.events.onConnected(connected);
  }
}
