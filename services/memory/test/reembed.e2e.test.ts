// The re-embed command against real processes: a data directory written with the hashing embedder
// (memories buffered and stored) is moved to the local model; afterwards the service starts with
// the model, every memory carries the model's vector of its content, and Recall finds by meaning.
// The learning state's switch goes through the WAL: an independent replay of the sidecar's
// recovery stream (from the command's checkpoint, and from the older one) gives the hash the
// command had live (I1), and a recall made before it has no traces left (Reinforce answers
// RECALL_NOT_FOUND). Killed mid-way, the command leaves a directory the service refuses, and run
// again it resumes (staged vectors kept) and ends where an uninterrupted run ends.
import { spawn } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { status } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_EMBEDDING_MODEL_DIR } from "@t4dm/config";
import type { LearningState } from "@t4dm/learning";
import { memoryV1, type persistenceV1 } from "@t4dm/proto";
import { decodeStatusDetails } from "@t4dm/rpc";
import { call, callError, connectClients, connectSidecar, makeDataDir, REPO_ROOT, ServiceProcess, startPod } from "@t4dm/testkit";
import { MiniLmEmbedder } from "../dist/embedding/minilm-embedder.js";
import { independentReplay } from "./support/independent-replay.js";

const MINILM = { T4DM_EMBEDDER: "minilm" };
const REEMBED = path.join(REPO_ROOT, "services/memory/dist/reembed.js");
/** Memories that must be found by meaning afterwards (the hashing embedder shares no word with the query). */
const MEANINGFUL = ["Alice adopted a cat", "The quarterly invoice is paid by wire transfer", "Bob plays the cello on Sundays"];
const FILLER_WORDS = "deploy cache kubernetes latency budget rollback schema index replica token quota ledger router".split(" ");

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let model: MiniLmEmbedder;
beforeAll(async () => {
  model = await MiniLmEmbedder.load({ modelDir: DEFAULT_EMBEDDING_MODEL_DIR, workers: 1, maxBatch: 32 });
});
afterAll(async () => {
  await model?.close();
});

