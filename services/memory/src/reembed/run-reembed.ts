import { existsSync, statSync } from "node:fs";
import path from "node:path";
import type { Config } from "@t4dm/config";
import { CentroidSums, planReembed, type LearningState, type Operation } from "@t4dm/learning";
import { Neo4jVectorRewrite, QdrantVectorRewrite, SqliteVectorRewrite, StoreConfigError, type VectorRewrite } from "@t4dm/storage";
import type { Logger } from "@t4dm/telemetry";
import type { persistenceV1 } from "@t4dm/proto";
import type { Embedder } from "../embedding/embedder.js";
import { readEmbedderRecord, writeEmbedderRecord, type EmbedderIdentity } from "../embedding/embedder-record.js";
import type { EmbedderSource } from "../embedding/open-embedder.js";
import { Checkpointer, WAL_FULL_REASON } from "../pipeline/checkpointer.js";
import { CommitPipeline, WalFullError } from "../pipeline/commit-pipeline.js";
import { recoverState } from "../pipeline/recover-state.js";
import { SidecarLink } from "../sidecar/sidecar-link.js";
import type { PersistenceClient } from "../sidecar/persistence-client.js";
import { readReembedMarker, removeReembedMarker, writeReembedMarker } from "./reembed-marker.js";
import { ReembedProgress } from "./reembed-progress.js";

/** The command cannot run on this input; it says why and exits 2, changing nothing more. */
export class ReembedRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export interface ReembedIo {
  logger: Logger;
  /** The operator's progress line. */
  say(line: string): void;
  now(): number;
}

/** Checkpoints tried for room at the WAL's cap before giving up (the service retries the same way). */
const WAL_FULL_CHECKPOINTS = 10;

/** Texts per embed call and per staged batch: big enough for the model's batching, small enough for a frequent progress line. */
const BATCH = 64;
/** At most one progress line per this many milliseconds (and one per finished store). */
const PROGRESS_EVERY_MS = 1000;

export type ReembedOutcome = "already" | "nothing" | "done";

/**
 * Moves a data directory to the configured embedder, resumably:
 * 1. `store/reembed.json` is written: from here the memory service refuses to start.
 * 2. Every stored vector is re-embedded from its content and staged in its store (a rerun skips staged ones).
 * 3. The learning state switches through the WAL (EMBEDDING_SWITCH, the buffer's new vectors,
 *    centroids recomputed from every member's new vector), and is checkpointed.
 * 4. The stores switch to their staged vectors, `store/embedder.json` names the new embedder,
 *    and the marker goes. Each step is idempotent, so a killed run is finished by running it again.
 */
export async function runReembed(config: Config, embedders: EmbedderSource, io: ReembedIo): Promise<ReembedOutcome> {
  const { logger } = io;
  if (!existsSync(config.dataDir) || !statSync(config.dataDir).isDirectory()) {
    throw new ReembedRefusedError(`T4DM_DATA_DIR ${config.dataDir} does not exist; point it at the data directory to re-embed`);
  }
  // The new embedder's dimension: the model's own, or T4DM_EMBEDDING_DIM for hashing and http (EmbedderMismatchError, exit 2, otherwise).
  const embedder = await embedders.forDataDir(config.embeddingDim, true);
  const target = embedders.identity(embedder.dimensions);
  const recorded = await readEmbedderRecord(config.dataDir);
  const marker = await readReembedMarker(config.dataDir);
  if (!marker && recorded && sameIdentity(recorded, target)) return "already";

  const sidecar = await connectSidecar(config, io);
  try {
    const recovery = await recoverState(sidecar.client, logger);
    if (!recovery.state.initialized) return "nothing";
    // Opened before the marker: a store that cannot take the new vectors refuses with nothing changed.
    const rewrites = await openRewrites(config, target);
    try {
      await writeReembedMarker(config.dataDir, { from: marker?.from ?? recorded, to: target });
      logger.info("re-embed started", { event: "reembed.start", from: marker?.from ?? recorded, to: target, resumed: marker !== undefined });
      for (const rewrite of rewrites) await stageAll(rewrite, embedder, io);
      await switchLearningState(sidecar.client, recovery.state, embedder, target, rewrites, io);
      for (const rewrite of rewrites) await rewrite.commit(target.dimensions);
    } finally {
      for (const rewrite of rewrites) await rewrite.close();
    }
    await writeEmbedderRecord(config.dataDir, target);
    await removeReembedMarker(config.dataDir);
    logger.info("re-embed finished", { event: "reembed.done", to: target });
    return "done";
  } finally {
    sidecar.close();
  }
}

