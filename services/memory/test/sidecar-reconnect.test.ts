import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "@t4dm/telemetry";
import { ServiceProcess } from "@t4dm/testkit";
import { SIDECAR_BACKOFF_MAX_MS, SidecarLink } from "../src/sidecar/sidecar-link.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A link to a socket nobody listens on yet, with its retry delays recorded (real timers, so grpc-js behaves as in production). */
function linkTo(socket: string, options: { maxBackoffMs?: number } = {}) {
  const delays: number[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let connected: () => void = () => {};
  const connection = new Promise<void>((resolve) => (connected = resolve));
  const link = new SidecarLink({
    target: `unix:${socket}`,
    logger: createLogger({ level: "error", service: "test", write: () => {} }),
    onChange: (status) => status && connected(),
    ...options,
    setTimer: (run, ms) => {
      delays.push(ms);
      for (const waiter of waiters.filter((w) => delays.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      const timer = setTimeout(run, ms);
      return () => clearTimeout(timer);
    },
  });
  cleanups.push(() => link.close());
  link.start();
  return {
    delays,
    connection,
    /** Resolves once `count` attempts have failed. */
    failures: (count: number) => new Promise<void>((resolve) => (delays.length >= count ? resolve() : waiters.push({ count, resolve }))),
  };
}

function socketDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "t4dm-link-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("the memory service reaches a sidecar that comes up late at once", () => {
  it("retries with a backoff capped low, so the first tries after the sidecar listens connect", async () => {
    const dir = socketDir();
    const socket = path.join(dir, "sidecar.sock");
    const link = linkTo(socket);
    // Long enough an outage for an uncapped doubling backoff to reach seconds.
    await link.failures(10);
    expect(link.delays.slice(0, 3)).toEqual([50, 100, 200]);
    expect(Math.max(...link.delays)).toBe(SIDECAR_BACKOFF_MAX_MS);

    const sidecar = ServiceProcess.start("persistence", { T4DM_DATA_DIR: dir, T4DM_SIDECAR_ADDR: `unix:${socket}` });
    cleanups.push(() => sidecar.kill("SIGKILL"));
    await sidecar.waitForEvent("grpc.listening");
    const failedBefore = link.delays.length;
    await link.connection;
    // One try in flight when the sidecar came up may still fail, and one channel backoff; no more.
    expect(link.delays.length - failedBefore).toBeLessThanOrEqual(2);
  });

  it("honours a configured backoff cap", async () => {
    const link = linkTo(path.join(socketDir(), "none.sock"), { maxBackoffMs: 80 });
    await link.failures(5);
    expect(link.delays).toEqual([50, 80, 80, 80, 80]);
  });
});