/** A run of the command: its exit, its progress lines (stderr) and its JSON log lines (stdout). */
function runReembed(env: Record<string, string>) {
  const child = spawn(process.execPath, [REEMBED], { env: { PATH: process.env.PATH ?? "", T4DM_LOG_LEVEL: "info", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const stderr: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const watchers: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  createInterface({ input: child.stderr! }).on("line", (line) => {
    stderr.push(line);
    for (const w of [...watchers]) if (w.match(line)) (watchers.splice(watchers.indexOf(w), 1), w.resolve(line));
  });
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      stderr.push(line);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  cleanups.push(() => void child.kill("SIGKILL"));
  return {
    stderr,
    logs,
    exited,
    kill: () => child.kill("SIGKILL"),
    /** The first stderr line (past or future) that matches. */
    line: (match: (line: string) => boolean) => {
      const seen = stderr.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        watchers.push({ match, resolve });
        void exited.then((code) => reject(new Error(`the command exited (${code}) before the awaited line; stderr:\n${stderr.join("\n")}`)));
      });
    },
  };
}

/** A sidecar alone on `dataDir` (the memory service stopped, as the command needs it). */
async function startSidecar(dataDir: string): Promise<{ sidecar: ServiceProcess; client: persistenceV1.PersistenceServiceClient; env: Record<string, string> }> {
  const env = { T4DM_DATA_DIR: dataDir };
  const sidecar = ServiceProcess.start("persistence", env);
  cleanups.push(() => sidecar.kill("SIGKILL"));
  const listening = await sidecar.waitForEvent("grpc.listening");
  await sidecar.waitForEvent("sidecar.ready");
  const client = connectSidecar(String(listening.addr));
  cleanups.push(() => client.close());
  return { sidecar, client, env };
}

/**
 * A data directory written by the hashing embedder: `count` memories in two namespaces, most
 * promoted to the embedded store (the buffer holds 40), then the service stopped gracefully.
 * The sidecar keeps running; returns it and every memory's id and content.
 */
async function hashingDataDir(count: number, env: Record<string, string> = {}) {
  const data = makeDataDir();
  cleanups.push(() => data.remove());
  const pod = await startPod({ dataDir: data.dir, env: { T4DM_BUFFER_CAPACITY: "40", ...env } });
  cleanups.push(() => pod.stop());
  const clients = connectClients(pod.grpcAddr);
  const memories: { id: string; namespace: string; content: string }[] = [];
  const contents = [...MEANINGFUL];
  for (let i = contents.length; i < count; i++) contents.push(`note ${i}: ${FILLER_WORDS[i % 13]} ${FILLER_WORDS[(i * 7) % 13]} ${FILLER_WORDS[(i * 5 + 3) % 13]} ${i * 31}`);
  for (let i = 0; i < contents.length; i += 50) {
    const requests = contents.slice(i, i + 50).map((content, j) => ({ namespace: (i + j) % 4 === 3 ? "other" : "alice", content, importance: 0.8, admission: memoryV1.AdmissionMode.ADMISSION_MODE_ALWAYS }));
    const response = await call(clients.memory.batchRemember.bind(clients.memory), memoryV1.BatchRememberRequest.fromPartial({ requests }));
    response.responses.forEach((result, j) => memories.push({ id: result.memory!.id, namespace: requests[j]!.namespace, content: requests[j]!.content }));
  }
  // A recall before the re-embed: its traces are dropped by the switch.
  const recall = await call(clients.memory.recall.bind(clients.memory), memoryV1.RecallRequest.fromPartial({ namespace: "alice", query: "cat" }));
  clients.close();
  await pod.memory.kill("SIGTERM");
  return { dataDir: data.dir, sidecar: pod.sidecar, memories, recallId: recall.recallId };
}

function newestCheckpoint(dataDir: string): string {
  return readdirSync(path.join(dataDir, "checkpoints")).filter((name) => name.endsWith(".bin.gz")).sort().at(-1)!;
}

/** Every memory, read back through the service: the model's vector of its content, and some still buffered. */
async function expectModelVectors(grpcAddr: string, memories: readonly { id: string; namespace: string; content: string }[]) {
  const clients = connectClients(grpcAddr);
  cleanups.push(() => clients.close());
  const expected = await model.embed(memories.map((m) => m.content));
  const statuses = new Map<number, number>();
  for (const [i, m] of memories.entries()) {
    const got = await call(clients.memory.getMemory.bind(clients.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: m.namespace, id: m.id, includeEmbedding: true }));
    statuses.set(got.memory!.status, (statuses.get(got.memory!.status) ?? 0) + 1);
    expect(got.memory!.embedding, `${m.content} (status ${got.memory!.status}, ${got.memory!.evictionReason})`).toHaveLength(384);
    let dot = 0;
    for (let k = 0; k < 384; k++) dot += got.memory!.embedding[k]! * expected[i]![k]!;
    expect(dot, `${m.content} (status ${got.memory!.status})`).toBeGreaterThan(0.999);
  }
  expect(statuses.get(memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED) ?? 0).toBeGreaterThan(0);
  expect(statuses.get(memoryV1.MemoryStatus.MEMORY_STATUS_STORED) ?? 0).toBeGreaterThan(memories.length / 2);
  const recalled = await call(
    clients.memory.recall.bind(clients.memory),
    memoryV1.RecallRequest.fromPartial({ namespace: "alice", query: "which animal lives with her", topK: 5, mode: memoryV1.RecallMode.RECALL_MODE_SEMANTIC }),
  );
  expect(recalled.memories[0]!.memory!.content).toBe("Alice adopted a cat");
}

/** The learning state as a replay sees it, without the parts only LSNs and clocks decide. */
function comparable(state: LearningState) {
  return { ...state.snapshot(), appliedLsn: 0, time: undefined };
}

