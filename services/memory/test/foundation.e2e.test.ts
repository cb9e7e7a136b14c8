import { statSync } from "node:fs";
import { adminV1 } from "@t4dm/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  call,
  callError,
  checkHealth,
  connectClients,
  grpcurl,
  makeDataDir,
  ServiceProcess,
  startPod,
  type Pod,
} from "@t4dm/testkit";

describe("memory service and sidecar, as two real processes", () => {
  let pod: Pod;
  let clients: ReturnType<typeof connectClients>;

  beforeAll(async () => {
    pod = await startPod();
    clients = connectClients(pod.grpcAddr);
    await pod.memory.waitFor((line) => line.event === "readiness" && line.ready === true);
  });
  afterAll(async () => {
    clients?.close();
    await pod?.stop();
  });

  it("handshakes with the sidecar over its private unix socket (mode 0600)", async () => {
    expect(pod.sidecarAddr).toBe(`unix:${pod.dataDir}/sidecar.sock`);
    expect(statSync(`${pod.dataDir}/sidecar.sock`).mode & 0o777).toBe(0o600);
    const connected = await pod.memory.waitForEvent("sidecar.connected");
    expect(connected.target).toBe(pod.sidecarAddr);
    const statusResponse = await call(clients.admin.getStatus.bind(clients.admin), {});
    expect(statusResponse.sidecarConnected).toBe(true);
    expect(statusResponse.ready).toBe(true);
    expect(statusResponse.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("answers /health and /ready over HTTP", async () => {
    const health = await fetch(`${pod.httpUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "alive" });
    const ready = await fetch(`${pod.httpUrl}/ready`);
    expect(ready.status).toBe(200);
    expect((await fetch(`${pod.httpUrl}/nope`)).status).toBe(404);
  });

  it("reports SERVING on grpc.health.v1 for the server and each public service", async () => {
    expect(await checkHealth(clients.health)).toBe("SERVING");
    expect(await checkHealth(clients.health, "t4dm.memory.v1.MemoryService")).toBe("SERVING");
    expect(await checkHealth(clients.health, "t4dm.admin.v1.AdminService")).toBe("SERVING");
  });

  it("lets grpcurl list and describe the services through reflection", async () => {
    const listed = await grpcurl(["-plaintext", pod.grpcAddr, "list"]);
    expect(listed.stderr).toBe("");
    expect(listed.stdout.trim().split("\n").sort()).toEqual([
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "t4dm.admin.v1.AdminService",
      "t4dm.memory.v1.KnowledgeService",
      "t4dm.memory.v1.MemoryService",
    ]);
    const described = await grpcurl(["-plaintext", pod.grpcAddr, "describe", "t4dm.memory.v1.MemoryService.Remember"]);
    expect(described.stdout).toContain("rpc Remember ( .t4dm.memory.v1.RememberRequest ) returns ( .t4dm.memory.v1.RememberResponse )");
    const statusCall = await grpcurl(["-plaintext", "-d", "{}", pod.grpcAddr, "t4dm.admin.v1.AdminService/GetStatus"]);
    expect(statusCall.code).toBe(0);
    expect(JSON.parse(statusCall.stdout)).toMatchObject({ ready: true, sidecarConnected: true });
    const checkpoint = await grpcurl(["-plaintext", "-d", "{}", pod.grpcAddr, "t4dm.admin.v1.AdminService/Checkpoint"]);
    expect(checkpoint.code).toBe(0);
    expect(JSON.parse(checkpoint.stdout).fileName).toMatch(/^checkpoint_\d{16}\.bin\.gz$/);
    const refused = await grpcurl(["-plaintext", "-d", "{}", pod.grpcAddr, "t4dm.admin.v1.AdminService/Reset"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/InvalidArgument[\s\S]*confirm/);
    const reset = await grpcurl(["-plaintext", "-d", '{"confirm": true}', pod.grpcAddr, "t4dm.admin.v1.AdminService/Reset"]);
    expect(reset.code).toBe(0);
  });
});

describe("readiness follows the sidecar", () => {
  it("is not ready without a sidecar, and becomes ready when one appears", async () => {
    const data = makeDataDir();
    const env = { T4DM_DATA_DIR: data.dir, T4DM_GRPC_ADDR: "127.0.0.1:0", T4DM_HTTP_ADDR: "127.0.0.1:0" };
    const memory = ServiceProcess.start("memory", env);
    let sidecar: ServiceProcess | undefined;
    try {
      const [grpcLine, httpLine] = await Promise.all([memory.waitForEvent("grpc.listening"), memory.waitForEvent("http.listening")]);
      await memory.waitForEvent("sidecar.retry");
      const ready = await fetch(`http://${String(httpLine.addr)}/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: "not ready", waitingFor: ["sidecar", "recovered", "wal"] });
      const clients = connectClients(String(grpcLine.addr));
      expect(await checkHealth(clients.health)).toBe("NOT_SERVING");

      sidecar = ServiceProcess.start("persistence", env);
      await memory.waitForEvent("sidecar.connected");
      await memory.waitFor((line) => line.event === "readiness" && line.ready === true);
      expect((await fetch(`http://${String(httpLine.addr)}/ready`)).status).toBe(200);
      expect(await checkHealth(clients.health)).toBe("SERVING");

      await sidecar.kill("SIGKILL");
      await memory.waitForEvent("sidecar.disconnected");
      expect((await fetch(`http://${String(httpLine.addr)}/ready`)).status).toBe(503);
      clients.close();
    } finally {
      await memory.kill();
      await sidecar?.kill();
      data.remove();
    }
  });
});

describe("bad settings stop start-up with a message naming the variable", () => {
  for (const service of ["memory", "persistence"] as const) {
    it(`${service}: exits 2 and names T4DM_WAL_SYNC_MODE and T4DM_CHECKPOINT_INTERVAL`, async () => {
      const data = makeDataDir();
      const proc = ServiceProcess.start(service, {
        T4DM_DATA_DIR: data.dir,
        T4DM_WAL_SYNC_MODE: "sometimes",
        T4DM_CHECKPOINT_INTERVAL: "-5",
      });
      const exit = await proc.exited;
      data.remove();
      expect(exit.code).toBe(2);
      expect(proc.stderr).toContain("invalid configuration");
      expect(proc.stderr).toContain('T4DM_WAL_SYNC_MODE: expected one of fsync, fdatasync, none, got "sometimes"');
      expect(proc.stderr).toContain("T4DM_CHECKPOINT_INTERVAL");
    });
  }
});
