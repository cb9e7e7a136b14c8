import { T4dmOptionError } from "./errors.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry.js";

/** TLS for the channel: `true` trusts the system's roots; an object sets PEM roots and a client certificate. */
export type TlsOption =
  | boolean
  | {
      /** PEM roots to trust instead of the system's (e.g. a private CA). */
      readonly rootCerts?: string | Buffer;
      /** PEM client certificate chain and key, for a service that asks for client certificates. */
      readonly certChain?: string | Buffer;
      readonly privateKey?: string | Buffer;
    };

export interface ConnectOptions {
  /** Sent as `authorization: Bearer <key>` on every call; omit when the service has no keys configured. */
  readonly apiKey?: string;
  /** Plaintext when unset or false. */
  readonly tls?: TlsOption;
  /** The default time for one call, retries included (10 s). */
  readonly deadlineMs?: number;
  /** Retries of UNAVAILABLE; `false` or `{ maxAttempts: 1 }` turns them off. */
  readonly retries?: Partial<RetryPolicy> | false;
  /** Told before each retry's wait (the request id is the one every attempt sends). */
  readonly onRetry?: (retry: RetryEvent) => void;
}

export interface RetryEvent {
  readonly method: string;
  /** The attempt that failed, 1-based. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
  /** The request_id every attempt of this call sends; empty for calls that carry none. */
  readonly requestId: string;
}

export interface ResolvedOptions {
  readonly apiKey: string | undefined;
  readonly tls: Exclude<TlsOption, boolean> | undefined;
  readonly deadlineMs: number;
  readonly retry: RetryPolicy;
  readonly onRetry: ((retry: RetryEvent) => void) | undefined;
}

export const DEFAULT_DEADLINE_MS = 10_000;

/** Checks what `connect` was given; every problem is a T4dmOptionError naming the option. */
export function resolveOptions(address: unknown, options: ConnectOptions = {}): ResolvedOptions {
  if (typeof address !== "string" || address.trim() === "" || /\s/.test(address)) {
    throw new T4dmOptionError("address", `must be a non-empty "host:port" (or "unix:/path") without spaces, got ${JSON.stringify(address)}`);
  }
  if (typeof options !== "object" || options === null) throw new T4dmOptionError("options", "must be an object");
  const { apiKey, tls, deadlineMs = DEFAULT_DEADLINE_MS, retries, onRetry } = options;
  if (apiKey !== undefined && (typeof apiKey !== "string" || apiKey === "" || /[\s]/.test(apiKey))) {
    throw new T4dmOptionError("apiKey", "must be a non-empty string without whitespace");
  }
  if (tls !== undefined && typeof tls !== "boolean" && (typeof tls !== "object" || tls === null)) {
    throw new T4dmOptionError("tls", "must be a boolean or { rootCerts, certChain, privateKey }");
  }
  if (tls && typeof tls === "object" && Boolean(tls.certChain) !== Boolean(tls.privateKey)) {
    throw new T4dmOptionError("tls", "needs certChain and privateKey together");
  }
  positive("deadlineMs", deadlineMs);
  if (onRetry !== undefined && typeof onRetry !== "function") throw new T4dmOptionError("onRetry", "must be a function");
  return {
    apiKey,
    tls: tls === true ? {} : tls || undefined,
    deadlineMs,
    retry: resolveRetry(retries),
    onRetry,
  };
}

function resolveRetry(retries: ConnectOptions["retries"]): RetryPolicy {
  if (retries === false) return { ...DEFAULT_RETRY_POLICY, maxAttempts: 1 };
  if (retries === undefined) return DEFAULT_RETRY_POLICY;
  if (typeof retries !== "object" || retries === null) throw new T4dmOptionError("retries", "must be false or { maxAttempts, initialBackoffMs, maxBackoffMs, multiplier }");
  const policy = { ...DEFAULT_RETRY_POLICY, ...retries };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) throw new T4dmOptionError("retries.maxAttempts", "must be an integer >= 1");
  positive("retries.initialBackoffMs", policy.initialBackoffMs);
  positive("retries.maxBackoffMs", policy.maxBackoffMs);
  if (typeof policy.multiplier !== "number" || !(policy.multiplier >= 1) || !Number.isFinite(policy.multiplier)) {
    throw new T4dmOptionError("retries.multiplier", "must be a finite number >= 1");
  }
  return policy;
}

function positive(option: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) throw new T4dmOptionError(option, `must be a finite number > 0, got ${String(value)}`);
}
