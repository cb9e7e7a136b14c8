import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LearningState, type Operation } from "@t4dm/learning";
import { walV1 } from "@t4dm/proto";
import { SqliteEpisodicStore, SqliteGraphStore } from "@t4dm/storage";
import { createLogger } from "@t4dm/telemetry";
import { ServiceProcess } from "@t4dm/testkit";
import { CommitPipeline } from "../src/pipeline/commit-pipeline.js";
import { connectPersistence } from "../src/sidecar/persistence-client.js";
import type { SetTimer } from "../src/storage/set-timer.js";
import { StoreSync } from "../src/storage/store-sync.js";

const DIM = 8;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A real sidecar, commit pipeline and embedded stores; only the linger's timer is the test's. */
async function setUp(options: { batch: number; maxBatch?: number; onSynced?: () => void }) {
  const dir = mkdtempSync(path.join(tmpdir(), "t4dm-store-sync-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const sidecar = ServiceProcess.start("persistence", { T4DM_DATA_DIR: dir, T4DM_SIDECAR_ADDR: `unix:${path.join(dir, "sidecar.sock")}` });
  cleanups.push(() => sidecar.kill("SIGKILL"));
  const connection = connectPersistence(String((await sidecar.waitForEvent("grpc.listening")).addr));
  cleanups.push(() => connection.close());
  const logger = createLogger({ level: "error", service: "test", write: () => {} });
  const pipeline = new CommitPipeline(new LearningState(), connection.client, logger);
  pipeline.start();
  cleanups.push(() => pipeline.close());
  const stores = { episodic: new SqliteEpisodicStore({ dir: path.join(dir, "store"), dimensions: DIM }), graph: new SqliteGraphStore({ dir: path.join(dir, "store"), dimensions: DIM }) };
  await stores.episodic.init();
  await stores.graph.init();
  cleanups.push(async () => {
    await stores.episodic.close();
    await stores.graph.close();
  });
  const timers: { ms: number; run: () => void; cancelled: boolean }[] = [];
  const setTimer: SetTimer = (run, ms) => {
    const timer = { ms, run, cancelled: false };
    timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  };
  const sync = new StoreSync(pipeline, stores, logger, () => new Date(), { lingerMs: 20, batch: options.batch, maxBatch: options.maxBatch, setTimer, onSynced: options.onSynced });
  cleanups.push(() => sync.stop());
  await waitUntil(() => pipeline.writable);
  await pipeline.submit([{ $case: "systemStart", value: walV1.SystemStart.fromPartial({ seed: 1, embeddingDim: DIM, bufferCapacity: 1_000 }) }], new Date());
  let next = 0;
  /** Remembers `count` memories and promotes them, as a full buffer's Remembers do. */
  const promote = async (count: number) => {
    const operations: Operation[] = [];
    for (let i = 0; i < count; i++) {
      const id = `m${next++}`;
      const memory = walV1.MemoryRecord.fromPartial({ id, namespace: "ns", content: `memory ${id}`, embedding: Array.from({ length: DIM }, (_, d) => (d === next % DIM ? 1 : 0.1)) });
      operations.push({ $case: "bufferAdd", value: walV1.BufferAdd.fromPartial({ memory }) });
      operations.push({ $case: "bufferPromote", value: { memoryId: id, targetStore: walV1.TargetStore.TARGET_STORE_EPISODIC } });
    }
    await pipeline.submit(operations, new Date());
  };
  const storeSyncedRecords = () => pipeline.durable.appliedLsn;
  return { pipeline, sync, timers, promote, storeSyncedRecords, stores };
}

async function waitUntil(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("store sync lingers to batch promotions", () => {
  it("waits for the linger before writing a lone promotion, then syncs everything pending in one STORE_SYNCED", async () => {
    const { pipeline, sync, timers, promote } = await setUp({ batch: 64 });
    await promote(1);
    sync.kick();
    await promote(2);
    sync.kick();
    // Nothing written yet: one linger timer, and the three promotions still pending.
    expect(timers.filter((t) => !t.cancelled).map((t) => t.ms)).toEqual([20]);
    expect(pipeline.durable.buffer.promotingCount).toBe(3);
    const before = pipeline.durable.appliedLsn;
    timers[0]!.run();
    await waitUntil(() => pipeline.durable.buffer.promotingCount === 0);
    // One record released all three.
    expect(pipeline.durable.appliedLsn).toBe(before + 1);
  });

  it("syncs at once when a batch is pending, cutting the linger short", async () => {
    const { pipeline, sync, timers, promote } = await setUp({ batch: 4 });
    await promote(1);
    sync.kick();
    expect(timers).toHaveLength(1);
    await promote(3);
    sync.kick();
    expect(timers[0]!.cancelled).toBe(true);
    await waitUntil(() => pipeline.durable.buffer.promotingCount === 0);
  });

  it("lingers again for what arrives during a sync, instead of syncing each arrival at once", async () => {
    const { pipeline, sync, timers, promote } = await setUp({ batch: 64 });
    await promote(1);
    sync.kick();
    timers[0]!.run();
    // Arrives while the first sync runs.
    await promote(1);
    sync.kick();
    await waitUntil(() => pipeline.durable.buffer.promotingCount <= 1 && timers.length === 2);
    expect(pipeline.durable.buffer.promotingCount).toBe(1);
    expect(timers[1]!.ms).toBe(20);
    timers[1]!.run();
    await waitUntil(() => pipeline.durable.buffer.promotingCount === 0);
  });
});

describe("store sync writes a backlog in bounded batches", () => {
  it("writes at most maxBatch promoted memories per sync, oldest first, and goes on at once until none wait", async () => {
    // What is still waiting after each sync.
    const left: string[][] = [];
    let promoting = (): string[] => [];
    const { pipeline, sync, promote, stores, timers } = await setUp({ batch: 4, maxBatch: 10, onSynced: () => left.push(promoting()) });
    promoting = () => [...pipeline.durable.buffer.promoting()].map((item) => item.memory.id);
    await promote(25);
    const before = pipeline.durable.appliedLsn;
    sync.kick();
    await waitUntil(() => pipeline.durable.buffer.promotingCount === 0 && left.length === 3);
    const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `m${from + i}`);
    expect(left).toEqual([ids(10, 25), ids(20, 25), []]);
    // Three STORE_SYNCED records (10, 10, 5), each after its store write; nothing lingered.
    expect(pipeline.durable.appliedLsn).toBe(before + 3);
    expect(timers).toEqual([]);
    expect(await stores.episodic.count("ns")).toBe(25);
  });
});
