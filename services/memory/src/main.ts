import { loadConfigOrExit } from "@t4dm/config";
import { createLogger } from "@t4dm/telemetry";
import { startEngine, type Engine } from "./engine.js";
import { startHttpServer } from "./http-server.js";
import { CheckpointMismatchError } from "./pipeline/recover-state.js";
import { startPublicServer } from "./public-server.js";
import { Readiness } from "./readiness.js";
import { SidecarLink } from "./sidecar-link.js";

async function main(): Promise<void> {
  const config = loadConfigOrExit("t4dm-memory");
  const logger = createLogger({ level: config.logLevel, service: "memory" });
  const startTime = new Date();
  const clock = () => new Date();

  const readiness = new Readiness(["sidecar", "recovered", "wal"]);
  readiness.onChange((ready) => logger.info(ready ? "ready" : "not ready", { event: "readiness", ready, unmet: readiness.unmet }));
  let engine: Engine | undefined;
  let starting = false;

  const sidecar = new SidecarLink({
    target: config.sidecarAddr.grpcTarget,
    logger,
    onChange: (status) => {
      readiness.set("sidecar", status !== undefined);
      if (status && engine) engine.onSidecarStatus(status);
      if (status && !engine && !starting) void recover();
    },
  });

  /** Recovers once per process; a failure (the sidecar went away mid-stream) is retried on the next connect. */
  async function recover(): Promise<void> {
    starting = true;
    try {
      engine = await startEngine(config, sidecar.client, logger, readiness, clock);
      readiness.set("recovered", true);
    } catch (error) {
      if (error instanceof CheckpointMismatchError) {
        logger.error("refusing to start: the checkpoint does not match its state hash", { event: "recovery.mismatch", error });
        process.exit(3);
      }
      logger.warn("recovery did not finish; retrying when the sidecar answers again", { event: "recovery.retry", error });
      setTimeout(() => {
        if (!engine && sidecar.connected) void recover();
      }, 500).unref();
    } finally {
      starting = false;
    }
  }

  const grpc = await startPublicServer(config.grpcAddr, logger, readiness, {
    logger,
    readiness,
    sidecar,
    startTime,
    bufferCapacity: config.bufferCapacity,
    engine: () => engine,
  });
  const http = await startHttpServer(config.httpAddr, logger, readiness);
  sidecar.start();

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info("memory service stopping", { event: "memory.stopping", signal });
    readiness.set("not shutting down", false);
    engine?.stop();
    sidecar.close();
    void Promise.all([grpc.close(), http.close()]).then(() => {
      logger.info("memory service stopped", { event: "memory.stopped" });
      process.exit(0);
    });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`t4dm-memory: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
