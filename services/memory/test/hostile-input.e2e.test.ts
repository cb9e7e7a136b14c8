import { execFileSync } from "node:child_process";
import { Client, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminV1, memoryV1 } from "@t4dm/proto";
import { call, connectClients, REPO_ROOT, startPod, type Pod } from "@t4dm/testkit";
import { mulberry32 } from "@t4dm/testkit";

const MARKER = "HOSTILE-MARKER-7f3a";


/** Sends raw bytes as a request body to any method: the server must decode (or refuse) them itself. */
function raw(client: Client, path: string, body: Buffer): Promise<{ error?: ServiceError }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, body, new Metadata(), { deadline: Date.now() + 20_000 }, (error) =>
      resolve({ error: error ?? undefined }),
    );
  });
}

const METHODS = [
  "/t4dm.memory.v1.MemoryService/Remember",
  "/t4dm.memory.v1.MemoryService/BatchRemember",
  "/t4dm.memory.v1.MemoryService/Recall",
  "/t4dm.memory.v1.MemoryService/Reinforce",
  "/t4dm.memory.v1.MemoryService/Forget",
  "/t4dm.memory.v1.MemoryService/GetMemory",
  "/t4dm.memory.v1.MemoryService/ListMemories",
  "/t4dm.memory.v1.MemoryService/Consolidate",
  "/t4dm.memory.v1.KnowledgeService/UpsertFact",
  "/t4dm.memory.v1.KnowledgeService/QueryFacts",
  "/t4dm.memory.v1.KnowledgeService/MatchProcedures",
  "/t4dm.admin.v1.AdminService/Reset",
  "/t4dm.admin.v1.AdminService/ExportMemories",
  "/t4dm.admin.v1.AdminService/ImportMemories",
  "/t4dm.admin.v1.AdminService/ListNamespaces",
];

