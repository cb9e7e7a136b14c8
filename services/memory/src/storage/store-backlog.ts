import { ResourceExhaustedError } from "@t4dm/rpc";
import type { SetTimer } from "./set-timer.js";

/** The answer when the long-term store stayed too far behind for the whole wait. */
export class StoreBacklogFullError extends ResourceExhaustedError {
  constructor(pending: number, limit: number, waitedMs: number) {
    super(
      `${pending} promoted memories are waiting for their long-term store (limit ${limit}); it did not catch up within ${waitedMs} ms, retry with backoff`,
      "STORE_BACKLOG",
      { metadata: { pending: String(pending), limit: String(limit) } },
    );
  }
}

export interface StoreBacklogOptions {
  /** Store writes that may wait before Remember waits too; 0: no limit. */
  limit: number;
  /** How long a Remember waits for room before it is refused. */
  maxWaitMs: number;
  setTimer: SetTimer;
  /** Callers started waiting (true: the first of them) or were all let go (false); for logs and /ready. */
  onStall?: (stalled: boolean, pending: number) => void;
}

interface Waiter {
  resolve: () => void;
  timer: { cancel(): void };
}

/**
 * Backpressure from the long-term store to Remember. Promotions are durable
 * in the WAL at once but reach the store later (store-sync.ts); when Remembers
 * arrive faster than the store takes rows, the promoted memories still
 * waiting pile up in the learning state, and with them every checkpoint and
 * every restart. So at `limit` waiting writes a Remember waits (as RocksDB
 * stalls writes behind compaction) until a sync brings the count below the
 * limit, and is refused with RESOURCE_EXHAUSTED (STORE_BACKLOG) if that takes
 * longer than `maxWaitMs` (the store is down or far too slow). The limit is
 * soft: callers let in together may pass it by one batch each.
 */
export class StoreBacklog {
  private readonly waiters = new Set<Waiter>();

  constructor(
    /** Store writes the state has committed to and no sync has released yet. */
    private readonly pending: () => number,
    private readonly options: StoreBacklogOptions,
  ) {}

  /** Callers waiting for room now. */
  get waiting(): number {
    return this.waiters.size;
  }

  get full(): boolean {
    return this.options.limit > 0 && this.pending() >= this.options.limit;
  }

  /** Resolves at once while there is room; else when a sync makes room, or rejects after the wait. */
  admit(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        timer: this.options.setTimer(() => {
          this.waiters.delete(waiter);
          if (this.waiters.size === 0) this.options.onStall?.(false, this.pending());
          reject(new StoreBacklogFullError(this.pending(), this.options.limit, this.options.maxWaitMs));
        }, this.options.maxWaitMs),
      };
      this.waiters.add(waiter);
      if (this.waiters.size === 1) this.options.onStall?.(true, this.pending());
    });
  }

  /** Store writes were released: let every waiting caller go on if there is room now. */
  recheck(): void {
    if (this.waiters.size === 0 || this.full) return;
    for (const waiter of this.waiters) {
      waiter.timer.cancel();
      waiter.resolve();
    }
    this.waiters.clear();
    this.options.onStall?.(false, this.pending());
  }
}
