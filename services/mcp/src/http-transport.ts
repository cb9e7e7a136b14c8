import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isLoopback } from "@t4dm/config";
import type { Logger } from "@t4dm/telemetry";
import { bearerKey } from "./bearer.js";
import type { McpConfig } from "./mcp-config.js";
import type { MemoryChannel } from "./memory-api.js";
import { createMcpServer } from "./mcp-server.js";

export const MCP_PATH = "/mcp";

/**
 * Streamable HTTP, stateless: each POST gets its own MCP server bound to that request's bearer
 * key, so a key is never carried from one caller to another and tenancy stays the memory
 * service's. With keys configured a request without a bearer key is refused (401) before any
 * MCP handling; without keys the listener is loopback only (mcp-config) and checks the Host
 * header against its own address, so a web page cannot reach it through DNS rebinding.
 */
export async function startHttpTransport(config: McpConfig, channel: MemoryChannel, logger: Logger): Promise<Server> {
  let allowedHosts: string[] | undefined;
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error("HTTP request failed", { event: "mcp.http_failed", error });
      if (!res.headersSent) jsonRpcError(res, 500, -32603, "internal error");
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== MCP_PATH) return jsonRpcError(res, 404, -32000, `not found; the MCP endpoint is ${MCP_PATH}`);
    // Stateless: no server-initiated stream (GET) and no session to end (DELETE).
    if (req.method !== "POST") {
      res.setHeader("Allow", "POST");
      return jsonRpcError(res, 405, -32000, "method not allowed; this endpoint is stateless and takes POST only");
    }
    const key = bearerKey(req.headers.authorization);
    if (config.keysConfigured && !key) {
      logger.info("request without an API key refused", { event: "mcp.http_unauthenticated" });
      res.setHeader("WWW-Authenticate", 'Bearer realm="t4dm"');
      return jsonRpcError(res, 401, -32001, "an API key is required: Authorization: Bearer <key>");
    }
    const mcp = createMcpServer(channel.forKey(key), logger);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
      ...(allowedHosts ? { allowedHosts, enableDnsRebindingProtection: true } : {}),
    });
    res.on("close", () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res);
  }

  const { host, port } = config.httpAddr;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  if (isLoopback(host!)) allowedHosts = ["127.0.0.1", "localhost", "[::1]", host!].map((h) => `${h}:${bound}`);
  logger.info("MCP over Streamable HTTP", {
    event: "http.listening",
    addr: `${host!.includes(":") ? `[${host}]` : host}:${bound}`,
    path: MCP_PATH,
    keysRequired: config.keysConfigured,
  });
  return server;
}

function jsonRpcError(res: ServerResponse, httpStatus: number, code: number, message: string): void {
  res.writeHead(httpStatus, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }));
}
