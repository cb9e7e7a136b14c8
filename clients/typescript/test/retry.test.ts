import { describe, expect, it } from "vitest";
import { backoffMs, withRetries, type Clock, type RetryPolicy } from "../src/retry.js";

const POLICY: RetryPolicy = { maxAttempts: 4, initialBackoffMs: 100, maxBackoffMs: 250, multiplier: 2 };

class Unavailable extends Error {}

/** A clock that only moves when the loop sleeps. */
function fakeClock(start = 1_000): Clock & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return { slept, now: () => now, sleep: async (ms) => void (slept.push(ms), (now += ms)) };
}

const isUnavailable = (error: unknown) => error instanceof Unavailable;

describe("withRetries", () => {
  it("retries a retryable failure with the same request until it succeeds", async () => {
    const clock = fakeClock();
    const seen: string[] = [];
    const result = await withRetries(
      async (attempt) => {
        seen.push("request-1");
        if (attempt < 3) throw new Unavailable();
        return "ok";
      },
      { policy: POLICY, deadline: 1_000_000, isRetryable: isUnavailable, clock, random: () => 0.5 },
    );
    expect(result).toBe("ok");
    expect(seen).toEqual(["request-1", "request-1", "request-1"]);
    expect(clock.slept).toEqual([50, 100]);
  });

  it("never retries an error that is not retryable", async () => {
    const clock = fakeClock();
    let attempts = 0;
    const bad = new Error("INVALID_ARGUMENT");
    await expect(withRetries(async () => (attempts++, Promise.reject(bad)), { policy: POLICY, deadline: 1_000_000, isRetryable: isUnavailable, clock })).rejects.toBe(bad);
    expect(attempts).toBe(1);
    expect(clock.slept).toEqual([]);
  });

  it("gives up after maxAttempts with the last error", async () => {
    const clock = fakeClock();
    const errors = [new Unavailable("1"), new Unavailable("2"), new Unavailable("3"), new Unavailable("4"), new Unavailable("5")];
    let attempts = 0;
    await expect(withRetries(async () => Promise.reject(errors[attempts++]), { policy: POLICY, deadline: 1_000_000, isRetryable: isUnavailable, clock, random: () => 0.99 })).rejects.toBe(errors[3]);
    expect(attempts).toBe(POLICY.maxAttempts);
  });

  it("does not wait past the deadline", async () => {
    const clock = fakeClock(1_000);
    let attempts = 0;
    const retries: number[] = [];
    await expect(
      withRetries(async () => (attempts++, Promise.reject(new Unavailable())), {
        policy: { ...POLICY, maxAttempts: 100 },
        deadline: 1_300,
        isRetryable: isUnavailable,
        clock,
        random: () => 0.99,
        onRetry: (r) => retries.push(r.attempt),
      }),
    ).rejects.toBeInstanceOf(Unavailable);
    // Waits of 99, 198 (cap 200): the third (247) would pass 1300.
    expect(clock.slept).toEqual([99, 198]);
    expect(retries).toEqual([1, 2]);
    expect(attempts).toBe(3);
  });
});

describe("backoffMs", () => {
  it("grows by the multiplier up to the cap, jittered below it", () => {
    expect([1, 2, 3, 4].map((retry) => backoffMs(POLICY, retry, () => 0.999999))).toEqual([99, 199, 249, 249]);
    expect(backoffMs(POLICY, 3, () => 0)).toBe(0);
  });
});
