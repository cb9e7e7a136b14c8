import { execFile } from "node:child_process";

/** What a notification came to: sent, or why not (never thrown: systemd's own timeouts are the backstop). */
export type NotifyResult = { sent: true } | { sent: false; reason: string };

export interface NotifyOptions {
  /** The environment to read NOTIFY_SOCKET from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** The systemd-notify binary; defaults to `systemd-notify` on PATH. */
  binary?: string;
  /** How long to wait for systemd-notify; defaults to 10 s (it waits up to 5 s for the manager). */
  timeoutMs?: number;
}

/**
 * sd_notify(3) for a `Type=notify` systemd unit (deploy/systemd/). Node has
 * no datagram unix sockets, so the message is sent by the `systemd-notify`
 * binary. That sender is our child, not the unit's main process, hence the
 * units' `NotifyAccess=all`; systemd ≥ 246 makes systemd-notify wait until
 * the manager has read the message (a barrier), so the short-lived sender is
 * still attributed to the unit. Without NOTIFY_SOCKET (not under systemd: a
 * container, a test, `make run`) every call is a no-op that spawns nothing.
 */
export function sdNotify(assignments: readonly string[], options: NotifyOptions = {}): Promise<NotifyResult> {
  const env = options.env ?? process.env;
  if (!env.NOTIFY_SOCKET) return Promise.resolve({ sent: false, reason: "NOTIFY_SOCKET is not set" });
  return new Promise((resolve) => {
    execFile(
      options.binary ?? "systemd-notify",
      // One assignment per argument; a newline inside a value would start another assignment.
      assignments.map((a) => a.replace(/[\r\n]+/g, " ")),
      { env: { PATH: env.PATH ?? "/usr/bin:/bin", NOTIFY_SOCKET: env.NOTIFY_SOCKET }, timeout: options.timeoutMs ?? 10_000 },
      (error, _stdout, stderr) => {
        if (!error) return resolve({ sent: true });
        const detail = stderr.trim() || error.message;
        resolve({ sent: false, reason: `systemd-notify ${assignments.join(" ")} failed: ${detail}` });
      },
    );
  });
}

/** READY=1: call once the service can serve (for the memory service: readiness first true). */
export function notifyReady(status = "ready", options?: NotifyOptions): Promise<NotifyResult> {
  return sdNotify(["READY=1", `STATUS=${status}`], options);
}

/** STOPPING=1: call as a graceful stop begins, so systemd shows "deactivating" at once. */
export function notifyStopping(status = "stopping", options?: NotifyOptions): Promise<NotifyResult> {
  return sdNotify(["STOPPING=1", `STATUS=${status}`], options);
}

/** STATUS=…: a one-line status for `systemctl status` (e.g. "recovering: replaying the WAL"). */
export function notifyStatus(status: string, options?: NotifyOptions): Promise<NotifyResult> {
  return sdNotify([`STATUS=${status}`], options);
}
