import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_EMBEDDING_MODEL_DIR, loadConfig } from "../src/index.js";

describe("loadConfig", () => {
  it("gives the documented defaults", () => {
    const config = loadConfig({}, "/srv/t4dm");
    expect(config.dataDir).toBe("/srv/t4dm/data");
    expect(config.grpcAddr.grpcTarget).toBe("127.0.0.1:50051");
    expect(config.httpAddr.port).toBe(8080);
    expect(config.sidecarAddr).toMatchObject({ kind: "unix", path: "/srv/t4dm/data/sidecar.sock" });
    expect(config.walSyncMode).toBe("fsync");
    expect(config.logLevel).toBe("info");
    expect(config.checkpointIntervalSeconds).toBe(300);
    expect(config.walSegmentBytes).toBe(64 * 1024 * 1024);
    expect(config.walMaxSegments).toBe(100);
    expect(config.checkpointKeep).toBe(5);
  });

  it("picks the local sentence model by default, and http when only an endpoint is set", () => {
    const config = loadConfig({}, "/srv/t4dm");
    expect(config.embedder).toBe("minilm");
    expect(config.embeddingModelDir).toBe(DEFAULT_EMBEDDING_MODEL_DIR);
    expect(config.embeddingModelDir.endsWith(path.join(".cache", "models", "all-MiniLM-L6-v2"))).toBe(true);
    expect(config.embeddingWorkers).toBe(1);
    expect(loadConfig({ T4DM_EMBEDDING_URL: "http://127.0.0.1:11434" }, "/").embedder).toBe("http");
    expect(loadConfig({ T4DM_EMBEDDER: "Hashing" }, "/").embedder).toBe("hashing");
    expect(loadConfig({ T4DM_EMBEDDING_MODEL_DIR: "models/mine" }, "/srv").embeddingModelDir).toBe("/srv/models/mine");
  });

  it("refuses an embedder that contradicts the endpoint setting", () => {
    expect(() => loadConfig({ T4DM_EMBEDDER: "http" }, "/")).toThrow(/T4DM_EMBEDDING_URL: is required with T4DM_EMBEDDER=http/);
    expect(() => loadConfig({ T4DM_EMBEDDER: "hashing", T4DM_EMBEDDING_URL: "http://x" }, "/")).toThrow(/T4DM_EMBEDDER: is hashing, but T4DM_EMBEDDING_URL is set/);
    expect(() => loadConfig({ T4DM_EMBEDDER: "bert" }, "/")).toThrow(/T4DM_EMBEDDER: expected one of minilm, hashing, http/);
  });

  it("reads every variable", () => {
    const config = loadConfig(
      {
        T4DM_DATA_DIR: "/var/lib/t4dm",
        T4DM_GRPC_ADDR: "[::1]:7000",
        T4DM_HTTP_ADDR: "0.0.0.0:0",
        T4DM_SIDECAR_ADDR: "127.0.0.1:7001",
        T4DM_SIDECAR_TOKEN: "s3cret",
        T4DM_LOG_LEVEL: "DEBUG",
        T4DM_WAL_SYNC_MODE: "fdatasync",
        T4DM_CHECKPOINT_INTERVAL: "60",
      },
      "/",
    );
    expect(config.grpcAddr).toMatchObject({ host: "::1", port: 7000, grpcTarget: "[::1]:7000" });
    expect(config.httpAddr.port).toBe(0);
    expect(config.sidecarAddr).toMatchObject({ kind: "tcp", host: "127.0.0.1", port: 7001 });
    expect(config.logLevel).toBe("debug");
    expect(config.walSyncMode).toBe("fdatasync");
    expect(config.checkpointIntervalSeconds).toBe(60);
    expect(config.sidecarAddr.grpcTarget).toBe("127.0.0.1:7001");
    expect(path.isAbsolute(config.dataDir)).toBe(true);
  });

  it("names every bad variable at once", () => {
    let error: unknown;
    try {
      loadConfig({ T4DM_WAL_SYNC_MODE: "sometimes", T4DM_CHECKPOINT_INTERVAL: "0", T4DM_GRPC_ADDR: "localhost" }, "/");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).problems.map((p) => p.variable).sort();
    expect(variables).toEqual(["T4DM_CHECKPOINT_INTERVAL", "T4DM_GRPC_ADDR", "T4DM_WAL_SYNC_MODE"]);
    expect((error as Error).message).toContain("T4DM_WAL_SYNC_MODE: expected one of fsync, fdatasync, none");
  });

  it("needs a shared token for a TCP sidecar, and TLS key and cert together", () => {
    expect(() => loadConfig({ T4DM_SIDECAR_ADDR: "127.0.0.1:7001" }, "/")).toThrow(/T4DM_SIDECAR_TOKEN: is required/);
    expect(() => loadConfig({ T4DM_TLS_CERT_FILE: "/x.pem" }, "/")).toThrow(/T4DM_TLS_KEY_FILE: is required/);
    expect(() => loadConfig({ T4DM_EMBEDDING_URL: "ftp://x" }, "/")).toThrow(/T4DM_EMBEDDING_URL: expected an http or https URL/);
  });

  it("refuses a sidecar address that is not private", () => {
    expect(() => loadConfig({ T4DM_SIDECAR_ADDR: "0.0.0.0:7001" }, "/")).toThrow(/T4DM_SIDECAR_ADDR: the sidecar must never listen on a public address/);
  });

  it("refuses a unix socket path longer than the kernel allows", () => {
    expect(() => loadConfig({ T4DM_SIDECAR_ADDR: `unix:/${"x".repeat(120)}` }, "/")).toThrow(/T4DM_SIDECAR_ADDR: unix socket path is longer/);
  });

  it("learns per namespace unless the operator shares learning, with a bound on adapted namespaces", () => {
    expect(loadConfig({}, "/")).toMatchObject({ learningScope: "namespace", learningMaxNamespaces: 10_000 });
    expect(loadConfig({ T4DM_LEARNING_SCOPE: "shared", T4DM_LEARNING_MAX_NAMESPACES: "50" }, "/")).toMatchObject({ learningScope: "shared", learningMaxNamespaces: 50 });
    expect(() => loadConfig({ T4DM_LEARNING_SCOPE: "global" }, "/")).toThrow(/T4DM_LEARNING_SCOPE: expected one of namespace, shared/);
    expect(() => loadConfig({ T4DM_LEARNING_MAX_NAMESPACES: "0" }, "/")).toThrow(/T4DM_LEARNING_MAX_NAMESPACES/);
  });

  it("refuses out-of-range numbers and non-numbers", () => {
    expect(() => loadConfig({ T4DM_GRPC_ADDR: "127.0.0.1:70000" }, "/")).toThrow(/T4DM_GRPC_ADDR/);
    expect(() => loadConfig({ T4DM_CHECKPOINT_INTERVAL: "5m" }, "/")).toThrow(/T4DM_CHECKPOINT_INTERVAL: expected an integer/);
  });

  it("bounds the final checkpoint of a graceful shutdown: 60 s by default, at least 1 s", () => {
    expect(loadConfig({}, "/").shutdownCheckpointSeconds).toBe(60);
    expect(loadConfig({ T4DM_SHUTDOWN_CHECKPOINT_TIMEOUT: "5" }, "/").shutdownCheckpointSeconds).toBe(5);
    expect(() => loadConfig({ T4DM_SHUTDOWN_CHECKPOINT_TIMEOUT: "0" }, "/")).toThrow(/T4DM_SHUTDOWN_CHECKPOINT_TIMEOUT/);
  });
});
