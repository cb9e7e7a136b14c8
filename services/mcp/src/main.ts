import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { ConfigError } from "@t4dm/config";
import { createLogger } from "@t4dm/telemetry";
import { startHttpTransport } from "./http-transport.js";
import { loadMcpConfig, type McpConfig } from "./mcp-config.js";
import { MemoryChannel } from "./memory-api.js";
import { createMcpServer } from "./mcp-server.js";

/**
 * The T4DM MCP server: MCP tools over stdio (one agent, its key from T4DM_API_KEY) or Streamable
 * HTTP (remote agents, each with its own bearer key), every tool a call to the memory service's
 * public gRPC API. Logs go to stderr: in stdio mode stdout is the protocol.
 */
async function main(): Promise<void> {
  let config: McpConfig;
  try {
    config = loadMcpConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`t4dm-mcp: invalid configuration: ${error.message}\n`);
    process.exit(2);
  }
  const logger = createLogger({ level: config.logLevel, service: "mcp", write: (line) => process.stderr.write(line) });
  const channel = new MemoryChannel(config);
  logger.info("MCP server starting", {
    event: "mcp.starting",
    transport: config.transport,
    memoryAddr: config.memoryAddr.raw,
    memoryTls: config.memoryTls !== undefined,
  });

  if (config.transport === "stdio") {
    const server = createMcpServer(channel.forKey(config.stdioApiKey), logger);
    const transport = new StdioServerTransport();
    // The agent closing our stdin ends the session: nothing else is left to serve.
    transport.onclose = () => stop(0);
    process.stdin.on("end", () => stop(0));
    await server.connect(transport);
    logger.info("MCP over stdio", { event: "stdio.ready", apiKey: config.stdioApiKey !== undefined });
  } else {
    await startHttpTransport(config, channel, logger);
  }
  // Nothing to drain: every write is the memory service's, durable before it answered.
  process.on("SIGTERM", () => stop(0));
  process.on("SIGINT", () => stop(0));

  function stop(code: number): void {
    logger.info("MCP server stopping", { event: "mcp.stopping" });
    channel.close();
    process.exit(code);
  }
}

await main();
