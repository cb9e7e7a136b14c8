import type { ClientDuplexStream, ServiceError } from "@grpc/grpc-js";
import type { persistenceV1 } from "@t4dm/proto";

interface Waiter {
  lsn: number;
  resolve: (durableLsn: number) => void;
  reject: (error: Error) => void;
}

/** The sidecar refused records from `refusedFromLsn` on because its WAL is at its cap; the stream stays open. */
export class WalFullRefusal extends Error {
  constructor(readonly refusedFromLsn: number) {
    super(`the WAL is at its cap: records from LSN ${refusedFromLsn} were refused`);
    this.name = "WalFullRefusal";
  }
}

/**
 * A minimal writer on the sidecar's Append stream for tests and benchmarks:
 * it sends record batches and resolves each once an ack covers its highest
 * LSN. LSNs are the caller's to assign (the sidecar only checks them).
 */
export class AppendClient {
  private readonly stream: ClientDuplexStream<persistenceV1.AppendRequest, persistenceV1.AppendResponse>;
  private readonly waiters: Waiter[] = [];
  private failure: Error | undefined;
  private outgoing: persistenceV1.WalRecord[] = [];
  durableLsn = 0;
  /** Cap refusals the sidecar answered, in order. */
  readonly refusals: WalFullRefusal[] = [];
  readonly ended: Promise<void>;

  /**
   * `open` opens the Append stream; the generated `client.append()` by
   * default. The sidecar bench passes the memory service's cheaper encoder
   * (services/memory/src/sidecar/append-stream.ts), so the load generator's
   * own allocations do not weigh on the figures.
   */
  constructor(
    client: persistenceV1.PersistenceServiceClient,
    open: (client: persistenceV1.PersistenceServiceClient) => ClientDuplexStream<persistenceV1.AppendRequest, persistenceV1.AppendResponse> = (c) => c.append(),
  ) {
    this.stream = open(client);
    this.stream.on("data", (response: persistenceV1.AppendResponse) => {
      this.durableLsn = Math.max(this.durableLsn, response.durableLsn);
      if (response.refusedFromLsn > 0) {
        const refusal = new WalFullRefusal(response.refusedFromLsn);
        this.refusals.push(refusal);
        for (const waiter of this.waiters.filter((w) => w.lsn >= refusal.refusedFromLsn)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.reject(refusal);
        }
      }
      while (this.waiters.length > 0 && this.waiters[0]!.lsn <= this.durableLsn) this.waiters.shift()!.resolve(this.durableLsn);
    });
    this.ended = new Promise((resolve) => {
      this.stream.on("error", (error: ServiceError) => {
        this.fail(error);
        resolve();
      });
      this.stream.on("end", () => {
        this.fail(new Error("append stream ended"));
        resolve();
      });
    });
  }

  /** The error that ended the stream, if any. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Appends; records appended in the same tick go out as one message, in call order. */
  append(records: persistenceV1.WalRecord[]): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    let highest = 0;
    for (const record of records) highest = Math.max(highest, record.lsn);
    const acked = new Promise<number>((resolve, reject) => {
      // Kept in LSN order; callers almost always append in order, so this is a push.
      let at = this.waiters.length;
      while (at > 0 && this.waiters[at - 1]!.lsn > highest) at -= 1;
      this.waiters.splice(at, 0, { lsn: highest, resolve, reject });
    });
    this.outgoing.push(...records);
    if (this.outgoing.length === records.length) {
      queueMicrotask(() => {
        const batch = this.outgoing;
        this.outgoing = [];
        if (this.failure) return;
        // Messages of at most ~64 KiB: grpc-js moves many mid-sized frames faster than a few huge ones.
        let start = 0;
        let bytes = 0;
        batch.forEach((record, i) => {
          bytes += record.payload.length + 32;
          if (bytes >= 64 * 1024 || i === batch.length - 1) {
            this.stream.write({ records: batch.slice(start, i + 1) });
            start = i + 1;
            bytes = 0;
          }
        });
      });
    }
    return acked;
  }

  close(): void {
    this.stream.end();
  }

  cancel(): void {
    this.stream.cancel();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure);
  }
}
