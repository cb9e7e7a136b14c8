import type { Logger } from "@t4dm/telemetry";
import type { Admission } from "../api/auth/admission.js";
import type { Gate } from "../api/auth/guarded.js";
import type { Engine } from "./engine.js";
import type { Readiness } from "./readiness.js";

export interface ShutdownParts {
  logger: Logger;
  readiness: Readiness;
  gate: Gate;
  admission: Admission;
  engine: () => Engine | undefined;
  closeServers: () => Promise<void>;
  closeSidecar: () => void;
  /** Milliseconds to wait for in-flight calls. */
  drainMs: number;
  /** Milliseconds for the final checkpoint. */
  checkpointMs: number;
}

/**
 * The five phases of a graceful stop: refuse new work (not ready, UNAVAILABLE),
 * drain what is in flight, write a final checkpoint, log SYSTEM_SHUTDOWN and
 * close the WAL stream, then close stores and servers. Each phase is logged
 * with its duration; a phase that runs out of time is logged and skipped,
 * never blocking the exit (the WAL keeps every acknowledged record either way).
 */
export async function gracefulShutdown(parts: ShutdownParts, signal: string): Promise<void> {
  const { logger } = parts;
  const phase = async (name: string, work: () => Promise<unknown>, budgetMs: number) => {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      work().then(
        () => "done",
        (error: unknown) => {
          logger.warn(`shutdown phase ${name} failed`, { event: "shutdown.phase_failed", phase: name, error });
          return "failed";
        },
      ),
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve("timed out"), budgetMs))),
    ]);
    clearTimeout(timer);
    logger.info(`shutdown: ${name} ${outcome}`, { event: "shutdown.phase", phase: name, outcome, ms: Date.now() - started });
  };

  logger.info("graceful shutdown started", { event: "shutdown.started", signal });
  // 1. Stop accepting.
  parts.gate.closing = true;
  parts.readiness.set("not shutting down", false);
  // 2. Drain.
  await phase("drain", () => waitUntil(() => parts.admission.inFlight === 0), parts.drainMs);
  const engine = parts.engine();
  if (engine) {
    // 3. Final checkpoint.
    await phase("checkpoint", () => engine.checkpointer.checkpoint("shutdown", { fresh: true }), parts.checkpointMs);
    // 4. SYSTEM_SHUTDOWN, durable, then the WAL stream closes.
    await phase(
      "wal",
      () => engine.pipeline.submit([{ $case: "systemShutdown", value: { reason: signal } }], new Date()),
      Math.min(parts.checkpointMs, 10_000),
    );
  }
  // 5. Cleanup.
  await phase(
    "cleanup",
    async () => {
      engine?.stop();
      parts.closeSidecar();
      await parts.closeServers();
    },
    10_000,
  );
  logger.info("memory service stopped", { event: "memory.stopped", signal });
}

/** Resolves once the condition holds, checking on each turn of the event loop's timers. */
function waitUntil(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (condition() ? resolve() : setTimeout(check, 10));
    check();
  });
}
