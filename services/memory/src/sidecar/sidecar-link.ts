import { status, type ServiceError } from "@grpc/grpc-js";
import type { persistenceV1 } from "@t4dm/proto";
import type { Logger } from "@t4dm/telemetry";
import {
  connectPersistence,
  SIDECAR_BACKOFF_MAX_MS,
  SIDECAR_BACKOFF_MIN_MS,
  type PersistenceClient,
  type PersistenceConnection,
} from "./persistence-client.js";

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

export { SIDECAR_BACKOFF_MAX_MS, SIDECAR_BACKOFF_MIN_MS };

/**
 * The memory service's connection to its persistence sidecar. It keeps
 * trying with capped exponential backoff until a GetStatus handshake
 * succeeds, then watches the channel and starts over when it drops.
 */
export class SidecarLink {
  private readonly connection: PersistenceConnection;
  private lastStatus: persistenceV1.GetStatusResponse | undefined;
  private closed = false;
  private cancelTimer: (() => void) | undefined;
  private backoffMs: number;
  private failedAttempts = 0;

  constructor(private readonly options: SidecarLinkOptions) {
    this.connection = connectPersistence(options.target, options.token);
    this.backoffMs = options.minBackoffMs ?? SIDECAR_BACKOFF_MIN_MS;
  }

  /** What the engine talks to the sidecar through. */
  get client(): PersistenceClient {
    return this.connection.client;
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
    return this.client.getStatus(1000).then(
      (response) => {
        if (!this.closed) this.lastStatus = response;
      },
      () => undefined,
    );
  }

  close(): void {
    this.closed = true;
    this.cancelTimer?.();
    this.connection.close();
  }

  private attempt(): void {
    if (this.closed) return;
    this.client.getStatus(2000).then(
      (response) => this.onConnected(response),
      (error: ServiceError) => this.onFailed(error),
    );
  }

  private onFailed(error: ServiceError): void {
    if (this.closed) return;
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
  }

  private onConnected(response: persistenceV1.GetStatusResponse): void {
    if (this.closed) return;
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
  }

  /** Waits for the channel to leave READY, then reconnects. */
  private watchForDisconnect(): void {
    const channel = this.connection.channel;
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
