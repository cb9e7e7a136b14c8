import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LearningState } from "@t4dm/learning";
import { createLogger } from "@t4dm/telemetry";
import { ServiceProcess } from "@t4dm/testkit";
// From dist: the checkpointer's encoder runs a worker from its built file.
import { Checkpointer } from "../dist/pipeline/checkpointer.js";
import { CommitPipeline } from "../dist/pipeline/commit-pipeline.js";
import { connectPersistence } from "../dist/sidecar/persistence-client.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("a failed checkpoint is retried with backoff until one succeeds", () => {
  it("retries by itself across a sidecar outage, with growing delays, and commits once the sidecar is back", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "t4dm-ckpt-retry-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { T4DM_DATA_DIR: dir, T4DM_SIDECAR_ADDR: `unix:${path.join(dir, "sidecar.sock")}` };
    let sidecar = ServiceProcess.start("persistence", env);
    cleanups.push(() => sidecar.kill("SIGKILL"));
    const connection = connectPersistence(String((await sidecar.waitForEvent("grpc.listening")).addr));
    cleanups.push(() => connection.close());
    const client = connection.client;
    const logger = createLogger({ level: "error", service: "test", write: () => {} });
    const pipeline = new CommitPipeline(new LearningState(), client, logger);
    pipeline.start();
    cleanups.push(() => pipeline.close());

    // The retry timer is the test's: it records each delay and runs the retry when told.
    const delays: number[] = [];
    let pending: (() => void) | undefined;
    let scheduled: () => void = () => {};
    const committed: number[] = [];
    const checkpointer = new Checkpointer(pipeline, client, logger, {
      everyRecords: 1_000_000,
      now: () => new Date(),
      onCommitted: (lsn) => committed.push(lsn),
      retryMinMs: 100,
      retryMaxMs: 400,
      setTimer: (run, ms) => {
        delays.push(ms);
        pending = run;
        scheduled();
        return () => (pending = undefined);
      },
    });
    cleanups.push(() => checkpointer.close());
    const nextRetry = () => new Promise<void>((resolve) => (pending ? resolve() : (scheduled = resolve)));
    /** Runs the scheduled retry, then waits until it committed or scheduled the next one. */
    const runRetry = async () => {
      await Promise.race([nextRetry(), failAfter(15_000, "no retry was scheduled")]);
      const run = pending!;
      pending = undefined;
      const before = committed.length;
      const rescheduled = nextRetry();
      // As a timer would: on a later turn of the event loop, so the sidecar's I/O gets its turn.
      setImmediate(run);
      await Promise.race([rescheduled, until(() => committed.length > before)]);
    };

    await checkpointer.checkpoint("baseline");
    expect(committed).toHaveLength(1);

    await sidecar.kill("SIGKILL");
    checkpointer.trigger("test");
    // It fails (or cannot start) while the sidecar is gone, and schedules its own retry, backing off.
    for (let i = 0; i < 4; i++) await runRetry();
    expect(committed).toHaveLength(1);
    expect(delays.slice(0, 4)).toEqual([200, 400, 400, 400]);

    sidecar = ServiceProcess.start("persistence", env);
    await sidecar.waitForEvent("grpc.listening");
    // Nothing but the retry timer runs a checkpoint here; it keeps going until one commits.
    while (committed.length === 1) await runRetry();
    expect(committed).toHaveLength(2);
  });
});

/** Rejects after `ms` (only to turn a missing retry into a clear failure). */
function failAfter(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}

/** Resolves when `done()` holds, checking each turn of the event loop. */
function until(done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (done() ? resolve() : setTimeout(check, 10));
    check();
  });
}
