/**
 * Security suite, catalog item 17: a request id is scoped to its namespace.
 * The same id in another tenant's namespace is another request, never an
 * answer made of the first tenant's data; the same id with another body in the
 * same namespace is refused; a retry gets the first answer, also after a
 * restart. Real sidecar and memory service, API keys bound to namespaces.
 */
import { Metadata, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminV1, memoryV1 } from "@t4dm/proto";
import { decodeStatusDetails } from "@t4dm/rpc";
import { call, connectClients, makeDataDir, ServiceProcess, startPod, writeApiKeysFile, type Pod } from "@t4dm/testkit";

const KEYS = { a: "tenant-a-key-0123456789", b: "tenant-b-key-9876543210", ops: "ops-admin-key-abcdef" };
const ALWAYS = memoryV1.AdmissionMode.ADMISSION_MODE_ALWAYS;

function writeKeys(dir: string): string {
  return writeApiKeysFile(dir, [
    { id: "a", key: KEYS.a, namespaces: ["tenant-a"] },
    { id: "b", key: KEYS.b, namespaces: ["tenant-b"] },
    { id: "ops", key: KEYS.ops, namespaces: ["*"], admin: true },
  ]);
}

function bearer(key: string): Metadata {
  const metadata = new Metadata();
  metadata.set("authorization", `Bearer ${key}`);
  return metadata;
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected the call to fail, but it succeeded");
    },
    (error: ServiceError) => error,
  );

type Clients = ReturnType<typeof connectClients>;

/** The calls a tenant makes, with its key. */
function tenant(c: Clients, key: string) {
  const m = bearer(key);
  return {
    remember: (request: Partial<memoryV1.RememberRequest>) => call(c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ admission: ALWAYS, ...request }), m),
    batch: (requests: Partial<memoryV1.RememberRequest>[]) =>
      call(c.memory.batchRemember.bind(c.memory), { requests: requests.map((r) => memoryV1.RememberRequest.fromPartial({ admission: ALWAYS, ...r })) }, m),
    get: (namespace: string, id: string) => call(c.memory.getMemory.bind(c.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace, id }), m),
    list: (namespace: string) => call(c.memory.listMemories.bind(c.memory), memoryV1.ListMemoriesRequest.fromPartial({ namespace, pageSize: 1000 }), m),
    recall: (namespace: string, query: string) => call(c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace, query }), m),
    reinforce: (request: Partial<memoryV1.ReinforceRequest>) => call(c.memory.reinforce.bind(c.memory), memoryV1.ReinforceRequest.fromPartial(request), m),
    upsertFact: (request: Partial<memoryV1.UpsertFactRequest>) => call(c.knowledge.upsertFact.bind(c.knowledge), memoryV1.UpsertFactRequest.fromPartial(request), m),
    forget: (request: Partial<memoryV1.ForgetRequest>) => call(c.memory.forget.bind(c.memory), memoryV1.ForgetRequest.fromPartial(request), m),
    status: () => call(c.admin.getStatus.bind(c.admin), adminV1.GetStatusRequest.fromPartial({}), m),
    checkpoint: () => call(c.admin.checkpoint.bind(c.admin), adminV1.CheckpointRequest.fromPartial({}), m),
  };
}

function expectReused(error: ServiceError, requestId: string): void {
  expect(error.code).toBe(9); // FAILED_PRECONDITION
  const info = decodeStatusDetails(error).errorInfo;
  expect(info?.reason).toBe("REQUEST_ID_REUSED");
  expect(info?.metadata.request_id).toBe(requestId);
}

