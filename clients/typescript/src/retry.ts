/** How a call is retried when the service answers UNAVAILABLE. */
export interface RetryPolicy {
  /** Attempts in all, the first included; 1 means never retry. */
  readonly maxAttempts: number;
  /** The cap on the wait before the first retry. */
  readonly initialBackoffMs: number;
  /** The cap on any one wait. */
  readonly maxBackoffMs: number;
  /** How much the cap grows per retry. */
  readonly multiplier: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 2_000, multiplier: 2 };

/** Time as the retry loop sees it; a seam so tests can drive it without waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * The wait before retry number `retry` (1-based): "full jitter" exponential
 * backoff, uniform in [0, cap), so many clients that failed together do not
 * come back together.
 */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * policy.multiplier ** (retry - 1));
  return Math.floor(random() * cap);
}

export interface RetryOptions {
  readonly policy: RetryPolicy;
  /** Epoch ms after which no attempt starts; a wait that would pass it ends the loop. */
  readonly deadline: number;
  readonly isRetryable: (error: unknown) => boolean;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Told before each wait, e.g. to log it. */
  readonly onRetry?: (retry: { attempt: number; delayMs: number; error: unknown }) => void;
}

/**
 * Runs `attempt` until it succeeds, fails with an error that is not
 * retryable, uses up the attempts, or the next wait would pass the deadline;
 * then throws the last error. `attempt` must send the same request every
 * time (the caller fixes its request_id once), so a retry of an attempt that
 * did reach the service is answered, not applied twice.
 */
export async function withRetries<T>(attempt: (attemptNumber: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const clock = options.clock ?? systemClock;
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (!options.isRetryable(error) || attemptNumber >= options.policy.maxAttempts) throw error;
      const delayMs = backoffMs(options.policy, attemptNumber, options.random);
      if (clock.now() + delayMs >= options.deadline) throw error;
      options.onRetry?.({ attempt: attemptNumber, delayMs, error });
      await clock.sleep(delayMs);
    }
  }
}
