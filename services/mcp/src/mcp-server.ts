import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Logger } from "@t4dm/telemetry";
import type { MemoryApi } from "./memory-api.js";
import { registerTools } from "./tools.js";

export const SERVER_INFO = { name: "t4dm-memory", version: "0.1.0" } as const;

const INSTRUCTIONS =
  "T4DM is your long-term memory. Before a task, call memory_context (or recall) with what you are about to do; " +
  "remember what is worth keeping (facts, decisions, outcomes); after using recalled memories, reinforce the recall_id " +
  "with how useful they were. Every call names a namespace your key allows.";

/** One MCP server whose every tool calls the memory service through `api` (one caller's key). */
export function createMcpServer(api: MemoryApi, logger: Logger): McpServer {
  const server = new McpServer(SERVER_INFO, { instructions: INSTRUCTIONS });
  registerTools(server, api, logger);
  return server;
}
