import { chmodSync, mkdirSync } from "node:fs";
import { loadConfigOrExit } from "@t4dm/config";
import { persistenceV1 } from "@t4dm/proto";
import { createLogger } from "@t4dm/telemetry";
import { startSidecarServer } from "./sidecar-server.js";

const SYNC_MODES = {
  fsync: persistenceV1.SyncMode.SYNC_MODE_FSYNC,
  fdatasync: persistenceV1.SyncMode.SYNC_MODE_FDATASYNC,
  none: persistenceV1.SyncMode.SYNC_MODE_NONE,
} as const;

async function main(): Promise<void> {
  const config = loadConfigOrExit("t4dm-persistence");
  const logger = createLogger({ level: config.logLevel, service: "persistence" });
  mkdirSync(config.dataDir, { recursive: true });

  const server = await startSidecarServer(config, logger, () => ({
    durableLsn: 0,
    segmentCount: 0,
    walBytes: 0,
    walBytesLimit: config.walSegmentBytes * config.walMaxSegments,
    newestCheckpointLsn: 0,
    newestCheckpointTime: undefined,
    checkpointCount: 0,
    syncMode: SYNC_MODES[config.walSyncMode],
    poisoned: false,
    poisonReason: "",
    checkpointRequested: false,
  }));
  // Only the memory service in this pod may reach the socket.
  if (config.sidecarAddr.kind === "unix") chmodSync(config.sidecarAddr.path!, 0o600);
  logger.info("sidecar ready", { event: "sidecar.ready", dataDir: config.dataDir, syncMode: config.walSyncMode });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info("sidecar stopping", { event: "sidecar.stopping", signal });
    void server.close().then(() => {
      logger.info("sidecar stopped", { event: "sidecar.stopped" });
      process.exit(0);
    });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`t4dm-persistence: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
