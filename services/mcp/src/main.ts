import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { ConfigError, isLoopback } from "@t4dm/config";
import { createLogger } from "@t4dm/telemetry";
import { startHttpTransport } from "./http-transport.js";
import { KeysNotInForceError, requireKeysInForce } from "./keys-probe.js";
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
    // Off loopback, the MCP listener is only as closed as the memory service behind it.
    if (!isLoopback(config.httpAddr.host!) && !config.allowInsecure) {
      try {
        await requireKeysInForce(channel.forKey(undefined), logger);
      } catch (error) {
        if (!(error instanceof KeysNotInForceError)) throw error;
        logger.error("refusing to start", { event: "startup.fatal", error });
        process.stderr.write(`t4dm-mcp: refusing to listen on ${config.httpAddr.raw}: ${error.message}; configure T4DM_API_KEYS_FILE on the memory service, bind 127.0.0.1, or set T4DM_ALLOW_INSECURE=1 to accept the risk\n`);
        process.exit(2);
      }
    }
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
