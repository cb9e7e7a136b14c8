import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { Metadata, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminV1, memoryV1 } from "@t4dm/proto";
import { decodeStatusDetails } from "@t4dm/rpc";
import { connectClients, makeDataDir, startPod, type Pod } from "@t4dm/testkit";

const KEYS = { alice: "alice-key-0123456789", bob: "bob-key-9876543210", ops: "ops-admin-key-abcdef" };
const sha = (key: string) => createHash("sha256").update(key).digest("hex");

/** Calls a unary method with a bearer key. */
function as<Req, Res>(key: string | undefined, method: (r: Req, m: Metadata, o: object, cb: (e: ServiceError | null, r: Res) => void) => unknown, request: Req): Promise<Res> {
  const metadata = new Metadata();
  if (key) metadata.set("authorization", `Bearer ${key}`);
  return new Promise((resolve, reject) => method(request, metadata, {}, (error, response) => (error ? reject(error) : resolve(response))));
}
const failure = (promise: Promise<unknown>) => promise.then(() => undefined as unknown as ServiceError, (error: ServiceError) => error);

describe("tenancy: keys bound to namespaces", () => {
  let pod: Pod;
  let c: ReturnType<typeof connectClients>;
  let aliceMemory: string;
  const keyDir = makeDataDir("t4dm-keys-");

  beforeAll(async () => {
    const file = path.join(keyDir.dir, "keys.json");
    writeFileSync(
      file,
      JSON.stringify({
        keys: [
          { id: "alice", sha256: sha(KEYS.alice), namespaces: ["alice", "shared/*"] },
          { id: "bob", sha256: sha(KEYS.bob), namespaces: ["bob"] },
          { id: "ops", sha256: sha(KEYS.ops), namespaces: ["*"], admin: true },
        ],
      }),
    );
    pod = await startPod({ env: { T4DM_API_KEYS_FILE: file, T4DM_EMBEDDING_DIM: "32" } });
    c = connectClients(pod.grpcAddr);
    const stored = await as(KEYS.alice, c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace: "alice", content: "alice's private plan", admission: 2 }));
    aliceMemory = stored.memory!.id;
  });
  afterAll(async () => {
    c?.close();
    await pod?.stop();
    keyDir.remove();
  });

  it("refuses calls without a key or with an unknown key (UNAUTHENTICATED)", async () => {
    const none = await failure(as(undefined, c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace: "alice", query: "plan" })));
    expect(none.code).toBe(16);
    const wrong = await failure(as("not-a-key", c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace: "alice", query: "plan" })));
    expect(wrong.code).toBe(16);
  });

  it("refuses every RPC across the namespace boundary with PERMISSION_DENIED, revealing nothing", async () => {
    const ns = { namespace: "alice" };
    const attempts: [string, Promise<unknown>][] = [
      ["Remember", as(KEYS.bob, c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ ...ns, content: "x y" }))],
      ["BatchRemember", as(KEYS.bob, c.memory.batchRemember.bind(c.memory), { requests: [memoryV1.RememberRequest.fromPartial({ namespace: "bob", content: "ok" }), memoryV1.RememberRequest.fromPartial({ ...ns, content: "x y" })] })],
      ["Recall", as(KEYS.bob, c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ ...ns, query: "plan" }))],
      ["Reinforce", as(KEYS.bob, c.memory.reinforce.bind(c.memory), memoryV1.ReinforceRequest.fromPartial({ ...ns, recallId: "r", reward: 1 }))],
      ["Forget", as(KEYS.bob, c.memory.forget.bind(c.memory), memoryV1.ForgetRequest.fromPartial({ ...ns, ids: [aliceMemory] }))],
      ["GetMemory", as(KEYS.bob, c.memory.getMemory.bind(c.memory), memoryV1.GetMemoryRequest.fromPartial({ ...ns, id: aliceMemory }))],
      ["GetMemory unknown id", as(KEYS.bob, c.memory.getMemory.bind(c.memory), memoryV1.GetMemoryRequest.fromPartial({ ...ns, id: "nope" }))],
      ["ListMemories", as(KEYS.bob, c.memory.listMemories.bind(c.memory), memoryV1.ListMemoriesRequest.fromPartial(ns))],
      ["Consolidate", as(KEYS.bob, c.memory.consolidate.bind(c.memory), memoryV1.ConsolidateRequest.fromPartial(ns))],
      ["UpsertFact", as(KEYS.bob, c.knowledge.upsertFact.bind(c.knowledge), memoryV1.UpsertFactRequest.fromPartial({ ...ns, subject: "a", predicate: "b", object: "c" }))],
      ["QueryFacts", as(KEYS.bob, c.knowledge.queryFacts.bind(c.knowledge), memoryV1.QueryFactsRequest.fromPartial(ns))],
      ["UpsertProcedure", as(KEYS.bob, c.knowledge.upsertProcedure.bind(c.knowledge), memoryV1.UpsertProcedureRequest.fromPartial({ ...ns, name: "n", trigger: "t x", steps: [{ action: "a" }] }))],
      ["MatchProcedures", as(KEYS.bob, c.knowledge.matchProcedures.bind(c.knowledge), memoryV1.MatchProceduresRequest.fromPartial({ ...ns, situation: "s x" }))],
      ["RecordProcedureOutcome", as(KEYS.bob, c.knowledge.recordProcedureOutcome.bind(c.knowledge), memoryV1.RecordProcedureOutcomeRequest.fromPartial({ ...ns, procedureId: "p" }))],
    ];
    for (const [name, attempt] of attempts) {
      const error = await failure(attempt);
      expect(error?.code, name).toBe(7);
      expect(decodeStatusDetails(error).errorInfo?.reason, name).toBe("NAMESPACE_DENIED");
      // The same answer whether or not the id exists: nothing about alice's data leaks.
      expect(error.details, name).not.toContain("private plan");
    }
    // Alice's memory is untouched, and Bob's own namespace works.
    const mine = await as(KEYS.alice, c.memory.getMemory.bind(c.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: "alice", id: aliceMemory }));
    expect(mine.memory?.content).toBe("alice's private plan");
    const bobsRecall = await as(KEYS.bob, c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace: "bob", query: "private plan" }));
    expect(bobsRecall.memories).toEqual([]);
    // Alice's id asked in Bob's own namespace is simply not there.
    expect((await failure(as(KEYS.bob, c.memory.getMemory.bind(c.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: "bob", id: aliceMemory })))).code).toBe(5);
  });

  it("grants namespace prefixes", async () => {
    const ok = await as(KEYS.alice, c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace: "shared/team", content: "shared note", admission: 2 }));
    expect(ok.memory?.namespace).toBe("shared/team");
    expect((await failure(as(KEYS.alice, c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace: "sharedX", query: "note" })))).code).toBe(7);
  });

  it("locks admin operations, on gRPC and HTTP, and audit-logs denials by key id only", async () => {
    for (const attempt of [
      as(KEYS.alice, c.admin.getStatus.bind(c.admin), adminV1.GetStatusRequest.fromPartial({})),
      as(KEYS.alice, c.admin.checkpoint.bind(c.admin), adminV1.CheckpointRequest.fromPartial({})),
      as(KEYS.alice, c.admin.reset.bind(c.admin), adminV1.ResetRequest.fromPartial({ confirm: true })),
    ]) {
      const error = await failure(attempt);
      expect(error.code).toBe(7);
      expect(decodeStatusDetails(error).errorInfo?.reason).toBe("ADMIN_REQUIRED");
    }
    expect((await fetch(`${pod.httpUrl}/api/v1/checkpoint`, { method: "POST" })).status).toBe(401);
    expect((await fetch(`${pod.httpUrl}/api/v1/checkpoint`, { method: "POST", headers: { authorization: `Bearer ${KEYS.alice}` } })).status).toBe(403);
    expect((await fetch(`${pod.httpUrl}/status`)).status).toBe(401);
    expect((await fetch(`${pod.httpUrl}/health`)).status).toBe(200);
    expect((await fetch(`${pod.httpUrl}/ready`)).status).toBe(200);
    const checkpoint = await fetch(`${pod.httpUrl}/api/v1/checkpoint`, { method: "POST", headers: { authorization: `Bearer ${KEYS.ops}` } });
    expect(checkpoint.status).toBe(200);
    const status = await fetch(`${pod.httpUrl}/status`, { headers: { authorization: `Bearer ${KEYS.ops}` } });
    expect(((await status.json()) as { ready: boolean }).ready).toBe(true);

    const audit = pod.memory.lines.filter((l) => String(l.event).startsWith("audit."));
    expect(audit.some((l) => l.event === "audit.denied" && l.keyId === "alice" && l.reason === "admin required")).toBe(true);
    expect(audit.some((l) => l.event === "audit.admin" && l.keyId === "ops")).toBe(true);
    const logged = JSON.stringify(pod.memory.lines);
    for (const key of Object.values(KEYS)) expect(logged).not.toContain(key);
  });

  it("refuses a reset without confirm and changes nothing; with confirm it is logged and resets learning", async () => {
    // Its own namespace and memory: the test must not depend on what other tests left behind.
    await as(KEYS.alice, c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace: "shared/reset", content: "note to reset", admission: 2 }));
    const before = await as(KEYS.ops, c.admin.getStatus.bind(c.admin), adminV1.GetStatusRequest.fromPartial({}));
    const refused = await failure(as(KEYS.ops, c.admin.reset.bind(c.admin), adminV1.ResetRequest.fromPartial({ confirm: false })));
    expect(refused.code).toBe(3);
    expect((await fetch(`${pod.httpUrl}/api/v1/reset`, { method: "POST", headers: { authorization: `Bearer ${KEYS.ops}` } })).status).toBe(400);
    const unchanged = await as(KEYS.ops, c.admin.getStatus.bind(c.admin), adminV1.GetStatusRequest.fromPartial({}));
    expect(unchanged.appliedLsn).toBe(before.appliedLsn);
    expect(Buffer.from(unchanged.stateHash).equals(Buffer.from(before.stateHash))).toBe(true);

    const reset = await as(KEYS.ops, c.admin.reset.bind(c.admin), adminV1.ResetRequest.fromPartial({ confirm: true, namespace: "shared/reset", deleteMemories: true }));
    expect(reset.forgottenCount).toBe(1);
    expect(reset.lsn).toBeGreaterThan(before.appliedLsn);
    const after = await as(KEYS.ops, c.admin.getStatus.bind(c.admin), adminV1.GetStatusRequest.fromPartial({}));
    expect(after.neuromodulators).toMatchObject({ dopamine: 0.5, serotonin: 0.5 });
    // Alice's own memories survive a reset of another namespace.
    const mine = await as(KEYS.alice, c.memory.getMemory.bind(c.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: "alice", id: aliceMemory }));
    expect(mine.memory?.id).toBe(aliceMemory);
  });
});

