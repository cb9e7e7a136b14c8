import type { Config } from "@t4dm/config";
import { stepsOf } from "@t4dm/learning";
import { walV1, type persistenceV1 } from "@t4dm/proto";
import { UnavailableError } from "@t4dm/rpc";
import type { ServiceMetrics } from "./service-metrics.js";
import type { Logger } from "@t4dm/telemetry";
import { openStores } from "../storage/open-stores.js";
import { nodeTimer } from "../storage/set-timer.js";
import { StoreBacklog } from "../storage/store-backlog.js";
import { KnowledgeCore } from "../core/knowledge-core.js";
import type { Embedder } from "../embedding/embedder.js";
import { checkEmbedderRecord } from "../embedding/embedder-record.js";
import type { EmbedderSource } from "../embedding/open-embedder.js";
import { MemoryCore } from "../core/memory-core.js";
import { MemoryLifecycle } from "../core/memory-lifecycle.js";
import { MemoryReads } from "../core/memory-reads.js";
import { MemoryExport } from "../export/memory-export.js";
import { MemoryImport } from "../export/memory-import.js";
import { Retention } from "../core/retention.js";
import { StoreSync, type Stores } from "../storage/store-sync.js";
import { Checkpointer, WAL_FULL_REASON } from "../pipeline/checkpointer.js";
import { CommitPipeline } from "../pipeline/commit-pipeline.js";
import { recoverState, type Recovery } from "../pipeline/recover-state.js";
import type { Readiness } from "./readiness.js";
import type { PersistenceClient } from "../sidecar/persistence-client.js";
import { VERSION } from "./version.js";

/** Why Remember waits while the long-term store is behind (the service stays ready: reads work). */
export const STORE_BACKLOG_NOTE = "long-term store behind its backlog limit: Remember waits for it (RESOURCE_EXHAUSTED STORE_BACKLOG after T4DM_STORE_BACKLOG_WAIT), reads work";
/** Why writes are refused while the WAL is at its cap (the service stays ready: reads work). */
export const WAL_FULL_NOTE = "WAL at its size cap; checkpoint pending: writes get RESOURCE_EXHAUSTED (WAL_FULL), reads work";

/** Everything that exists once the state is recovered: pipeline, checkpoints, the memory core. */
export interface Engine {
  recovery: Recovery;
  pipeline: CommitPipeline;
  checkpointer: Checkpointer;
  core: MemoryCore;
  reads: MemoryReads;
  lifecycle: MemoryLifecycle;
  retention: Retention;
  knowledge: KnowledgeCore;
  /** AdminService ExportMemories / ImportMemories (`t4dm export`, `t4dm import`). */
  exports: MemoryExport;
  imports: MemoryImport;
  stores: Stores;
  storeSync: StoreSync;
  embedder: Embedder;
  /** The sidecar (re)connected and reports this status. */
  onSidecarStatus(status: persistenceV1.GetStatusResponse): void;
  stop(): void;
}

/** The engine, or UNAVAILABLE while the state is still being recovered. */
export function requireEngine(engine: () => Engine | undefined): Engine {
  const current = engine();
  if (!current) throw new UnavailableError("the memory service is recovering its state; retry shortly", "RECOVERING");
  return current;
}

/**
 * Start-up after the sidecar answers: recover (warm or cold), open the WAL
 * stream, log SYSTEM_START (which shapes a fresh state from the seed), and
 * start the checkpoint triggers.
 */