describe("hostile input: the service stays up, answers with the right codes, and logs nothing refused", () => {
  let pod: Pod;
  let c: ReturnType<typeof connectClients>;
  let rawClient: Client;
  const dim = 16;

  beforeAll(async () => {
    pod = await startPod({ env: { T4DM_EMBEDDING_DIM: String(dim), T4DM_MAX_MESSAGE_BYTES: String(1024 * 1024), T4DM_RATE_LIMIT: "0", T4DM_MAX_IN_FLIGHT: "4096" } });
    c = connectClients(pod.grpcAddr);
    rawClient = new Client(pod.grpcAddr, credentials.createInsecure());
  });
  afterAll(async () => {
    rawClient?.close();
    c?.close();
    await pod?.stop();
  });

  it("survives random and mutated protobuf bytes on every method", async () => {
    const seed = Number(process.env.T4DM_TEST_SEED ?? Date.now() % 100000);
    const random = mulberry32(seed);
    const valid = Buffer.from(memoryV1.RememberRequest.encode(memoryV1.RememberRequest.fromPartial({ namespace: "ns", content: "a valid thing to remember", metadata: { k: 1 } })).finish());
    const codes = new Map<number, number>();
    for (let i = 0; i < 400; i++) {
      const method = METHODS[Math.floor(random() * METHODS.length)]!;
      let body: Buffer;
      if (random() < 0.5) {
        body = Buffer.from(Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256)));
      } else {
        body = Buffer.from(valid);
        for (let flips = 1 + Math.floor(random() * 6); flips > 0; flips--) body[Math.floor(random() * body.length)] = Math.floor(random() * 256);
      }
      const { error } = await raw(rawClient, method, body);
      const code = error?.code ?? 0;
      codes.set(code, (codes.get(code) ?? 0) + 1);
      // Never an internal error: undecodable bytes are the caller's INVALID_ARGUMENT.
      expect([0, 3, 5, 7, 9, 14].includes(code), `seed ${seed}: ${method} answered ${code} ${error?.details}`).toBe(true);
    }
    const status = await call(c.admin.getStatus.bind(c.admin), adminV1.GetStatusRequest.fromPartial({}));
    expect(status.ready).toBe(true);
  });

  it("refuses oversized, deep, non-finite, negative and unknown-enum input with INVALID_ARGUMENT or RESOURCE_EXHAUSTED", async () => {
    // Memories an earlier test remembered may still be promoted in the background (the store sync lingers
    // 20 ms, then logs STORE_SYNCED): start from a quiet log, so any record below is one of these calls'.
    const status = () => call(c.admin.getStatus.bind(c.admin), adminV1.GetStatusRequest.fromPartial({}));
    let before = await status();
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const again = await status();
      if (again.appliedLsn === before.appliedLsn) break;
      before = again;
    }
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let i = 0; i < 200; i++) cursor = (cursor["n"] = {}) as Record<string, unknown>;
    const huge = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, MARKER]));
    const remember = (partial: Partial<memoryV1.RememberRequest>) =>
      call(c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace: "ns", content: `${MARKER} content`, ...partial })).then(
        () => 0,
        (e: ServiceError) => e.code,
      );
    const results = {
      oversizedContent: await remember({ content: `${MARKER} ${"x".repeat(2 * 1024 * 1024)}` }),
      deepMetadata: await remember({ metadata: { deep } }),
      hugeMetadata: await remember({ metadata: huge }),
      nanVector: await remember({ embedding: Array.from({ length: dim }, () => NaN) }),
      infVector: await remember({ embedding: Array.from({ length: dim }, () => -Infinity) }),
      negativeImportance: await remember({ importance: -5 }),
      hugeImportance: await remember({ importance: 1e30 }),
      unknownType: await remember({ type: 99 as memoryV1.MemoryType }),
      unknownAdmission: await remember({ admission: 77 as memoryV1.AdmissionMode }),
      invalidUtf8Namespace: await remember({ namespace: Buffer.from([0xff, 0xfe, 0x41]).toString("latin1") }),
      negativeTtl: await remember({ type: memoryV1.MemoryType.MEMORY_TYPE_WORKING, ttl: { seconds: -100, nanos: 0 } }),
      hugeTopK: await call(c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace: "ns", query: "x y", topK: 4_000_000_000 })).then(
        () => 0,
        (e: ServiceError) => e.code,
      ),
      negativePageSize: await call(c.memory.listMemories.bind(c.memory), memoryV1.ListMemoriesRequest.fromPartial({ namespace: "ns", pageSize: -5 })).then(
        () => 0,
        (e: ServiceError) => e.code,
      ),
    };
    for (const [name, code] of Object.entries(results)) {
      expect([3, 8], `${name} answered ${code}`).toContain(code);
    }
    const after = await call(c.admin.getStatus.bind(c.admin), adminV1.GetStatusRequest.fromPartial({}));
    expect(after.appliedLsn).toBe(before.appliedLsn);
  });

  it("serves thousands of concurrent calls without falling over", async () => {
    const calls = Array.from({ length: 2000 }, (_, i) =>
      call(
        c.memory.recall.bind(c.memory),
        memoryV1.RecallRequest.fromPartial({ namespace: "ns", query: `concurrent query ${i % 17}` }),
      ).then(
        () => 0,
        (e: ServiceError) => e.code,
      ),
    );
    const codes = await Promise.all(calls);
    expect(codes.every((code) => code === 0 || code === 8)).toBe(true);
    expect(codes.filter((code) => code === 0).length).toBeGreaterThan(0);
    const status = await call(c.admin.getStatus.bind(c.admin), adminV1.GetStatusRequest.fromPartial({}));
    expect(status.ready).toBe(true);
  });

  it("leaves no record of any refused call in the WAL", async () => {
    await call(c.admin.checkpoint.bind(c.admin), adminV1.CheckpointRequest.fromPartial({}));
    const out = execFileSync(process.execPath, [`${REPO_ROOT}services/persistence/dist/cli.js`, "records", pod.dataDir, "--json"], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    expect(out.length).toBeGreaterThan(0);
    expect(out).not.toContain(MARKER);
  });
});
