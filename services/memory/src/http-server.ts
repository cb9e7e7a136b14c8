import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ListenAddress } from "@t4dm/config";
import type { Logger } from "@t4dm/telemetry";
import type { Readiness } from "./readiness.js";

export interface HttpServer {
  readonly address: string;
  close(): Promise<void>;
}

/** The operator's HTTP port: liveness and readiness (more routes come later). */
export async function startHttpServer(address: ListenAddress, logger: Logger, readiness: Readiness): Promise<HttpServer> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (request.method === "GET" && url.pathname === "/health") {
      return sendJson(response, 200, { status: "alive" });
    }
    if (request.method === "GET" && url.pathname === "/ready") {
      return readiness.ready
        ? sendJson(response, 200, { status: "ready" })
        : sendJson(response, 503, { status: "not ready", waitingFor: readiness.unmet });
    }
    sendJson(response, 404, { error: "not found" });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.host, () => resolve());
  });
  const info = server.address() as AddressInfo;
  const bound = `${info.family === "IPv6" ? `[${info.address}]` : info.address}:${info.port}`;
  logger.info("HTTP listening", { event: "http.listening", addr: bound });
  return {
    address: bound,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function sendJson(response: ServerResponse, statusCode: number, body: unknown): void {
  response.writeHead(statusCode, { "content-type": "application/json" });
  response.end(JSON.stringify(body) + "\n");
}