/** The configured stores' rewrites: embedded, or Qdrant (same dimension only) and Neo4j. */
async function openRewrites(config: Config, target: EmbedderIdentity): Promise<VectorRewrite[]> {
  const name = `${target.embedder} ${target.model} ${target.dimensions}`;
  const dir = path.join(config.dataDir, "store");
  const rewrites: VectorRewrite[] = [];
  try {
    rewrites.push(
      config.qdrantUrl
        ? await QdrantVectorRewrite.open({ url: config.qdrantUrl, apiKey: config.qdrantApiKey }, name, target.dimensions)
        : SqliteVectorRewrite.episodic(dir, name),
    );
    rewrites.push(
      config.neo4jUri
        ? await Neo4jVectorRewrite.open({ uri: config.neo4jUri, user: config.neo4jUser, password: config.neo4jPassword, database: config.neo4jDatabase }, name)
        : SqliteVectorRewrite.graph(dir, name),
    );
    if (!config.neo4jUri) rewrites.push(SqliteVectorRewrite.graphMemories(dir, name));
    return rewrites;
  } catch (error) {
    for (const rewrite of rewrites) await rewrite.close();
    if (error instanceof StoreConfigError) throw new ReembedRefusedError(error.message);
    throw error;
  }
}

function sameIdentity(a: EmbedderIdentity, b: EmbedderIdentity): boolean {
  return a.embedder === b.embedder && a.model === b.model && a.dimensions === b.dimensions;
}

/**
 * Waits for the sidecar's handshake, as the service does at start, and
 * refuses while a memory service writes to it: the two would contend for
 * LSNs and the service would serve vectors of two models.
 */
async function connectSidecar(config: Config, io: ReembedIo): Promise<SidecarLink> {
  let connected!: (status: persistenceV1.GetStatusResponse) => void;
  const ready = new Promise<persistenceV1.GetStatusResponse>((resolve) => (connected = resolve));
  const link = new SidecarLink({ target: config.sidecarAddr.grpcTarget, token: config.sidecarToken, logger: io.logger, onChange: (status) => status && connected(status) });
  link.start();
  // Said only if the handshake does not come at once: the usual mistake is a stopped sidecar.
  const hint = setTimeout(() => io.say(`waiting for the persistence sidecar at ${config.sidecarAddr.raw} (start it, or use \`make reembed\`, which does)`), 2_000);
  const status = await ready;
  clearTimeout(hint);
  if (status.connectedWriters > 0) {
    link.close();
    throw new ReembedRefusedError(
      `a memory service is writing to the persistence sidecar at ${config.sidecarAddr.raw} (${status.connectedWriters} open WAL stream(s)); stop it, then run the re-embed again`,
    );
  }
  return link;
}

/** Embeds and stages everything the store has not staged yet, with a progress line. */
async function stageAll(rewrite: VectorRewrite, embedder: Embedder, io: ReembedIo): Promise<void> {
  const { done, total } = await rewrite.progress();
  const progress = new ReembedProgress(rewrite.name, total, done, io.now());
  let lastLine = -Infinity;
  const report = (force: boolean) => {
    if (!force && io.now() - lastLine < PROGRESS_EVERY_MS) return;
    lastLine = io.now();
    io.say(progress.line(lastLine));
    io.logger.info("re-embed progress", { event: "reembed.progress", store: rewrite.name, done: progress.done, total, perSecond: progress.rate(lastLine) });
  };
  report(true);
  for (let batches = 1; ; batches++) {
    const items = await rewrite.pending(BATCH);
    if (items.length === 0) break;
    const vectors = await embedAll(embedder, items.map((item) => item.text));
    await rewrite.stage(items.map((item, i) => ({ ref: item.ref, vector: vectors[i]! })));
    progress.advance(items.length);
    // The first batch's line says at once that it works and how fast; then one a second.
    report(batches === 1);
  }
  report(true);
}