describe("request ids are scoped to their namespace (catalog 17)", () => {
  let pod: Pod;
  let c: Clients;
  let a: ReturnType<typeof tenant>;
  let b: ReturnType<typeof tenant>;
  let ops: ReturnType<typeof tenant>;
  const keyDir = makeDataDir("t4dm-keys-");

  beforeAll(async () => {
    pod = await startPod({ env: { T4DM_API_KEYS_FILE: writeKeys(keyDir.dir), T4DM_EMBEDDING_DIM: "32" } });
    c = connectClients(pod.grpcAddr);
    a = tenant(c, KEYS.a);
    b = tenant(c, KEYS.b);
    ops = tenant(c, KEYS.ops);
  });
  afterAll(async () => {
    c?.close();
    await pod?.stop();
    keyDir.remove();
  });

  it("stores tenant-b's Remember in tenant-b when tenant-a used the same request id, and shows b nothing of a", async () => {
    const first = await a.remember({ namespace: "tenant-a", content: "tenant a's private launch plan", requestId: "same-key" });
    const second = await b.remember({ namespace: "tenant-b", content: "tenant b's grocery list", requestId: "same-key" });
    expect(second.decision).toBe(memoryV1.AdmissionDecision.ADMISSION_DECISION_ADMITTED);
    expect(second.memory?.id).not.toBe(first.memory?.id);
    expect(second.memory).toMatchObject({ namespace: "tenant-b", content: "tenant b's grocery list" });
    expect(JSON.stringify(second)).not.toContain("private launch plan");
    expect((await b.get("tenant-b", second.memory!.id)).memory?.content).toBe("tenant b's grocery list");
    // A batch item with a's id, too.
    const batch = await b.batch([{ namespace: "tenant-b", content: "tenant b's batch note", requestId: "same-key-batch" }]);
    const fromA = await a.batch([{ namespace: "tenant-a", content: "tenant a's batch secret", requestId: "same-key-batch" }]);
    expect(fromA.responses[0]!.memory).toMatchObject({ namespace: "tenant-a", content: "tenant a's batch secret" });
    expect(fromA.responses[0]!.memory!.id).not.toBe(batch.responses[0]!.memory!.id);
    // Each tenant's namespace holds its own memories, once each.
    const listedB = (await b.list("tenant-b")).memories.map((m) => m.content).sort();
    expect(listedB).toEqual(["tenant b's batch note", "tenant b's grocery list"]);
    const listedA = (await a.list("tenant-a")).memories.map((m) => m.content);
    expect(listedA.filter((content) => content.startsWith("tenant a's"))).toEqual(["tenant a's private launch plan", "tenant a's batch secret"]);
    expect((await a.get("tenant-a", first.memory!.id)).memory?.content).toBe("tenant a's private launch plan");
  });

  it("answers a retry in the same namespace with the first memory, and refuses the id with another body, logging nothing", async () => {
    const request = { namespace: "tenant-a", content: "retry me once", requestId: "retry-1", metadata: { source: "agent", n: 1 } };
    const first = await a.remember(request);
    const retry = await a.remember({ ...request, metadata: { n: 1, source: "agent" } });
    expect(retry.memory?.id).toBe(first.memory?.id);
    expect(retry.memory?.content).toBe("retry me once");
    const [inBatch] = (await a.batch([request])).responses;
    expect(inBatch!.memory?.id).toBe(first.memory?.id);
    expect((await a.list("tenant-a")).memories.filter((m) => m.content === "retry me once")).toHaveLength(1);

    const before = await ops.status();
    expectReused(await failure(a.remember({ ...request, content: "a different body" })), "retry-1");
    expectReused(await failure(a.remember({ ...request, metadata: { source: "other" } })), "retry-1");
    // A batch with one reused id is refused whole, and so is one that reuses an id within itself.
    const reusedItem = await failure(a.batch([{ namespace: "tenant-a", content: "fine", requestId: "fresh-1" }, { ...request, content: "different" }]));
    expectReused(reusedItem, "retry-1");
    expect(decodeStatusDetails(reusedItem).errorInfo?.metadata.field).toBe("requests[1].request_id");
    expectReused(
      await failure(a.batch([{ namespace: "tenant-a", content: "one", requestId: "twice" }, { namespace: "tenant-a", content: "two", requestId: "twice" }])),
      "twice",
    );
    const after = await ops.status();
    expect(after.appliedLsn).toBe(before.appliedLsn);
    expect(Buffer.from(after.stateHash).equals(Buffer.from(before.stateHash))).toBe(true);
    expect((await a.list("tenant-a")).memories.map((m) => m.content)).not.toContain("fine");
  });

  it("scopes Reinforce and Forget request ids the same way", async () => {
    const stored = await a.remember({ namespace: "tenant-a", content: "reinforce and forget target" });
    const storedB = await b.remember({ namespace: "tenant-b", content: "tenant b's reinforce target" });
    const recallA = await a.recall("tenant-a", "reinforce and forget target");
    const recallB = await b.recall("tenant-b", "reinforce target");

    const reinforced = await a.reinforce({ namespace: "tenant-a", recallId: recallA.recallId, reward: 1, requestId: "rf-1" });
    expect(await a.reinforce({ namespace: "tenant-a", recallId: recallA.recallId, reward: 1, requestId: "rf-1" })).toEqual(reinforced);
    expectReused(await failure(a.reinforce({ namespace: "tenant-a", recallId: recallA.recallId, reward: -1, requestId: "rf-1" })), "rf-1");
    // The same id in tenant-b reinforces b's own recall, not a's answer.
    const reinforcedB = await b.reinforce({ namespace: "tenant-b", recallId: recallB.recallId, reward: 0.5, requestId: "rf-1" });
    expect(reinforcedB.lsn).toBeGreaterThan(reinforced.lsn);

    const forgotten = await a.forget({ namespace: "tenant-a", ids: [stored.memory!.id], requestId: "fg-1" });
    expect(forgotten.forgottenCount).toBe(1);
    expect(await a.forget({ namespace: "tenant-a", ids: [stored.memory!.id], requestId: "fg-1" })).toEqual(forgotten);
    expectReused(await failure(a.forget({ namespace: "tenant-a", ids: ["another-id"], requestId: "fg-1" })), "fg-1");
    const forgottenB = await b.forget({ namespace: "tenant-b", ids: [storedB.memory!.id], requestId: "fg-1" });
    expect(forgottenB.forgottenCount).toBe(1);
    expect(forgottenB.lsn).toBeGreaterThan(forgotten.lsn);
  });

  it("scopes UpsertFact request ids the same way", async () => {
    const fact = { namespace: "tenant-a", subject: "launch", predicate: "scheduled_for", object: "march", requestId: "fact-1" };
    const first = await a.upsertFact(fact);
    expect((await a.upsertFact(fact)).fact?.id).toBe(first.fact?.id);
    expectReused(await failure(a.upsertFact({ ...fact, object: "april" })), "fact-1");
    const forB = await b.upsertFact({ ...fact, namespace: "tenant-b", object: "june" });
    expect(forB.fact).toMatchObject({ namespace: "tenant-b", object: "june" });
    expect(forB.fact?.id).not.toBe(first.fact?.id);
  });
});