describe("key reload", () => {
  it("picks up a changed keys file on SIGHUP", async () => {
    const dir = makeDataDir("t4dm-keys-");
    const file = path.join(dir.dir, "keys.json");
    const write = (namespaces: string[]) => writeFileSync(file, JSON.stringify({ keys: [{ id: "carol", sha256: sha("carol-key-123"), namespaces }] }));
    write(["carol"]);
    const pod = await startPod({ env: { T4DM_API_KEYS_FILE: file, T4DM_EMBEDDING_DIM: "32" } });
    const c = connectClients(pod.grpcAddr);
    try {
      const recallIn = (namespace: string) => failure(as("carol-key-123", c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace, query: "x y" })));
      expect((await recallIn("carol-2"))?.code).toBe(7);
      write(["carol", "carol-2"]);
      pod.memory.child.kill("SIGHUP");
      await pod.memory.waitForEvent("auth.keys_reloaded");
      expect(await recallIn("carol-2")).toBeUndefined();
    } finally {
      c.close();
      await pod.stop();
      dir.remove();
    }
  });
});

describe("development mode", () => {
  it("refuses to listen on a public address without keys unless T4DM_ALLOW_INSECURE=1", async () => {
    const { ServiceProcess } = await import("@t4dm/testkit");
    const data = makeDataDir();
    const proc = ServiceProcess.start("memory", { T4DM_DATA_DIR: data.dir, T4DM_GRPC_ADDR: "0.0.0.0:0", T4DM_HTTP_ADDR: "127.0.0.1:0" });
    const exit = await proc.exited;
    data.remove();
    expect(exit.code).toBe(2);
    expect(proc.stderr).toMatch(/refusing to listen on 0\.0\.0\.0:0 without API keys/);
  });
});
