import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { persistenceV1 } from "@t4dm/proto";
import { call, connectSidecar, makeDataDir, ServiceProcess, startPod } from "@t4dm/testkit";

/**
 * A configured production backend that is not there at start-up: the memory
 * service must refuse to start at once (exit 3), name the store, the address
 * and the cause, and leave the sidecar and its WAL alone, so the same data
 * directory starts cleanly once the configuration is fixed. The backends are
 * the real clients (neo4j-driver, @qdrant/js-client-rest) dialling a loopback
 * port nothing listens on.
 */

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A loopback port that was free a moment ago and has nothing listening on it. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

const cases = [
  { store: "graph (neo4j)", env: (port: number) => ({ T4DM_NEO4J_URI: `bolt://127.0.0.1:${port}` }) },
  { store: "episodic (qdrant)", env: (port: number) => ({ T4DM_QDRANT_URL: `http://127.0.0.1:${port}` }) },
];

describe("a configured backend that cannot be reached at start-up", () => {
  for (const { store, env } of cases) {
    it(`${store}: exits 3 naming the store, address and cause; the data dir starts once the config is fixed`, async () => {
      const data = makeDataDir();
      cleanups.push(() => data.remove());
      const port = await closedPort();
      const base = { T4DM_DATA_DIR: data.dir, T4DM_GRPC_ADDR: "127.0.0.1:0", T4DM_HTTP_ADDR: "127.0.0.1:0", T4DM_EMBEDDING_DIM: "32" };
      const sidecar = ServiceProcess.start("persistence", base);
      cleanups.push(() => sidecar.kill("SIGKILL"));
      const listening = await sidecar.waitForEvent("grpc.listening");
      await sidecar.waitForEvent("sidecar.ready");

      const memory = ServiceProcess.start("memory", { ...base, ...env(port) });
      cleanups.push(() => memory.kill("SIGKILL"));
      const exit = await memory.exited;
      expect(exit.code).toBe(3);
      expect(memory.stderr).toContain(`${store} store failed to start`);
      expect(memory.stderr).toContain(`127.0.0.1:${port}`);
      expect(memory.stderr).toMatch(/ECONNREFUSED|unreachable|unavailable/i);
      expect(memory.lines.some((line) => line.event === "startup.fatal")).toBe(true);
      // The sidecar is still up, and nothing was logged to the WAL on the failed start's behalf.
      const client = connectSidecar(String(listening.addr));
      const status = await call(client.getStatus.bind(client), persistenceV1.GetStatusRequest.fromPartial({}));
      client.close();
      expect(status.durableLsn).toBe(0);
      await sidecar.kill("SIGTERM");

      // Fixed configuration (the embedded stores), same data directory: starts and serves.
      const pod = await startPod({ dataDir: data.dir, env: { T4DM_EMBEDDING_DIM: "32" } });
      cleanups.push(() => pod.stop());
      expect(pod.memory.lines.some((line) => line.event === "stores.ready")).toBe(true);
    });
  }
});

describe("an embedded store written by a newer build", () => {
  it("exits 3 naming the file and both schema versions, and logs nothing to the WAL", async () => {
    const data = makeDataDir();
    cleanups.push(() => data.remove());
    // The episodic store's file as a later schema would leave it: this build must not read or change it.
    const storeDir = path.join(data.dir, "store");
    mkdirSync(storeDir, { recursive: true });
    const file = path.join(storeDir, "episodic.sqlite");
    const db = new Database(file);
    db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', '999')").run();
    db.close();

    const base = { T4DM_DATA_DIR: data.dir, T4DM_GRPC_ADDR: "127.0.0.1:0", T4DM_HTTP_ADDR: "127.0.0.1:0", T4DM_EMBEDDING_DIM: "32" };
    const sidecar = ServiceProcess.start("persistence", base);
    cleanups.push(() => sidecar.kill("SIGKILL"));
    const listening = await sidecar.waitForEvent("grpc.listening");
    await sidecar.waitForEvent("sidecar.ready");
    const memory = ServiceProcess.start("memory", base);
    cleanups.push(() => memory.kill("SIGKILL"));
    const exit = await memory.exited;
    expect(exit.code).toBe(3);
    expect(memory.stderr).toContain(`episodic (embedded) store failed to start: ${file} has schema version 999; this build reads version `);
    expect(memory.lines.some((line) => line.event === "startup.fatal")).toBe(true);
    const client = connectSidecar(String(listening.addr));
    const status = await call(client.getStatus.bind(client), persistenceV1.GetStatusRequest.fromPartial({}));
    client.close();
    expect(status.durableLsn).toBe(0);
    // The file is as it was.
    const after = new Database(file, { readonly: true });
    expect(after.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).toEqual({ value: "999" });
    after.close();
  });
});
