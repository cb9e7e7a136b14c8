import { loadConfigOrExit } from "@t4dm/config";
import { createLogger } from "@t4dm/telemetry";
import { startHttpServer } from "./http-server.js";
import { startPublicServer } from "./public-server.js";
import { Readiness } from "./readiness.js";
import { SidecarLink } from "./sidecar-link.js";

async function main(): Promise<void> {
  const config = loadConfigOrExit("t4dm-memory");
  const logger = createLogger({ level: config.logLevel, service: "memory" });
  const startTime = new Date();

  const readiness = new Readiness(["sidecar"]);
  readiness.onChange((ready) => logger.info(ready ? "ready" : "not ready", { event: "readiness", ready, unmet: readiness.unmet }));
  const sidecar = new SidecarLink({
    target: config.sidecarAddr.grpcTarget,
    logger,
    onChange: (status) => readiness.set("sidecar", status !== undefined),
  });

  const grpc = await startPublicServer(config.grpcAddr, logger, readiness, {
    logger,
    readiness,
    sidecar,
    startTime,
    bufferCapacity: config.bufferCapacity,
  });
  const http = await startHttpServer(config.httpAddr, logger, readiness);
  sidecar.start();

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info("memory service stopping", { event: "memory.stopping", signal });
    readiness.set("not shutting down", false);
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
