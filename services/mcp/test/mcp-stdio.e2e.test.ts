import { Metadata } from "@grpc/grpc-js";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryV1 } from "@t4dm/proto";
import { call, connectClients, makeDataDir, startPod, type Pod } from "@t4dm/testkit";
import { callTool, connectStdio, KEYS, textOf, writeKeysFile } from "./support/mcp-processes.js";

const TOOLS = ["consolidate", "forget", "get_memory", "list_memories", "memory_context", "recall", "reinforce", "remember"];

/** The memory service's own view of a namespace, read over gRPC with that namespace's key. */
async function listOverGrpc(pod: Pod, key: string, namespace: string): Promise<memoryV1.Memory[]> {
  const clients = connectClients(pod.grpcAddr);
  const metadata = new Metadata();
  metadata.set("authorization", `Bearer ${key}`);
  try {
    const response = await call(clients.memory.listMemories.bind(clients.memory), memoryV1.ListMemoriesRequest.fromPartial({ namespace }), metadata);
    return response.memories;
  } finally {
    clients.close();
  }
}

describe("MCP over stdio (the SDK's client) through a real memory service with API keys", () => {
  let pod: Pod;
  let client: Client;
  let stderr: () => string;
  const keyDir = makeDataDir("t4dm-mcp-keys-");

  beforeAll(async () => {
    pod = await startPod({ env: { T4DM_API_KEYS_FILE: writeKeysFile(keyDir.dir), T4DM_EMBEDDING_DIM: "32", T4DM_MAX_CONTENT_BYTES: "1024" } });
    // The launching agent's key, as a desktop agent's MCP config would set it.
    ({ client, stderr } = await connectStdio({ T4DM_MCP_MEMORY_ADDR: pod.grpcAddr, T4DM_API_KEY: KEYS.alice }));
  });
  afterAll(async () => {
    await client?.close();
    await pod?.stop();
    keyDir.remove();
  });

  it("lists the eight tools, each with a description, an input and output schema and its annotations", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
    for (const tool of tools) {
      expect(tool.description?.length, tool.name).toBeGreaterThan(40);
      expect(tool.inputSchema.required, tool.name).toContain("namespace");
      expect(tool.outputSchema?.type, tool.name).toBe("object");
      expect(tool.annotations?.readOnlyHint, tool.name).toBeTypeOf("boolean");
    }
    const byName = Object.fromEntries(tools.map((t) => [t.name, t.annotations!]));
    expect(byName.forget).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: true });
    expect(byName.get_memory).toMatchObject({ readOnlyHint: true, idempotentHint: true });
    expect(byName.recall).toMatchObject({ readOnlyHint: true });
    expect(byName.remember).toMatchObject({ readOnlyHint: false, destructiveHint: false });
  });

  it("remember → recall → memory_context → reinforce → forget, each a real call to the memory service", async () => {
    const remembered = await callTool(client, "remember", { namespace: "alice", content: "The staging deploy script lives in tools/deploy.sh", metadata: { topic: "deploy" } });
    expect(remembered.isError, textOf(remembered)).toBeFalsy();
    const id = (remembered.structuredContent as { memory_id: string }).memory_id;
    expect(remembered.structuredContent).toMatchObject({ decision: "admitted", memory: { id, namespace: "alice", type: "episodic", metadata: { topic: "deploy" } } });
    await callTool(client, "remember", { namespace: "alice", content: "Lunch on Fridays is at noon in the canteen" });
    // What the tool acknowledged is what the memory service holds.
    expect((await listOverGrpc(pod, KEYS.alice, "alice")).map((m) => m.id)).toContain(id);

    const recalled = await callTool(client, "recall", { namespace: "alice", query: "where is the staging deploy script" });
    expect(recalled.isError, textOf(recalled)).toBeFalsy();
    const recall = recalled.structuredContent as { recall_id: string; memories: { id: string; content: string; score: number }[] };
    expect(recall.recall_id).not.toBe("");
    expect(recall.memories[0]!.id).toBe(id);

    const context = await callTool(client, "memory_context", { namespace: "alice", query: "staging deploy script", token_budget: 200 });
    const block = context.structuredContent as { text: string; recall_id: string; memory_ids: string[] };
    expect(block.memory_ids[0]).toBe(id);
    expect(block.text).toContain(`[${id}] The staging deploy script lives in tools/deploy.sh`);
    expect(block.text).toContain(block.recall_id);
    expect(textOf(context)).toBe(block.text);

    const reinforced = await callTool(client, "reinforce", { namespace: "alice", recall_id: recall.recall_id, reward: 1 });
    expect(reinforced.isError, textOf(reinforced)).toBeFalsy();
    expect((reinforced.structuredContent as { credited_memories: number }).credited_memories).toBeGreaterThan(0);

    const got = await callTool(client, "get_memory", { namespace: "alice", id });
    expect(got.structuredContent).toMatchObject({ memory: { id, content: "The staging deploy script lives in tools/deploy.sh", status: "buffered" } });
    const listed = await callTool(client, "list_memories", { namespace: "alice" });
    expect((listed.structuredContent as { memories: { id: string }[] }).memories.map((m) => m.id)).toContain(id);
    const consolidated = await callTool(client, "consolidate", { namespace: "alice" });
    expect((consolidated.structuredContent as { promoted_count: number }).promoted_count).toBeGreaterThan(0);

    const forgotten = await callTool(client, "forget", { namespace: "alice", ids: [id] });
    expect(forgotten.structuredContent).toMatchObject({ forgotten_count: 1 });
    expect((await listOverGrpc(pod, KEYS.alice, "alice")).map((m) => m.id)).not.toContain(id);
    const gone = await callTool(client, "get_memory", { namespace: "alice", id });
    expect(gone.isError).toBe(true);
    expect(textOf(gone)).toContain("NOT_FOUND");
  });

  it("refuses a namespace the key does not grant with a tool error naming PERMISSION_DENIED, and writes nothing", async () => {
    const refused = await callTool(client, "remember", { namespace: "bob", content: "alice writing into bob's memory" });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/PERMISSION_DENIED \(NAMESPACE_DENIED\)/);
    expect(await listOverGrpc(pod, KEYS.bob, "bob")).toEqual([]);
    const read = await callTool(client, "recall", { namespace: "bob", query: "anything" });
    expect(textOf(read)).toContain("PERMISSION_DENIED");
  });

  it("answers malformed calls with tool errors, changes nothing, and keeps serving", async () => {
    const before = (await listOverGrpc(pod, KEYS.alice, "alice")).length;
    const wrongType = await callTool(client, "remember", { namespace: "alice", content: 42 });
    expect(wrongType.isError).toBe(true);
    expect(textOf(wrongType)).toMatch(/Input validation error.*content/s);
    const missing = await callTool(client, "reinforce", { namespace: "alice", reward: 5 });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toMatch(/recall_id/);
    const unknown = await callTool(client, "no_such_tool", {});
    expect(unknown.isError).toBe(true);
    // Input only the memory service can judge comes back as its status with the field named.
    const tooLong = await callTool(client, "remember", { namespace: "alice", content: "x ".repeat(1000) });
    expect(tooLong.isError).toBe(true);
    expect(textOf(tooLong)).toMatch(/^The memory service refused the call: INVALID_ARGUMENT \(INVALID_ARGUMENT\): content: /);
    expect((await listOverGrpc(pod, KEYS.alice, "alice")).length).toBe(before);

    const after = await callTool(client, "remember", { namespace: "alice", content: "still serving after bad calls" });
    expect(after.isError, `${textOf(after)}\n${stderr()}`).toBeFalsy();
  });

  it("keeps the protocol alone on stdout: its logs are JSON lines on stderr", () => {
    const lines = stderr().trim().split("\n");
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toHaveProperty("service", "mcp");
    expect(stderr()).not.toContain(KEYS.alice);
  });
});