export async function startEngine(
  config: Config,
  client: PersistenceClient,
  logger: Logger,
  readiness: Readiness,
  clock: () => Date,
  embedders: EmbedderSource,
  metrics?: ServiceMetrics,
): Promise<Engine> {
  const started = Date.now();
  const recovery = await recoverState(client, logger);
  // The dimension is the data directory's (its first SYSTEM_START), not today's setting.
  const dataDim = recovery.state.embeddingDim || config.embeddingDim;
  // Before anything is written: the embedder must make vectors this data directory can hold
  // (EmbedderStartupError otherwise, exit 2), and the directory records which one it is.
  const embedder = await embedders.forDataDir(dataDim, !recovery.state.initialized);
  const identity = embedders.identity(dataDim);
  const record = await checkEmbedderRecord(config.dataDir, identity, recovery.state.initialized);
  logger.info("embedder ready", { event: "embedder.ready", embedder: embedder.name, dimensions: embedder.dimensions, model: identity.model, record });
  const stores = await openStores(config, dataDim, logger);
  let checkpointer: Checkpointer | undefined;
  let storeSync: StoreSync | undefined;
  const pipeline = new CommitPipeline(recovery.state, client, logger, {
    onWritable: (writable) => {
      readiness.set("wal", writable);
      if (writable) storeSync?.kick();
    },
    onCheckpointRequested: () => checkpointer?.trigger("sidecar request"),
    onWalFull: (full) => {
      // Reads keep working at the cap, so the service stays ready; /ready and /status say why writes are refused.
      readiness.note("wal", full ? WAL_FULL_NOTE : undefined);
      if (full) checkpointer?.trigger(WAL_FULL_REASON);
      else storeSync?.kick();
    },
    onApplied: (count) => {
      checkpointer?.noteApplied(count);
      storeSync?.kick();
    },
    onEntries: (entries) => {
      if (!metrics) return;
      metrics.recordsApplied.add(entries.length);
      for (const entry of entries) {
        // A REMEMBER record's evictions count too.
        for (const step of stepsOf(entry.operation)) {
          if (step.$case === "bufferRemove") metrics.evictions.add(1, { reason: walV1.removalReasonToJSON(step.value.reason) });
        }
      }
    },
  });
  // Backpressure: at the limit, Remember waits for the store to catch up (store-backlog.ts).
  const storeBacklog = new StoreBacklog(() => pipeline.projected.buffer.promotingCount, {
    limit: config.storeBacklogLimit,
    maxWaitMs: config.storeBacklogWaitSeconds * 1000,
    setTimer: nodeTimer,
    onStall: (stalled, pending) => {
      readiness.note("store_backlog", stalled ? STORE_BACKLOG_NOTE : undefined);
      if (stalled) logger.warn("the long-term store is behind: Remember waits for it", { event: "store_backlog.stalled", pending, limit: config.storeBacklogLimit });
      else logger.info("the long-term store caught up: Remember goes on", { event: "store_backlog.released", pending });
    },
  });
  storeSync = new StoreSync(pipeline, stores, logger, clock, { onSynced: () => storeBacklog.recheck() });
  checkpointer = new Checkpointer(pipeline, client, logger, {
    everyRecords: config.checkpointEveryRecords,
    now: clock,
    onCommitted: (lsn) => pipeline.forgetThrough(lsn),
  });
  pipeline.start();
  readiness.set("wal", pipeline.writable);

  const firstStart = !recovery.state.initialized;
  await pipeline.submit(
    [
      {
        $case: "systemStart",
        value: {
          version: VERSION,
          recoveryMode: recovery.mode,
          recoveredLsn: recovery.state.appliedLsn,
          seed: config.seed,
          embeddingDim: config.embeddingDim,
          bufferCapacity: config.bufferCapacity,
          defaultRetention: config.retentionDefault === "learned" ? walV1.RetentionMode.RETENTION_MODE_LEARNED : walV1.RetentionMode.RETENTION_MODE_KEEP,
          learningScope: config.learningScope === "shared" ? walV1.LearningScope.LEARNING_SCOPE_SHARED : walV1.LearningScope.LEARNING_SCOPE_NAMESPACE,
          maxScorerAdaptations: config.learningMaxNamespaces,
        },
      },
    ],
    clock(),
  );
  if (pipeline.durable.embeddingDim !== config.embeddingDim) {
    logger.warn("T4DM_EMBEDDING_DIM differs from the dimension this state was created with; the state's wins", {
      event: "config.embedding_dim_ignored",
      configured: config.embeddingDim,
      state: pipeline.durable.embeddingDim,
    });
  }
  logger.info("recovered", {
    event: "recovery.done",
    mode: recovery.mode,
    checkpointLsn: recovery.checkpointLsn,
    recordsReplayed: recovery.recordsReplayed,
    appliedLsn: pipeline.appliedLsn,
    bufferSize: pipeline.durable.buffer.size,
    // Sharing learning across namespaces is an operator's choice: say which one is in force.
    learningScope: config.learningScope,
    learningNamespaces: pipeline.durable.adaptedNamespaces,
    stateHash: pipeline.durable.hash().toString("hex"),
    phasesMs: recovery.phases,
    totalMs: Date.now() - started,
  });
  // A fresh state is checkpointed at once, so later restarts never depend on re-deriving it.
  if (firstStart) checkpointer.trigger("first start");
  // Replayed records count toward the next checkpoint: under a crash loop, no process lives long
  // enough to apply `everyRecords` itself, and the replay would otherwise grow with every restart.
  else checkpointer.noteReplayed(recovery.recordsReplayed);

  const interval = setInterval(() => checkpointer!.trigger("interval"), config.checkpointIntervalSeconds * 1000);
  interval.unref();
  const knowledge = new KnowledgeCore(stores.graph, embedder, clock);
  const core = new MemoryCore(pipeline, stores, embedder, { ...config, embeddingDim: pipeline.durable.embeddingDim }, clock, {
    onProceduresReinforced: async (namespace, outcomes) => {
      for (const { id, success } of outcomes) await stores.graph.recordOutcome(namespace, id, success, clock());
    },
    onDecision: (decision) => metrics?.gateDecisions.add(1, { decision }),
    onRewardPredictionError: (rpe) => metrics?.rewardPredictionError.record(rpe),
    waitForStoreRoom: () => storeBacklog.admit(),
    onRecallRecordsLost: (error) =>
      logger.warn("a recall's learning records were not logged; Reinforce for it will answer NOT_FOUND", {
        event: "recall.records_lost",
        error: (error as Error).message,
      }),
  });
  const retention = new Retention(pipeline, stores, clock);
  const exportedEmbedder = () => ({ embedder: identity.embedder, model: identity.model, dimensions: pipeline.durable.embeddingDim });
  const lifecycle = new MemoryLifecycle(pipeline, stores, clock, retention);
  const expiry = setInterval(() => void lifecycle.expire().catch(() => undefined), 30_000);
  expiry.unref();
  // /ready reports a degraded store (promotions wait and retry meanwhile; nothing is lost).
  const checkStores = async () => {
    const health = await Promise.all([stores.episodic.health(), stores.graph.health()]);
    const healthy = health.every((h) => h.healthy);
    readiness.set("storage", healthy);
    if (healthy) storeSync!.kick();
  };
  readiness.set("storage", true);
  const storeHealth = setInterval(() => void checkStores(), 2_000);
  storeHealth.unref();
  // Recovered promotions, deletes and concepts the stores still owe.
  storeSync.kick();
  return {
    recovery,
    pipeline,
    checkpointer,
    core,
    reads: new MemoryReads(() => pipeline.durable, stores, clock),
    lifecycle,
    retention,
    knowledge,
    exports: new MemoryExport(() => pipeline.durable, stores, exportedEmbedder, Math.floor(config.maxMessageBytes / 2)),
    imports: new MemoryImport(pipeline, stores, { ...config, embeddingDim: pipeline.durable.embeddingDim }, exportedEmbedder, clock),
    stores,
    storeSync,
    embedder,
    onSidecarStatus(status) {
      // Only possible under sync mode none after an OS crash: records we applied are gone from the WAL.
      if (status.durableLsn < pipeline.appliedLsn && !pipeline.recoverLost(status.durableLsn + 1)) {
        logger.error("the sidecar lost acknowledged records this service no longer retains; restart to recover from the WAL", {
          event: "wal.lost_records",
          sidecarDurableLsn: status.durableLsn,
          appliedLsn: pipeline.appliedLsn,
        });
      }
    },
    stop() {
      clearInterval(interval);
      clearInterval(expiry);
      clearInterval(storeHealth);
      storeSync!.stop();
      void checkpointer!.close();
      pipeline.close();
      void stores.episodic.close();
      void stores.graph.close();
    },
  };
}
