import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeDataDir, REPO_ROOT, startPod, type Pod } from "@t4dm/testkit";
import { HttpMcpProcess, KEYS, writeKeysFile } from "./support/mcp-processes.js";

// The pinned Python `mcp` package in a venv that `make test` builds first (services/mcp/build-python-client.sh).
const PYTHON = path.join(REPO_ROOT, "build/mcp-python/venv/bin/python");
const SCRIPT = path.join(REPO_ROOT, "services/mcp/test/python/mcp_client_check.py");

interface PythonRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runPython(url: string): Promise<PythonRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, url], {
      env: { PATH: process.env.PATH ?? "", T4DM_TEST_KEY: KEYS.alice, T4DM_TEST_OTHER_KEY: KEYS.bob },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 45_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("MCP over Streamable HTTP with the Python mcp package's client", () => {
  let pod: Pod;
  let mcp: HttpMcpProcess;
  const keyDir = makeDataDir("t4dm-mcp-keys-");

  beforeAll(async () => {
    const keysFile = writeKeysFile(keyDir.dir);
    pod = await startPod({ env: { T4DM_API_KEYS_FILE: keysFile, T4DM_EMBEDDING_DIM: "32" } });
    mcp = HttpMcpProcess.start({ T4DM_MCP_MEMORY_ADDR: pod.grpcAddr, T4DM_API_KEYS_FILE: keysFile });
  });
  afterAll(async () => {
    await mcp?.stop();
    await pod?.stop();
    keyDir.remove();
  });

  it("lists the tools, runs remember → recall → reinforce → forget, and gets tool errors for a foreign namespace and a malformed call", async () => {
    const run = await runPython(await mcp.url);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as {
      tools: string[];
      remembered_id: string;
      recalled_ids: string[];
      reinforce_error: boolean;
      credited: number;
      malformed: { isError: boolean; text: string };
      forgotten: number;
      after_malformed_ok: boolean;
      cross_namespace: { isError: boolean; text: string };
    };
    expect(out.tools).toEqual(["consolidate", "forget", "get_memory", "list_memories", "memory_context", "recall", "reinforce", "remember"]);
    expect(out.recalled_ids[0]).toBe(out.remembered_id);
    expect(out.reinforce_error).toBe(false);
    expect(out.credited).toBeGreaterThan(0);
    expect(out.malformed.isError).toBe(true);
    expect(out.malformed.text).toMatch(/Input validation error.*content/s);
    expect(out.forgotten).toBe(1);
    expect(out.after_malformed_ok).toBe(true);
    expect(out.cross_namespace.isError).toBe(true);
    expect(out.cross_namespace.text).toContain("PERMISSION_DENIED (NAMESPACE_DENIED)");
  });
});
