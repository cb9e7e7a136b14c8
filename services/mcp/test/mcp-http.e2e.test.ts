import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeDataDir, startPod, type Pod } from "@t4dm/testkit";
import { callTool, connectHttp, HttpMcpProcess, KEYS, textOf, writeKeysFile } from "./support/mcp-processes.js";

const INITIALIZE = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "curl", version: "0" } },
};

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", ...headers },
    body: JSON.stringify(body),
  });
}

describe("MCP over Streamable HTTP (the SDK's client): each request runs with its own bearer key", () => {
  let pod: Pod;
  let mcp: HttpMcpProcess;
  let url: string;
  const clients: Client[] = [];
  const keyDir = makeDataDir("t4dm-mcp-keys-");

  beforeAll(async () => {
    const keysFile = writeKeysFile(keyDir.dir);
    pod = await startPod({ env: { T4DM_API_KEYS_FILE: keysFile, T4DM_EMBEDDING_DIM: "32" } });
    // The same keys variable as the memory service: HTTP callers must bring a key.
    mcp = HttpMcpProcess.start({ T4DM_MCP_MEMORY_ADDR: pod.grpcAddr, T4DM_API_KEYS_FILE: keysFile });
    url = await mcp.url;
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await mcp?.stop();
    await pod?.stop();
    keyDir.remove();
  });
  const connect = async (key: string | undefined) => {
    const client = await connectHttp(url, key);
    clients.push(client);
    return client;
  };

  it("refuses a request without a bearer key with 401 before any MCP handling", async () => {
    const response = await post(url, INITIALIZE);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await response.json()).toMatchObject({ error: { message: expect.stringContaining("Authorization: Bearer") } });
    const malformed = await post(url, INITIALIZE, { Authorization: "Basic YWxpY2U6eA==" });
    expect(malformed.status).toBe(401);
  });

  it("serves a remember → recall → reinforce → forget round trip with the caller's key", async () => {
    const alice = await connect(KEYS.alice);
    expect((await alice.listTools()).tools).toHaveLength(8);
    const remembered = await callTool(alice, "remember", { namespace: "alice", content: "The on-call rotation changes every Tuesday morning" });
    expect(remembered.isError, textOf(remembered)).toBeFalsy();
    const id = (remembered.structuredContent as { memory_id: string }).memory_id;
    const recalled = await callTool(alice, "recall", { namespace: "alice", query: "when does the on-call rotation change" });
    const recall = recalled.structuredContent as { recall_id: string; memories: { id: string }[] };
    expect(recall.memories[0]!.id).toBe(id);
    const reinforced = await callTool(alice, "reinforce", { namespace: "alice", recall_id: recall.recall_id, reward: 0.5, memory_rewards: { [id]: 1 } });
    expect(reinforced.isError, textOf(reinforced)).toBeFalsy();
    const forgotten = await callTool(alice, "forget", { namespace: "alice", ids: [id] });
    expect(forgotten.structuredContent).toMatchObject({ forgotten_count: 1 });
  });

  it("binds each caller to its key's namespaces: bob can neither read nor write alice's memories", async () => {
    const alice = await connect(KEYS.alice);
    const bob = await connect(KEYS.bob);
    const secret = await callTool(alice, "remember", { namespace: "alice", content: "alice's private plan for the quarter" });
    const id = (secret.structuredContent as { memory_id: string }).memory_id;
    for (const [tool, args] of [
      ["get_memory", { namespace: "alice", id }],
      ["recall", { namespace: "alice", query: "private plan" }],
      ["forget", { namespace: "alice", ids: [id] }],
      ["remember", { namespace: "alice", content: "bob was here" }],
    ] as const) {
      const refused = await callTool(bob, tool, args);
      expect(refused.isError, tool).toBe(true);
      expect(textOf(refused), tool).toContain("PERMISSION_DENIED (NAMESPACE_DENIED)");
      expect(textOf(refused), tool).not.toContain("private plan");
    }
    // Bob's own namespace holds nothing of alice's, and alice's memory is untouched.
    const own = await callTool(bob, "list_memories", { namespace: "bob" });
    expect((own.structuredContent as { memories: unknown[] }).memories).toEqual([]);
    const still = await callTool(alice, "get_memory", { namespace: "alice", id });
    expect(still.structuredContent).toMatchObject({ memory: { id, content: "alice's private plan for the quarter" } });
  });

  it("passes an unknown key to the memory service, which refuses it (UNAUTHENTICATED)", async () => {
    const stranger = await connect("not-a-key");
    const refused = await callTool(stranger, "list_memories", { namespace: "alice" });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain("UNAUTHENTICATED (API_KEY_REQUIRED)");
  });

  it("answers a malformed tool call with a tool error and keeps serving", async () => {
    const alice = await connect(KEYS.alice);
    const bad = await callTool(alice, "forget", { namespace: "alice", ids: [] });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/Input validation error.*ids/s);
    const notJson = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", Authorization: `Bearer ${KEYS.alice}` }, body: "{not json" });
    expect(notJson.status).toBe(400);
    const get = await fetch(url, { headers: { Authorization: `Bearer ${KEYS.alice}` } });
    expect(get.status).toBe(405);
    const ok = await callTool(alice, "list_memories", { namespace: "alice" });
    expect(ok.isError, textOf(ok)).toBeFalsy();
    expect(mcp.child.exitCode).toBeNull();
  });
});

describe("an MCP listener off loopback checks that the memory service behind it enforces keys", () => {
  it("refuses to start (exit 2) in front of a memory service without keys, and starts in front of one with keys", async () => {
    const keyDir = makeDataDir("t4dm-mcp-keys-");
    const keysFile = writeKeysFile(keyDir.dir);
    const open = await startPod({ env: { T4DM_EMBEDDING_DIM: "32" } });
    const closed = await startPod({ env: { T4DM_API_KEYS_FILE: keysFile, T4DM_EMBEDDING_DIM: "32" } });
    const mcps: HttpMcpProcess[] = [];
    try {
      // The MCP server's own environment claims keys; only the memory service's answer counts.
      const refused = HttpMcpProcess.start({ T4DM_MCP_MEMORY_ADDR: open.grpcAddr, T4DM_API_KEYS_FILE: keysFile, T4DM_MCP_HTTP_ADDR: "0.0.0.0:0" });
      mcps.push(refused);
      await expect(refused.url).rejects.toThrow(/exited \(code 2\) before listening/);
      expect(await refused.exited).toBe(2);
      expect(refused.stderr).toMatch(/runs without keys \(development mode\)/);
      const started = HttpMcpProcess.start({ T4DM_MCP_MEMORY_ADDR: closed.grpcAddr, T4DM_API_KEYS_FILE: keysFile, T4DM_MCP_HTTP_ADDR: "0.0.0.0:0" });
      mcps.push(started);
      expect(await started.url).toMatch(/^http:/);
    } finally {
      // Also when an expectation failed: a server that should have refused may be listening.
      await Promise.all([...mcps.map((mcp) => mcp.stop()), open.stop(), closed.stop()]);
      keyDir.remove();
    }
  });
});
