import { chmodSync } from "node:fs";
import { loadConfigOrExit } from "@t4dm/config";
import { createLogger, notifyReady, notifyStopping } from "@t4dm/telemetry";
import { openSidecar } from "./open-sidecar.js";
import { startSidecarServer } from "./sidecar-server.js";
import { NodeFileLayer } from "./storage/node-file-layer.js";
import { WalCorruptError } from "./wal/wal-errors.js";

/** Exit code when the WAL is damaged where recovery must not guess. */
const EXIT_CORRUPT = 3;

async function main(): Promise<void> {
  const config = loadConfigOrExit("t4dm-persistence");
  const logger = createLogger({ level: config.logLevel, service: "persistence" });

  let opened;
  try {
    opened = await openSidecar(new NodeFileLayer(), config, logger);
  } catch (error) {
    if (error instanceof WalCorruptError) {
      logger.error("refusing to start: the WAL is corrupt; the damaged file was copied to quarantine/", {
        event: "wal.corrupt",
        file: error.fileName,
        offset: error.offset,
        lsn: error.lsn,
        reason: error.reason,
      });
      process.stderr.write(`t4dm-persistence: ${error.message}\n`);
      process.exit(EXIT_CORRUPT);
    }
    throw error;
  }
  const { sidecar } = opened;
  const server = await startSidecarServer(config.sidecarAddr, sidecar, logger, config.sidecarToken);
  // Only the memory service in this pod may reach the socket.
  if (config.sidecarAddr.kind === "unix") chmodSync(config.sidecarAddr.path!, 0o600);
  const status = sidecar.status();
  logger.info("sidecar ready", {
    event: "sidecar.ready",
    dataDir: config.dataDir,
    syncMode: config.walSyncMode,
    durableLsn: status.durableLsn,
    segments: status.segmentCount,
    newestCheckpointLsn: status.newestCheckpointLsn,
  });
  void notifyReady(`durable LSN ${status.durableLsn}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    void notifyStopping();
    logger.info("sidecar stopping", { event: "sidecar.stopping", signal, writers: server.writers });
    void (async () => {
      // When both processes get the signal, the memory service still needs us for its final
      // checkpoint and SYSTEM_SHUTDOWN record: wait until it closes its WAL stream (bounded).
      const deadline = Date.now() + config.sidecarShutdownGraceSeconds * 1000;
      while (server.writers > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      if (server.writers > 0) logger.warn("memory service still connected at the end of the grace period; stopping anyway", { event: "sidecar.grace_expired" });
      await server.close();
      await opened.close();
      logger.info("sidecar stopped", { event: "sidecar.stopped", durableLsn: sidecar.writer.durableLsn });
      process.exit(0);
    })();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`t4dm-persistence: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
