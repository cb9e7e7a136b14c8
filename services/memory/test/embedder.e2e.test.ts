// The local sentence model as the memory service runs it (real sidecar, real memory service, real
// model files from `make model`), and the data directory's embedder record: another embedder, a
// model of another dimension, or missing model files stop start-up with exit 2, a message that
// says what to do, and nothing written to the WAL or the record.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { memoryV1, persistenceV1 } from "@t4dm/proto";
import { call, connectClients, connectSidecar, makeDataDir, ServiceProcess, startPod } from "@t4dm/testkit";

const MINILM = { T4DM_EMBEDDER: "minilm" };

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A sidecar on `dataDir` and one memory-service start that must fail; returns its exit and what the WAL holds. */
async function failedStart(dataDir: string, env: Record<string, string>) {
  const base = { T4DM_DATA_DIR: dataDir, T4DM_GRPC_ADDR: "127.0.0.1:0", T4DM_HTTP_ADDR: "127.0.0.1:0" };
  const sidecar = ServiceProcess.start("persistence", base);
  cleanups.push(() => sidecar.kill("SIGKILL"));
  const listening = await sidecar.waitForEvent("grpc.listening");
  await sidecar.waitForEvent("sidecar.ready");
  const client = connectSidecar(String(listening.addr));
  const before = await call(client.getStatus.bind(client), persistenceV1.GetStatusRequest.fromPartial({}));
  const memory = ServiceProcess.start("memory", { ...base, ...env });
  cleanups.push(() => memory.kill("SIGKILL"));
  const exit = await memory.exited;
  const after = await call(client.getStatus.bind(client), persistenceV1.GetStatusRequest.fromPartial({}));
  client.close();
  await sidecar.kill("SIGTERM");
  return { exit, stderr: memory.stderr, lsnBefore: before.durableLsn, lsnAfter: after.durableLsn };
}

const record = (dataDir: string) => JSON.parse(readFileSync(path.join(dataDir, "store", "embedder.json"), "utf8")) as Record<string, unknown>;

describe("the local sentence model in the memory service", () => {
  it("recalls by meaning: 'what pet does Alice have' finds the cat, not the diet; the data dir records the model", async () => {
    const pod = await startPod({ env: MINILM });
    cleanups.push(() => pod.stop());
    const clients = connectClients(pod.grpcAddr);
    cleanups.push(() => clients.close());
    const contents = ["Alice is vegetarian", "Alice adopted a cat", "The deploy script is tools/deploy.sh", "Bob plays the cello on Sundays"];
    await call(
      clients.memory.batchRemember.bind(clients.memory),
      memoryV1.BatchRememberRequest.fromPartial({ requests: contents.map((content) => ({ namespace: "alice", content, admission: memoryV1.AdmissionMode.ADMISSION_MODE_ALWAYS })) }),
    );
    const recalled = await call(clients.memory.recall.bind(clients.memory), memoryV1.RecallRequest.fromPartial({ namespace: "alice", query: "what pet does Alice have", topK: 4 }));
    expect(recalled.memories[0]!.memory!.content).toBe("Alice adopted a cat");
    const ranked = recalled.memories.map((m) => m.memory!.content);
    expect(ranked.indexOf("Alice adopted a cat")).toBeLessThan(ranked.indexOf("Alice is vegetarian"));
    expect(record(pod.dataDir)).toMatchObject({ embedder: "minilm", model: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), dimensions: 384 });
    expect(recalled.queryTruncated).toBe(false);

    // A query past the model's window (256 word pieces) is cut there, and the answer says so.
    const long = `what pet does Alice have ${"and tell me every detail you know about her home ".repeat(40)}`;
    const cut = await call(clients.memory.recall.bind(clients.memory), memoryV1.RecallRequest.fromPartial({ namespace: "alice", query: long, topK: 4 }));
    expect(cut.queryTruncated).toBe(true);
    expect(cut.memories.length).toBeGreaterThan(0);
  });

  it("a data directory written by the model refuses the hashing embedder (exit 2, nothing written), then starts again with the model", async () => {
    const data = makeDataDir();
    cleanups.push(() => data.remove());
    const first = await startPod({ dataDir: data.dir, env: MINILM });
    const clients = connectClients(first.grpcAddr);
    await call(clients.memory.remember.bind(clients.memory), memoryV1.RememberRequest.fromPartial({ namespace: "n", content: "Alice adopted a cat", admission: 2 }));
    clients.close();
    await first.stop();
    const recorded = record(data.dir);

    const refused = await failedStart(data.dir, { T4DM_EMBEDDER: "hashing" });
    expect(refused.exit.code).toBe(2);
    expect(refused.stderr).toContain("written by the minilm embedder");
    expect(refused.stderr).toContain("would use the hashing embedder");
    expect(refused.stderr).toContain("T4DM_EMBEDDER=minilm");
    expect(refused.stderr).toContain("run `node services/memory/dist/reembed.js` with these settings to re-embed it");
    expect(refused.lsnAfter).toBe(refused.lsnBefore);
    expect(record(data.dir)).toEqual(recorded);

    const again = await startPod({ dataDir: data.dir, env: MINILM });
    cleanups.push(() => again.stop());
    const back = connectClients(again.grpcAddr);
    cleanups.push(() => back.close());
    const recalled = await call(back.memory.recall.bind(back.memory), memoryV1.RecallRequest.fromPartial({ namespace: "n", query: "which animal lives with Alice" }));
    expect(recalled.memories[0]!.memory!.content).toBe("Alice adopted a cat");
  });

  it("a data directory of 64-dimensional vectors refuses the 384-dimensional model (exit 2, nothing written)", async () => {
    const data = makeDataDir();
    cleanups.push(() => data.remove());
    const hashing = await startPod({ dataDir: data.dir, env: { T4DM_EMBEDDING_DIM: "64" } });
    await hashing.stop();
    const refused = await failedStart(data.dir, MINILM);
    expect(refused.exit.code).toBe(2);
    expect(refused.stderr).toContain("gives 384-dimensional vectors, but this data directory holds 64-dimensional ones");
    expect(refused.stderr).toContain("run `node services/memory/dist/reembed.js` with this model to re-embed it");
    expect(refused.lsnAfter).toBe(refused.lsnBefore);
    expect(record(data.dir)).toMatchObject({ embedder: "hashing", dimensions: 64 });
  });

  it("a fresh data directory with T4DM_EMBEDDING_DIM other than the model's exits 2 and says to unset it", async () => {
    const data = makeDataDir();
    cleanups.push(() => data.remove());
    const refused = await failedStart(data.dir, { ...MINILM, T4DM_EMBEDDING_DIM: "64" });
    expect(refused.exit.code).toBe(2);
    expect(refused.stderr).toContain("T4DM_EMBEDDING_DIM is 64; unset it (or set it to 384)");
    expect(refused.lsnAfter).toBe(0);
  });

  it("a missing model file exits 2 before the sidecar is touched, naming the file and `make model`", async () => {
    const data = makeDataDir();
    cleanups.push(() => data.remove());
    const emptyModelDir = mkdtempSync(path.join(tmpdir(), "t4dm-no-model-"));
    cleanups.push(() => rmSync(emptyModelDir, { recursive: true, force: true }));
    const refused = await failedStart(data.dir, { ...MINILM, T4DM_EMBEDDING_MODEL_DIR: emptyModelDir });
    expect(refused.exit.code).toBe(2);
    expect(refused.stderr).toContain(`embedding model file ${path.join(emptyModelDir, "model.onnx")} is missing`);
    expect(refused.stderr).toContain("make model");
    expect(refused.lsnAfter).toBe(0);
  });
});
