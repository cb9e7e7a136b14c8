import { status as grpcStatus, type ServiceError } from "@grpc/grpc-js";
import neo4j from "neo4j-driver";
import { afterAll, describe, expect, inject, it } from "vitest";
import { adminV1, memoryV1 } from "@t4dm/proto";
import { decodeStatusDetails } from "@t4dm/rpc";
import { call, callError, connectClients, makeDataDir, Neo4jServer, ServiceProcess } from "@t4dm/testkit";

const SEMANTIC = memoryV1.MemoryType.MEMORY_TYPE_SEMANTIC;

/** Memory nodes per id in a namespace, read straight from Neo4j. */
async function nodeCounts(connection: { uri: string; user: string; password: string }, namespace: string): Promise<Map<string, number>> {
  const driver = neo4j.driver(connection.uri, neo4j.auth.basic(connection.user, connection.password));
  try {
    const result = await driver.executeQuery("MATCH (m:Memory {namespace: $namespace}) RETURN m.id AS id, count(*) AS n", { namespace });
    return new Map(result.records.map((r) => [r.get("id") as string, Number(r.get("n"))]));
  } finally {
    await driver.close();
  }
}

async function startPod(env: Record<string, string>) {
  const sidecar = ServiceProcess.start("persistence", env);
  await sidecar.waitForEvent("grpc.listening");
  const memory = ServiceProcess.start("memory", env);
  const grpcAddr = String((await memory.waitForEvent("grpc.listening")).addr);
  await memory.waitFor((l) => l.event === "readiness" && l.ready === true);
  return { sidecar, memory, grpcAddr };
}

async function statuses(c: ReturnType<typeof connectClients>, namespace: string, ids: string[]) {
  return Promise.all(ids.map((id) => call(c.memory.getMemory.bind(c.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace, id })).then((r) => r.memory!.status)));
}

