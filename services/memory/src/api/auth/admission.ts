import { ResourceExhaustedError } from "@t4dm/rpc";

/**
 * Load limits at the door: at most `maxInFlight` operations at once, and a
 * token bucket per key (`ratePerSecond`, bursting to twice that). Refusals
 * are RESOURCE_EXHAUSTED before any work is done. The clock is injectable.
 */
export class Admission {
  private active = 0;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limits: { maxInFlight: number; ratePerSecond: number },
    private readonly now: () => number = () => performance.now(),
  ) {}

  get inFlight(): number {
    return this.active;
  }

  async run<T>(keyId: string, work: () => Promise<T>): Promise<T> {
    this.takeToken(keyId);
    if (this.active >= this.limits.maxInFlight) {
      throw new ResourceExhaustedError(`too many operations in flight (limit ${this.limits.maxInFlight}); retry with backoff`, "TOO_MANY_IN_FLIGHT");
    }
    this.active += 1;
    try {
      return await work();
    } finally {
      this.active -= 1;
    }
  }

  private takeToken(keyId: string): void {
    const rate = this.limits.ratePerSecond;
    if (rate <= 0) return;
    const now = this.now();
    const burst = rate * 2;
    const bucket = this.buckets.get(keyId) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    if (bucket.tokens < 1) {
      this.buckets.set(keyId, bucket);
      throw new ResourceExhaustedError(`request rate for this key is over ${rate}/s; retry with backoff`, "RATE_LIMITED", { metadata: { key_id: keyId } });
    }
    bucket.tokens -= 1;
    this.buckets.set(keyId, bucket);
  }
}