describe("the re-embed command", () => {
  it("moves a hashing data directory to the model: vectors, clusters, Recall by meaning; replay reproduces the switched state (I1)", async () => {
    const { dataDir, sidecar, memories, recallId } = await hashingDataDir(240);
    const before = connectSidecar(String((await sidecar.waitForEvent("grpc.listening")).addr));
    cleanups.push(() => before.close());
    expect((await independentReplay(before)).traces.snapshot().map((trace) => trace.recallId)).toContain(recallId);
    const run = runReembed({ T4DM_DATA_DIR: dataDir, ...MINILM });
    expect(await run.exited, run.stderr.join("\n")).toBe(0);
    expect(run.stderr.some((line) => /re-embed episodic: \d+\/\d+ \(100%\), [\d.]+\/s/.test(line)), run.stderr.join("\n")).toBe(true);
    const switched = run.logs.find((line) => line.event === "reembed.state_switched")!;
    expect(switched).toBeDefined();
    expect(JSON.parse(readFileSync(path.join(dataDir, "store", "embedder.json"), "utf8"))).toMatchObject({ embedder: "minilm", dimensions: 384 });

    // I1: restore(the command's checkpoint) + tail, and restore(the one before it) + the re-embed's records, equal the live state.
    const warm = connectSidecar(String((await sidecar.waitForEvent("grpc.listening")).addr));
    cleanups.push(() => warm.close());
    const fromNewest = await independentReplay(warm);
    expect(fromNewest.appliedLsn).toBe(switched.appliedLsn);
    expect(fromNewest.hash().toString("hex")).toBe(switched.stateHash);
    await sidecar.kill("SIGTERM");
    rmSync(path.join(dataDir, "checkpoints", newestCheckpoint(dataDir)));
    const older = await startSidecar(dataDir);
    const fromOlder = await independentReplay(older.client);
    expect(fromOlder.appliedLsn).toBe(switched.appliedLsn);
    expect(fromOlder.hash().toString("hex")).toBe(switched.stateHash);
    // The centroids are the members' new vectors: every buffered memory is nearest its own cluster.
    for (const item of fromOlder.buffer.all()) expect(fromOlder.clusters.nearest(item.memory.namespace, item.embedding)!.clusterId).toBe(item.memory.clusterId);
    await older.sidecar.kill("SIGTERM");

    const pod = await startPod({ dataDir, env: MINILM });
    cleanups.push(() => pod.stop());
    await expectModelVectors(pod.grpcAddr, memories);
    // The recall made before the re-embed has no traces left: Reinforce answers NOT_FOUND.
    const clients = connectClients(pod.grpcAddr);
    cleanups.push(() => clients.close());
    const error = await callError(clients.memory.reinforce.bind(clients.memory), memoryV1.ReinforceRequest.fromPartial({ namespace: "alice", recallId, reward: 1 }));
    expect(error.code).toBe(status.NOT_FOUND);
    expect(decodeStatusDetails(error).errorInfo?.reason).toBe("RECALL_NOT_FOUND");

    // Run again with the same settings: it says so and changes nothing.
    await pod.memory.kill("SIGTERM");
    const again = runReembed({ T4DM_DATA_DIR: dataDir, ...MINILM });
    expect(await again.exited).toBe(0);
    expect(again.stderr.join("\n")).toContain("already uses the minilm embedder; nothing to do");
  }, 120_000);

  it("killed mid-way: the service refuses to start (exit 2, names the command); run again, it resumes and ends as an uninterrupted run", async () => {
    const { dataDir, sidecar, memories } = await hashingDataDir(200);
    await sidecar.kill("SIGTERM");
    // The same directory twice: one re-embed is killed and resumed, the other runs through.
    const copy = makeDataDir();
    cleanups.push(() => copy.remove());
    cpSync(dataDir, copy.dir, { recursive: true });
    rmSync(path.join(copy.dir, "sidecar.sock"), { force: true });

    const first = await startSidecar(dataDir);
    const killed = runReembed({ T4DM_DATA_DIR: dataDir, ...MINILM });
    const line = await killed.line((l) => /re-embed episodic: [1-9]\d*\//.test(l));
    killed.kill();
    expect(await killed.exited).toBe(null);
    const [staged, total] = /: (\d+)\/(\d+)/.exec(line)!.slice(1).map(Number) as [number, number];
    expect(staged).toBeLessThan(total);

    for (const env of [MINILM, {}]) {
      const refused = ServiceProcess.start("memory", { T4DM_DATA_DIR: dataDir, T4DM_GRPC_ADDR: "127.0.0.1:0", T4DM_HTTP_ADDR: "127.0.0.1:0", ...env });
      cleanups.push(() => refused.kill("SIGKILL"));
      expect((await refused.exited).code).toBe(2);
      expect(refused.stderr).toContain("re-embed in progress");
      expect(refused.stderr).toContain("run `node services/memory/dist/reembed.js` again");
    }

    const resumed = runReembed({ T4DM_DATA_DIR: dataDir, ...MINILM });
    expect(await resumed.exited, resumed.stderr.join("\n")).toBe(0);
    // The first line of the resumed run counts what the killed one staged: nothing is embedded twice.
    const firstLine = resumed.stderr.find((l) => l.startsWith("t4dm-reembed: re-embed episodic:"))!;
    expect(Number(/\((\d+) done before\)/.exec(firstLine)?.[1])).toBeGreaterThanOrEqual(staged);
    const resumedState = await independentReplay(first.client);
    await first.sidecar.kill("SIGTERM");

    const other = await startSidecar(copy.dir);
    const through = runReembed({ T4DM_DATA_DIR: copy.dir, ...MINILM });
    expect(await through.exited, through.stderr.join("\n")).toBe(0);
    const throughState = await independentReplay(other.client);
    await other.sidecar.kill("SIGTERM");
    expect(comparable(resumedState)).toEqual(comparable(throughState));

    const pod = await startPod({ dataDir, env: MINILM });
    cleanups.push(() => pod.stop());
    await expectModelVectors(pod.grpcAddr, memories);
  }, 120_000);

  it("another dimension: a 64-dimensional hashing directory moves to the 384-dimensional model, stores and state alike", async () => {
    const { dataDir, sidecar, memories } = await hashingDataDir(100, { T4DM_EMBEDDING_DIM: "64" });
    const run = runReembed({ T4DM_DATA_DIR: dataDir, ...MINILM });
    expect(await run.exited, run.stderr.join("\n")).toBe(0);
    const switched = run.logs.find((line) => line.event === "reembed.state_switched")!;
    await sidecar.kill("SIGTERM");
    rmSync(path.join(dataDir, "checkpoints", newestCheckpoint(dataDir)));
    const older = await startSidecar(dataDir);
    const replayed = await independentReplay(older.client);
    expect(replayed.hash().toString("hex")).toBe(switched.stateHash);
    expect(replayed.embeddingDim).toBe(384);
    expect(replayed.networks!.gate.projection).toHaveLength(16 * 384);
    await older.sidecar.kill("SIGTERM");

    const pod = await startPod({ dataDir, env: MINILM });
    cleanups.push(() => pod.stop());
    await expectModelVectors(pod.grpcAddr, memories);
  }, 120_000);

  it("refuses while a memory service writes to the sidecar (exit 2), changing nothing", async () => {
    const data = makeDataDir();
    cleanups.push(() => data.remove());
    const pod = await startPod({ dataDir: data.dir });
    cleanups.push(() => pod.stop());
    const recorded = readFileSync(path.join(data.dir, "store", "embedder.json"), "utf8");
    const run = runReembed({ T4DM_DATA_DIR: data.dir, ...MINILM });
    expect(await run.exited).toBe(2);
    expect(run.stderr.join("\n")).toContain("a memory service is writing to the persistence sidecar");
    expect(existsSync(path.join(data.dir, "store", "reembed.json"))).toBe(false);
    expect(readFileSync(path.join(data.dir, "store", "embedder.json"), "utf8")).toBe(recorded);
  });

  it("bad input: a missing data directory and a missing model exit 2", async () => {
    const missing = runReembed({ T4DM_DATA_DIR: path.join(makeDataDir().dir, "nope"), T4DM_EMBEDDER: "hashing" });
    expect(await missing.exited).toBe(2);
    expect(missing.stderr.join("\n")).toContain("does not exist");

    const data = makeDataDir();
    cleanups.push(() => data.remove());
    const noModel = runReembed({ T4DM_DATA_DIR: data.dir, ...MINILM, T4DM_EMBEDDING_MODEL_DIR: data.dir });
    expect(await noModel.exited).toBe(2);
    expect(noModel.stderr.join("\n")).toContain("make model");
  });
});