describe("request ids across a memory-service restart", () => {
  it("answers retries with the same memory after a restart (checkpoint and WAL tail), once each, still scoped and body-checked", async () => {
    const keyDir = makeDataDir("t4dm-keys-");
    const data = makeDataDir();
    const env = {
      T4DM_DATA_DIR: data.dir,
      T4DM_GRPC_ADDR: "127.0.0.1:0",
      T4DM_HTTP_ADDR: "127.0.0.1:0",
      T4DM_API_KEYS_FILE: writeKeys(keyDir.dir),
      T4DM_EMBEDDING_DIM: "32",
    };
    const startMemory = async () => {
      const memory = ServiceProcess.start("memory", env);
      const addr = String((await memory.waitForEvent("grpc.listening")).addr);
      await memory.waitFor((line) => line.event === "readiness" && line.ready === true);
      return { memory, c: connectClients(addr) };
    };
    const sidecar = ServiceProcess.start("persistence", env);
    let run: Awaited<ReturnType<typeof startMemory>> | undefined;
    try {
      await sidecar.waitForEvent("grpc.listening");
      run = await startMemory();
      let a = tenant(run.c, KEYS.a);
      const inCheckpoint = { namespace: "tenant-a", content: "kept through a checkpoint", requestId: "ck-1" };
      const inTail = { namespace: "tenant-a", content: "kept in the WAL tail", requestId: "tail-1" };
      const first = await a.remember(inCheckpoint);
      expect((await a.remember(inCheckpoint)).memory?.id).toBe(first.memory?.id);
      await tenant(run.c, KEYS.ops).checkpoint();
      const second = await a.remember(inTail);
      expect((await a.remember(inTail)).memory?.id).toBe(second.memory?.id);

      run.c.close();
      await run.memory.kill("SIGKILL");
      run = await startMemory();
      a = tenant(run.c, KEYS.a);
      const b = tenant(run.c, KEYS.b);

      expect((await a.remember(inCheckpoint)).memory).toMatchObject({ id: first.memory!.id, content: inCheckpoint.content });
      expect((await a.remember(inTail)).memory).toMatchObject({ id: second.memory!.id, content: inTail.content });
      const listed = (await a.list("tenant-a")).memories.map((m) => m.content).sort();
      expect(listed).toEqual([inTail.content, inCheckpoint.content].sort());
      expectReused(await failure(a.remember({ ...inTail, content: "changed after the restart" })), "tail-1");
      // Restored keys are still scoped: tenant-b's same id is b's own memory.
      const forB = await b.remember({ namespace: "tenant-b", content: "tenant b after the restart", requestId: "ck-1" });
      expect(forB.memory).toMatchObject({ namespace: "tenant-b", content: "tenant b after the restart" });
      expect(forB.memory!.id).not.toBe(first.memory!.id);
    } finally {
      run?.c.close();
      await run?.memory.kill("SIGKILL");
      await sidecar.kill("SIGKILL");
      data.remove();
      keyDir.remove();
    }
  });
});
