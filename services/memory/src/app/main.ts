import { isLoopback, loadConfigOrExit } from "@t4dm/config";
import { createLogger, createMetrics, notifyReady, notifyStopping, startTracing } from "@t4dm/telemetry";
import { ServiceMetrics } from "./service-metrics.js";
import { Admission } from "../api/auth/admission.js";
import { ApiKeys } from "../api/auth/api-keys.js";
import { Authorizer } from "../api/auth/authorizer.js";
import { startEngine, type Engine } from "./engine.js";
import { EmbedderStartupError } from "../embedding/embedder-startup-error.js";
import { EmbeddingConfigError } from "../embedding/embedder.js";
import { StoreStartupError } from "../storage/open-stores.js";
import { openEmbedder, type EmbedderSource } from "../embedding/open-embedder.js";
import { refuseUnfinishedReembed } from "../reembed/reembed-marker.js";
import { startHttpServer } from "../api/http-server.js";
import { CheckpointMismatchError } from "../pipeline/recover-state.js";
import { startPublicServer } from "../api/public-server.js";
import { Readiness } from "./readiness.js";
import { SidecarLink } from "../sidecar/sidecar-link.js";
import { grpcCredentials, loadTls } from "./tls.js";
import { statusJson, statusOf } from "../api/admin-handlers.js";
import { gracefulShutdown } from "./shutdown.js";

