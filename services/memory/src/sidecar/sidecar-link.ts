import { credentials, InterceptingCall, Metadata, status, type Interceptor, type ServiceError } from "@grpc/grpc-js";
import { persistenceV1 } from "@t4dm/proto";
import type { Logger } from "@t4dm/telemetry";

export interface SidecarLinkOptions {
  target: string;
  /** Shared token for a loopback-TCP sidecar. */
  token?: string;
  logger: Logger;
  /** Called on every connect (with the sidecar's status) and disconnect. */
  onChange: (status: persistenceV1.GetStatusResponse | undefined) => void;
  /**
   * Backoff bounds for reconnecting, in milliseconds. The cap is low on
   * purpose: the sidecar is local, a retry costs a failed connect to a
   * socket, and a high cap made the service reach a restarted sidecar
   * seconds after it was ready.
   */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Timer seam for the retries (tests drive it); returns a cancel function. */
  setTimer?: (run: () => void, ms: number) => () => void;
}

export const SIDECAR_BACKOFF_MIN_MS = 50;
export const SIDECAR_BACKOFF_MAX_MS = 250;

/**
 * The memory service's connection to its persistence sidecar. It keeps
 * trying with capped exponential backoff until a GetStatus handshake
 * succeeds, then watches the channel and starts over when it drops.
 */
export class SidecarLink {
  readonly client: persistenceV1.PersistenceServiceClient;
  private lastStatus: persistenceV1.GetStatusResponse | undefined;
  private closed = false;
  private cancelTimer: (() => void) | undefined;
  private backoffMs: number;
  private failedAttempts = 0;

  constructor(private readonly options: SidecarLinkOptions) {
    this.client = new persistenceV1.PersistenceServiceClient(options.target, credentials.createInsecure(), {
      // A unix socket has no authority; name it so logs and TLS-free HTTP/2 are happy.
      "grpc.default_authority": "t4dm-sidecar",
      // The sidecar is local: after a restart, reconnect at once, not after
      // grpc-js's default backoff of up to two minutes.
      "grpc.initial_reconnect_backoff_ms": SIDECAR_BACKOFF_MIN_MS,
      "grpc.max_reconnect_backoff_ms": SIDECAR_BACKOFF_MAX_MS,
      // Checkpoints and recovery batches are larger than the 4 MiB default.
      "grpc.max_receive_message_length": 64 * 1024 * 1024,
      "grpc.max_send_message_length": 64 * 1024 * 1024,
      // Recover streams a segment's records after scanning it; a 16 MiB HTTP/2 window (default
      // 64 KiB) lets the sidecar read ahead while this process applies, instead of taking turns.
      "grpc-node.flow_control_window": 16 * 1024 * 1024,
      interceptors: options.token ? [withToken(options.token)] : [],
    });
    this.backoffMs = options.minBackoffMs ?? SIDECAR_BACKOFF_MIN_MS;
  }

  get connected(): boolean {
    return this.lastStatus !== undefined;
  }

  get status(): persistenceV1.GetStatusResponse | undefined {
    return this.lastStatus;
  }

  start(): void {
    this.attempt();
  }

  /** Asks the sidecar for a fresh status (for a metrics scrape); keeps the old one on failure. */
  refresh(): Promise<void> {
    if (!this.connected || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.client.getStatus({}, new Metadata(), { deadline: Date.now() + 1000 }, (error: ServiceError | null, response) => {
        if (!error && !this.closed) this.lastStatus = response;
        resolve();
      });
    });
  }

  close(): void {
    this.closed = true;
    this.cancelTimer?.();
    this.client.close();
  }

  private attempt(): void {
    if (this.closed) return;
    this.client.getStatus({}, new Metadata(), { deadline: Date.now() + 2000 }, (error: ServiceError | null, response) => {
      if (this.closed) return;
      if (error) {
        this.setStatus(undefined);
        this.failedAttempts += 1;
        // Retries are frequent by design: warn once per outage, the rest at debug level.
        this.options.logger[this.failedAttempts === 1 ? "warn" : "debug"]("sidecar not reachable; retrying", {
          event: "sidecar.retry",
          code: status[error.code],
          detail: error.details,
          attempt: this.failedAttempts,
          retryInMs: this.backoffMs,
        });
        const setTimer = this.options.setTimer ?? defaultTimer;
        this.cancelTimer = setTimer(() => {
          this.cancelTimer = undefined;
          this.attempt();
        }, this.backoffMs);
        this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? SIDECAR_BACKOFF_MAX_MS);
        return;
      }
      this.backoffMs = this.options.minBackoffMs ?? SIDECAR_BACKOFF_MIN_MS;
      this.failedAttempts = 0;
      const firstConnect = !this.connected;
      this.setStatus(response);
      if (firstConnect) {
        this.options.logger.info("connected to sidecar", {
          event: "sidecar.connected",
          target: this.options.target,
          durableLsn: response.durableLsn,
        });
      }
      this.watchForDisconnect();
    });
  }

  /** Waits for the channel to leave READY, then reconnects. */
  private watchForDisconnect(): void {
    const channel = this.client.getChannel();
    const state = channel.getConnectivityState(false);
    channel.watchConnectivityState(state, Infinity, () => {
      if (this.closed) return;
      const next = channel.getConnectivityState(false);
      if (next === state) return this.watchForDisconnect();
      this.options.logger.warn("sidecar connection lost", { event: "sidecar.disconnected" });
      this.setStatus(undefined);
      this.attempt();
    });
  }

  private setStatus(next: persistenceV1.GetStatusResponse | undefined): void {
    const changed = (next === undefined) !== (this.lastStatus === undefined);
    this.lastStatus = next;
    if (changed || next !== undefined) this.options.onChange(next);
  }
}

function defaultTimer(run: () => void, ms: number): () => void {
  const timer = setTimeout(run, ms);
  return () => clearTimeout(timer);
}

/** Adds the sidecar's shared token to every call. */
function withToken(token: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set("authorization", `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}