describe("promotion to a real Neo4j", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("a crash during promotion leaves every promoted memory in the graph exactly once", async () => {
    const connection = inject("neo4j");
    const data = makeDataDir();
    const namespace = `crash-${Date.now()}`;
    const env = {
      T4DM_DATA_DIR: data.dir,
      T4DM_GRPC_ADDR: "127.0.0.1:0",
      T4DM_HTTP_ADDR: "127.0.0.1:0",
      T4DM_EMBEDDING_DIM: "32",
      T4DM_RATE_LIMIT: "0",
      T4DM_BUFFER_CAPACITY: "3",
      T4DM_NEO4J_URI: connection.uri,
      T4DM_NEO4J_USER: connection.user,
      T4DM_NEO4J_PASSWORD: connection.password,
    };
    let pod = await startPod(env);
    cleanups.push(async () => {
      await pod.memory.kill();
      await pod.sidecar.kill();
      data.remove();
    });
    const ids: string[] = [];
    for (let round = 0; round < 3; round++) {
      const c = connectClients(pod.grpcAddr);
      for (let i = 0; i < 8; i++) {
        const r = await call(c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace, content: `fact ${round}-${i} about graphs`, type: SEMANTIC, importance: 0.9, admission: 2 }));
        ids.push(r.memory!.id);
      }
      c.close();
      // Killed with promotions in flight (or just done): replay must upsert again, idempotently.
      await pod.memory.kill("SIGKILL");
      const memory = ServiceProcess.start("memory", env);
      const grpcAddr = String((await memory.waitForEvent("grpc.listening")).addr);
      await memory.waitFor((l) => l.event === "readiness" && l.ready === true);
      pod = { ...pod, memory, grpcAddr };
    }
    const c = connectClients(pod.grpcAddr);
    let current = await statuses(c, namespace, ids);
    while (current.includes(memoryV1.MemoryStatus.MEMORY_STATUS_PENDING_PROMOTION)) current = await statuses(c, namespace, ids);
    const stored = ids.filter((_, i) => current[i] === memoryV1.MemoryStatus.MEMORY_STATUS_STORED);
    expect(stored.length).toBeGreaterThanOrEqual(15);
    const counts = await nodeCounts(connection, namespace);
    for (const id of stored) expect(counts.get(id), id).toBe(1);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    c.close();
  });

  it("promotions wait while Neo4j is down, /ready says so, reads of the graph answer UNAVAILABLE, and all completes once it is back, nothing lost or doubled", async () => {
    const server = await Neo4jServer.start();
    const data = makeDataDir();
    const namespace = `outage-${Date.now()}`;
    const env = {
      T4DM_DATA_DIR: data.dir,
      T4DM_GRPC_ADDR: "127.0.0.1:0",
      T4DM_HTTP_ADDR: "127.0.0.1:0",
      T4DM_EMBEDDING_DIM: "32",
      T4DM_RATE_LIMIT: "0",
      T4DM_BUFFER_CAPACITY: "2",
      T4DM_NEO4J_URI: server.uri,
      T4DM_NEO4J_USER: server.connection.user,
      T4DM_NEO4J_PASSWORD: server.connection.password,
    };
    const pod = await startPod(env);
    cleanups.push(async () => {
      await pod.memory.kill();
      await pod.sidecar.kill();
      await server.dispose();
      data.remove();
    });
    const httpAddr = String((await pod.memory.waitForEvent("http.listening")).addr);
    const c = connectClients(pod.grpcAddr);
    await server.stop();
    // A read that needs the graph store is a retryable outage for the caller (UNAVAILABLE, the backend named), not UNKNOWN.
    // The service answers once the driver's own retries give up (up to 15 s, plus a connect timeout per
    // attempt when the stopped server's port does not refuse at once): wait longer than testkit's 30 s.
    const outage = await call(c.knowledge.queryFacts.bind(c.knowledge), memoryV1.QueryFactsRequest.fromPartial({ namespace }), undefined, { deadline: Date.now() + 90_000 }).then(
      () => expect.fail("QueryFacts answered while Neo4j was stopped"),
      (error: unknown) => error as ServiceError,
    );
    expect(outage.code).toBe(grpcStatus.UNAVAILABLE);
    const details = decodeStatusDetails(outage);
    expect(details.errorInfo?.reason).toBe("STORE_UNAVAILABLE");
    expect(details.errorInfo?.metadata).toMatchObject({ backend: "neo4j" });
    expect(pod.memory.lines.some((l) => l.event === "store.unavailable" && l.backend === "neo4j")).toBe(true);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await call(c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace, content: `outage fact ${i}`, type: SEMANTIC, importance: 0.9, admission: 2 }));
      ids.push(r.memory!.id);
    }
    expect((await statuses(c, namespace, ids)).filter((s) => s === memoryV1.MemoryStatus.MEMORY_STATUS_PENDING_PROMOTION).length).toBeGreaterThan(0);
    await pod.memory.waitFor((l) => l.event === "readiness" && l.ready === false && (l.unmet as string[]).includes("storage"));
    const ready = await fetch(`http://${httpAddr}/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { waitingFor: string[] }).waitingFor).toContain("storage");

    await server.restart();
    let current = await statuses(c, namespace, ids);
    while (current.includes(memoryV1.MemoryStatus.MEMORY_STATUS_PENDING_PROMOTION)) current = await statuses(c, namespace, ids);
    const stored = ids.filter((_, i) => current[i] === memoryV1.MemoryStatus.MEMORY_STATUS_STORED);
    expect(stored.length).toBeGreaterThanOrEqual(4);
    const counts = await nodeCounts(server.connection, namespace);
    for (const id of stored) expect(counts.get(id), id).toBe(1);
    const status = await call(c.admin.getStatus.bind(c.admin), adminV1.GetStatusRequest.fromPartial({}));
    expect(status.storage.find((s) => s.store === "graph")?.backend).toBe("neo4j");
    c.close();
  }, 180_000);
});
