import { statSync } from "node:fs";
import path from "node:path";
import { adminV1, memoryV1 } from "@t4dm/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, connectClients, startPod, type Pod } from "@t4dm/testkit";

describe("the operator's HTTP port, over real HTTP", () => {
  let pod: Pod;
  let clients: ReturnType<typeof connectClients>;

  beforeAll(async () => {
    pod = await startPod({ env: { T4DM_EMBEDDING_DIM: "32" } });
    clients = connectClients(pod.grpcAddr);
  });
  afterAll(async () => {
    clients?.close();
    await pod?.stop();
  });

  it.each([
    ["POST", "/health", "GET"],
    ["POST", "/ready", "GET"],
    ["DELETE", "/status", "GET"],
    ["POST", "/metrics", "GET"],
    ["GET", "/api/v1/checkpoint", "POST"],
    ["GET", "/api/v1/reset", "POST"],
    ["PUT", "/api/v1/reset", "POST"],
  ])("answers %s %s with 405 and Allow: %s", async (method, route, allow) => {
    const response = await fetch(`${pod.httpUrl}${route}?confirm=true`, { method });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe(allow);
    expect(await response.json()).toEqual({ error: `${method} is not allowed on ${route}; use ${allow}` });
  });

  it("still answers 404 for a path that exists for no method, and the right method as before", async () => {
    expect((await fetch(`${pod.httpUrl}/api/v1/nope`, { method: "POST" })).status).toBe(404);
    expect((await fetch(`${pod.httpUrl}/health`)).status).toBe(200);
    // A wrong method changed nothing: no checkpoint, no reset was logged.
    expect(pod.memory.lines.some((l) => l.event === "checkpoint.done" && l.reason === "admin http")).toBe(false);
  });

  it("names the checkpoint's size sizeBytes over HTTP, gRPC and in both logs, and it is the file's size", async () => {
    await call(clients.memory.remember.bind(clients.memory), memoryV1.RememberRequest.fromPartial({ namespace: "ops", content: "a note to checkpoint", admission: 2 }));
    const overHttp = (await (await fetch(`${pod.httpUrl}/api/v1/checkpoint`, { method: "POST" })).json()) as Record<string, unknown>;
    expect(Object.keys(overHttp).sort()).toEqual(["fileName", "lsn", "sizeBytes"]);
    const fileBytes = (name: unknown) => statSync(path.join(pod.dataDir, "checkpoints", String(name))).size;
    expect(overHttp.sizeBytes).toBe(fileBytes(overHttp.fileName));

    await call(clients.memory.remember.bind(clients.memory), memoryV1.RememberRequest.fromPartial({ namespace: "ops", content: "another note", admission: 2 }));
    const overGrpc = await call(clients.admin.checkpoint.bind(clients.admin), adminV1.CheckpointRequest.fromPartial({}));
    expect(overGrpc.sizeBytes).toBe(fileBytes(overGrpc.fileName));

    const done = await pod.memory.waitFor((l) => l.event === "checkpoint.done" && l.lsn === overGrpc.lsn);
    expect(done.sizeBytes).toBe(overGrpc.sizeBytes);
    expect(done).not.toHaveProperty("compressedBytes");
    const written = await pod.sidecar.waitFor((l) => l.event === "checkpoint.written" && l.lsn === overGrpc.lsn);
    expect(written.sizeBytes).toBe(overGrpc.sizeBytes);
    expect(written).not.toHaveProperty("compressedBytes");
  });

  it("writes the state hash as lowercase hex in /status and the logs, the same bytes gRPC returns", async () => {
    const overGrpc = await call(clients.admin.getStatus.bind(clients.admin), adminV1.GetStatusRequest.fromPartial({}));
    const overHttp = (await (await fetch(`${pod.httpUrl}/status`)).json()) as { stateHash: string; appliedLsn: number };
    expect(overHttp.appliedLsn).toBe(overGrpc.appliedLsn); // nothing was written in between
    expect(overHttp.stateHash).toMatch(/^[0-9a-f]{64}$/);
    expect(overHttp.stateHash).toBe(Buffer.from(overGrpc.stateHash).toString("hex"));
    const recovered = await pod.memory.waitForEvent("recovery.done");
    expect(recovered.stateHash).toMatch(/^[0-9a-f]{64}$/);
  });
});
