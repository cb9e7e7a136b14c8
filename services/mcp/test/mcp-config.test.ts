import { describe, expect, it } from "vitest";
import { ConfigError } from "@t4dm/config";
import { loadMcpConfig } from "../src/mcp-config.js";

const problems = (env: Record<string, string>) => {
  try {
    loadMcpConfig(env, "/work");
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.variable);
    throw error;
  }
  return [];
};

describe("MCP server configuration", () => {
  it("defaults to stdio against the local memory service, HTTP on loopback", () => {
    const config = loadMcpConfig({}, "/work");
    expect(config.transport).toBe("stdio");
    expect(config.memoryAddr.grpcTarget).toBe("127.0.0.1:50051");
    expect(config.httpAddr.raw).toBe("127.0.0.1:8090");
    expect(config.keysConfigured).toBe(false);
  });

  it("refuses a non-loopback HTTP address without API keys, like the memory service", () => {
    expect(problems({ T4DM_MCP_TRANSPORT: "http", T4DM_MCP_HTTP_ADDR: "0.0.0.0:8090" })).toEqual(["T4DM_MCP_HTTP_ADDR"]);
    expect(problems({ T4DM_MCP_TRANSPORT: "http", T4DM_MCP_HTTP_ADDR: "0.0.0.0:8090", T4DM_API_KEYS_FILE: "keys.json" })).toEqual([]);
    expect(problems({ T4DM_MCP_TRANSPORT: "http", T4DM_MCP_HTTP_ADDR: "0.0.0.0:8090", T4DM_ALLOW_INSECURE: "1" })).toEqual([]);
    expect(problems({ T4DM_MCP_TRANSPORT: "http", T4DM_MCP_HTTP_ADDR: "localhost:8090" })).toEqual([]);
    // stdio listens nowhere.
    expect(problems({ T4DM_MCP_HTTP_ADDR: "0.0.0.0:8090" })).toEqual([]);
  });

  it("names every bad variable", () => {
    expect(problems({ T4DM_MCP_TRANSPORT: "sse", T4DM_MCP_MEMORY_ADDR: "nowhere", T4DM_MCP_CALL_TIMEOUT_MS: "5", T4DM_MCP_TLS_CERT_FILE: "c.pem" }).sort()).toEqual([
      "T4DM_MCP_CALL_TIMEOUT_MS",
      "T4DM_MCP_MEMORY_ADDR",
      "T4DM_MCP_TLS_CA_FILE",
      "T4DM_MCP_TLS_KEY_FILE",
      "T4DM_MCP_TRANSPORT",
    ]);
  });

  it("takes the stdio key from T4DM_API_KEY and TLS files relative to the working directory", () => {
    const config = loadMcpConfig({ T4DM_API_KEY: "k", T4DM_MCP_TLS_CA_FILE: "certs/ca.pem" }, "/work");
    expect(config.stdioApiKey).toBe("k");
    expect(config.memoryTls).toEqual({ caFile: "/work/certs/ca.pem", certFile: undefined, keyFile: undefined });
  });
});
