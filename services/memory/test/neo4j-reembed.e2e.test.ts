// The re-embed command with the graph store on Neo4j: semantic memories promoted to Neo4j by the
// hashing embedder carry the model's vectors afterwards. A Neo4j server of its own: a re-embed
// rewrites every :Memory node of the database, which must not touch the run's shared server.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_EMBEDDING_MODEL_DIR } from "@t4dm/config";
import { memoryV1 } from "@t4dm/proto";
import { call, connectClients, makeDataDir, Neo4jServer, REPO_ROOT, startPod } from "@t4dm/testkit";
import { MiniLmEmbedder } from "../dist/embedding/minilm-embedder.js";

const SEMANTIC = memoryV1.MemoryType.MEMORY_TYPE_SEMANTIC;
const STORED = memoryV1.MemoryStatus.MEMORY_STATUS_STORED;

describe("re-embed with the graph store on Neo4j", () => {
  let server: Neo4jServer;
  let model: MiniLmEmbedder;
  const cleanups: (() => Promise<unknown> | void)[] = [];
  beforeAll(async () => {
    [server, model] = await Promise.all([Neo4jServer.start(), MiniLmEmbedder.load({ modelDir: DEFAULT_EMBEDDING_MODEL_DIR, workers: 1, maxBatch: 32 })]);
  }, 180_000);
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await Promise.all([server?.dispose(), model?.close()]);
  });

  it("memory nodes in Neo4j get the model's vector of their content", async () => {
    const { uri, user, password } = server.connection;
    const neo4jEnv = { T4DM_NEO4J_URI: uri, T4DM_NEO4J_USER: user, T4DM_NEO4J_PASSWORD: password };
    const data = makeDataDir();
    cleanups.push(() => data.remove());
    const first = await startPod({ dataDir: data.dir, env: { ...neo4jEnv, T4DM_BUFFER_CAPACITY: "3" } });
    cleanups.push(() => first.stop());
    const clients = connectClients(first.grpcAddr);
    const contents = ["Alice adopted a cat", "Paris is the capital of France", "Water boils at 100 degrees", "The deploy key rotates monthly", "Bob is a cellist", "Tea grows in Assam"];
    const ids: string[] = [];
    for (const content of contents) {
      const r = await call(clients.memory.remember.bind(clients.memory), memoryV1.RememberRequest.fromPartial({ namespace: "n", content, type: SEMANTIC, importance: 0.9, admission: 2 }));
      ids.push(r.memory!.id);
    }
    // Promotions reach Neo4j in the background: poll (with a deadline) until three are stored there.
    const stored = async () => {
      const got = await Promise.all(ids.map((id) => call(clients.memory.getMemory.bind(clients.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: "n", id }))));
      return got.filter((r) => r.memory!.status === STORED).length;
    };
    for (const deadline = Date.now() + 30_000; (await stored()) < 3; ) {
      if (Date.now() > deadline) throw new Error("promotions did not reach Neo4j in 30 s");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    clients.close();
    await first.memory.kill("SIGTERM");

    const command = spawn(process.execPath, [`${REPO_ROOT}services/memory/dist/reembed.js`], {
      env: { PATH: process.env.PATH ?? "", T4DM_DATA_DIR: data.dir, T4DM_EMBEDDER: "minilm", ...neo4jEnv },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    command.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => command.once("close", resolve));
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/re-embed graph \(neo4j\): \d+\/\d+ \(100%\)/);
    await first.sidecar.kill("SIGTERM");

    const second = await startPod({ dataDir: data.dir, env: { ...neo4jEnv, T4DM_EMBEDDER: "minilm" } });
    cleanups.push(() => second.stop());
    const after = connectClients(second.grpcAddr);
    cleanups.push(() => after.close());
    const expected = await model.embed(contents);
    let inNeo4j = 0;
    for (const [i, id] of ids.entries()) {
      const got = await call(after.memory.getMemory.bind(after.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: "n", id, includeEmbedding: true }));
      if (got.memory!.status === STORED) inNeo4j++;
      let dot = 0;
      for (let k = 0; k < 384; k++) dot += got.memory!.embedding[k]! * expected[i]![k]!;
      expect(dot, contents[i]).toBeGreaterThan(0.999);
    }
    expect(inNeo4j).toBeGreaterThanOrEqual(3);
  }, 180_000);
});