/** A submit that, at the WAL's size cap, checkpoints to free space and tries again. */
async function submitWithRoom(pipeline: CommitPipeline, checkpointer: Checkpointer, operations: readonly Operation[], time: Date): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await pipeline.submit(operations, time);
      return;
    } catch (error) {
      if (!(error instanceof WalFullError) || attempt >= WAL_FULL_CHECKPOINTS) throw error;
      await checkpointer.checkpoint(WAL_FULL_REASON, { fresh: true });
    }
  }
}

/** Vectors for texts; a text the new embedder finds nothing in cannot be re-embedded. */
async function embedAll(embedder: Embedder, texts: readonly string[]): Promise<Float32Array[]> {
  const vectors = await embedder.embed(texts);
  vectors.forEach((vector, i) => {
    if (vector.every((x) => x === 0)) {
      throw new ReembedRefusedError(`the ${embedder.name} embedder finds nothing to embed in a stored memory's content (${JSON.stringify(texts[i]!.slice(0, 80))}); choose another embedder`);
    }
  });
  return vectors;
}

/**
 * Logs the state's switch through the commit pipeline against the running
 * sidecar (log before apply, as the service does), then checkpoints, so
 * replay reproduces the switched state and later starts need not replay it.
 */
async function switchLearningState(
  client: PersistenceClient,
  state: LearningState,
  embedder: Embedder,
  target: EmbedderIdentity,
  rewrites: readonly VectorRewrite[],
  io: ReembedIo,
): Promise<void> {
  const items = [...state.buffer.all(), ...state.buffer.promoting()];
  const vectors = new Map<string, Float32Array>();
  for (let i = 0; i < items.length; i += BATCH) {
    const batch = items.slice(i, i + BATCH);
    const embedded = await embedAll(embedder, batch.map((item) => item.memory.content));
    batch.forEach((item, j) => vectors.set(item.memory.id, embedded[j]!));
  }
  io.say(`re-embed buffer: ${items.length}/${items.length} (100%)`);
  const members = new CentroidSums();
  for (const rewrite of rewrites) for await (const member of rewrite.members()) members.add(member.namespace, member.clusterId, member.vector);
  for (const item of items) members.add(item.memory.namespace, item.memory.clusterId, vectors.get(item.memory.id)!);

  let writable!: () => void;
  const opened = new Promise<void>((resolve) => (writable = resolve));
  const pipeline = new CommitPipeline(state, client, io.logger, { onWritable: (ok) => ok && writable() });
  const checkpointer = new Checkpointer(pipeline, client, io.logger, {
    everyRecords: Number.MAX_SAFE_INTEGER,
    now: () => new Date(io.now()),
    onCommitted: (lsn) => pipeline.forgetThrough(lsn),
  });
  pipeline.start();
  try {
    await opened;
    const plan = planReembed(pipeline.projected, { embeddingDim: target.dimensions, embedder: `${target.embedder} ${target.model}`, vectors, members });
    for (const batch of plan) await submitWithRoom(pipeline, checkpointer, batch, new Date(io.now()));
    const checkpoint = await checkpointer.checkpoint("re-embed", { fresh: true });
    io.logger.info("learning state re-embedded", {
      event: "reembed.state_switched",
      appliedLsn: pipeline.appliedLsn,
      checkpointLsn: checkpoint.lsn,
      bufferItems: items.length,
      stateHash: pipeline.durable.hash().toString("hex"),
    });
  } finally {
    await checkpointer.close();
    pipeline.close();
  }
}