async function main(): Promise<void> {
  const config = loadConfigOrExit("t4dm-memory");
  const logger = createLogger({ level: config.logLevel, service: "memory" });
  const startTime = new Date();
  const clock = () => new Date();

  let keys: ApiKeys;
  try {
    keys = config.apiKeysFile ? ApiKeys.load(config.apiKeysFile) : ApiKeys.empty();
  } catch (error) {
    process.stderr.write(`t4dm-memory: ${(error as Error).message}\n`);
    process.exit(2);
  }
  if (!keys.configured) {
    const exposed = [config.grpcAddr, config.httpAddr].filter((a) => !isLoopback(a.host!));
    if (exposed.length > 0 && !config.allowInsecure) {
      process.stderr.write(
        `t4dm-memory: refusing to listen on ${exposed.map((a) => a.raw).join(", ")} without API keys; set T4DM_API_KEYS_FILE, ` +
          `bind 127.0.0.1, or set T4DM_ALLOW_INSECURE=1 to accept the risk\n`,
      );
      process.exit(2);
    }
    logger.warn("development mode: no API keys configured, every caller may use every namespace; listening on loopback only", {
      event: "auth.development_mode",
      insecure: exposed.length > 0,
    });
  } else {
    logger.info("API keys loaded", { event: "auth.keys_loaded", keys: keys.size });
  }
  const tls = loadTls(config);
  // The model loads before the sidecar is contacted: a missing or damaged file stops here, nothing touched.
  let embedders: EmbedderSource;
  try {
    // A half-finished re-embed leaves two embedders' vectors: refuse before anything else.
    await refuseUnfinishedReembed(config.dataDir);
    embedders = await openEmbedder(config);
  } catch (error) {
    if (!(error instanceof EmbedderStartupError)) throw error;
    logger.error("refusing to start", { event: "startup.fatal", error });
    process.stderr.write(`t4dm-memory: ${error.message}\n`);
    process.exit(2);
  }
  logger.info("embedder loaded", { event: "embedder.loaded", embedder: config.embedder });
  const authorizer = new Authorizer(keys, logger);
  const admission = new Admission({ maxInFlight: config.maxInFlight, ratePerSecond: config.rateLimitPerKey });
  const metrics = createMetrics("t4dm-memory");
  const tracing = startTracing("t4dm-memory");
  if (tracing.exporting) logger.info("exporting traces over OTLP", { event: "tracing.enabled" });
  let engine: Engine | undefined;
  const gate: import("../api/auth/guarded.js").Gate = { authorizer, admission, logger };

  const readiness = new Readiness(["sidecar", "recovered", "wal"]);
  let announced = false;
  readiness.onChange((ready) => {
    logger.info(ready ? "ready" : "not ready", { event: "readiness", ready, unmet: readiness.unmet });
    // systemd (Type=notify) hears READY=1 once, the first time the service is ready.
    if (ready && !announced) {
      announced = true;
      void notifyReady().then((result) => {
        if (!result.sent && process.env.NOTIFY_SOCKET) logger.warn("READY=1 not delivered to systemd", { event: "systemd.notify_failed", reason: result.reason });
      });
    }
  });
  let starting = false;

  let serviceMetrics: ServiceMetrics;
  const sidecar = new SidecarLink({
    target: config.sidecarAddr.grpcTarget,
    token: config.sidecarToken,
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
      engine = await startEngine(config, sidecar.client, logger, readiness, clock, embedders, serviceMetrics);
      readiness.set("recovered", true);
    } catch (error) {
      if (error instanceof EmbedderStartupError) {
        logger.error("refusing to start", { event: "startup.fatal", error });
        process.stderr.write(`t4dm-memory: ${error.message}\n`);
        process.exit(2);
      }
      // A configuration no retry can fix: matched by class, never by name or message. Every store
      // failure at start-up (StoreConfigError included) arrives as a StoreStartupError (open-stores.ts).
      const fatal = [CheckpointMismatchError, EmbeddingConfigError, StoreStartupError];
      if (fatal.some((type) => error instanceof type)) {
        logger.error("refusing to start", { event: "startup.fatal", error });
        process.stderr.write(`t4dm-memory: ${(error as Error).message}\n`);
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

  serviceMetrics = new ServiceMetrics(metrics.meter, { engine: () => engine, admission, sidecar, now: () => Date.now() });
  gate.observe = (method, seconds, code) => serviceMetrics.rpcDuration.record(seconds, { method, code: String(code) });
  const adminContext = {
    logger,
    readiness,
    sidecar,
    startTime,
    bufferCapacity: config.bufferCapacity,
    engine: () => engine,
    gate,
    inFlight: () => admission.inFlight,
  };
  const grpc = await startPublicServer(config.grpcAddr, logger, readiness, adminContext, {
    credentials: grpcCredentials(tls),
    maxMessageBytes: config.maxMessageBytes,
  });
  const http = await startHttpServer(config.httpAddr, {
    logger,
    readiness,
    authorizer,
    engine: () => engine,
    statusPublic: config.httpStatusPublic,
    metrics: metrics.handle,
    beforeScrape: () => sidecar.refresh(),
    metricsPublic: config.httpMetricsPublic,
    tls,
    status: async () => statusJson(await statusOf(adminContext)),
  });
  sidecar.start();

  process.on("SIGHUP", () => {
    if (!config.apiKeysFile) return;
    try {
      authorizer.replaceKeys(ApiKeys.load(config.apiKeysFile));
      logger.info("API keys reloaded", { event: "auth.keys_reloaded" });
    } catch (error) {
      logger.error("API keys reload failed; keeping the previous keys", { event: "auth.reload_failed", error });
    }
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal: exit at once; the WAL already holds everything acknowledged.
      logger.warn("second signal: exiting now", { event: "shutdown.forced", signal });
      process.exit(1);
    }
    stopping = true;
    void notifyStopping(`stopping (${signal})`);
    void gracefulShutdown(
      {
        logger,
        readiness,
        gate,
        admission,
        engine: () => engine,
        closeSidecar: () => sidecar.close(),
        closeServers: async () => {
          await Promise.all([grpc.close(), http.close()]);
          await tracing.shutdown();
        },
        drainMs: config.drainTimeoutSeconds * 1000,
        checkpointMs: config.shutdownCheckpointSeconds * 1000,
      },
      signal,
    ).then(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`t4dm-memory: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
