import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { status as grpcStatus } from "@grpc/grpc-js";
import type { ListenAddress } from "@t4dm/config";
import { T4dmError } from "@t4dm/rpc";
import type { Logger } from "@t4dm/telemetry";
import { adminV1 } from "@t4dm/proto";
import { checkpointAnswer } from "./admin-handlers.js";
import type { Authorizer } from "./auth/authorizer.js";
import { requireEngine, type Engine } from "../app/engine.js";
import { matchRoute } from "./http-routes.js";
import type { Readiness } from "../app/readiness.js";
import type { TlsFiles } from "../app/tls.js";

export interface HttpServer {
  readonly address: string;
  close(): Promise<void>;
}

export interface HttpContext {
  logger: Logger;
  readiness: Readiness;
  authorizer: Authorizer;
  engine: () => Engine | undefined;
  /** JSON for GET /status (the same as AdminService.GetStatus). */
  status: () => Promise<unknown>;
  statusPublic: boolean;
  /** Renders the Prometheus exposition (OpenTelemetry exporter). */
  metrics: (request: IncomingMessage, response: ServerResponse) => void;
  /** Refreshes what the sidecar reports (WAL bytes, syncs) before a scrape. */
  beforeScrape?: () => Promise<void>;
  metricsPublic: boolean;
  tls?: TlsFiles;
}

const HTTP_CODES: Partial<Record<grpcStatus, number>> = {
  [grpcStatus.INVALID_ARGUMENT]: 400,
  [grpcStatus.UNAUTHENTICATED]: 401,
  [grpcStatus.PERMISSION_DENIED]: 403,
  [grpcStatus.NOT_FOUND]: 404,
  [grpcStatus.FAILED_PRECONDITION]: 412,
  [grpcStatus.RESOURCE_EXHAUSTED]: 429,
  [grpcStatus.UNAVAILABLE]: 503,
};

/**
 * The operator's HTTP port: /health and /ready are open; /status needs an
 * admin key unless configured public; POST /api/v1/checkpoint and
 * /api/v1/reset?confirm=true need an admin key.
 */
export async function startHttpServer(address: ListenAddress, context: HttpContext): Promise<HttpServer> {
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    const pathname = new URL(request.url ?? "/", "http://localhost").pathname;
    const match = matchRoute(request.method, pathname);
    if (match.kind === "wrongMethod") {
      return sendJson(response, 405, { error: `${request.method} is not allowed on ${pathname}; use ${match.allow.join(" or ")}` }, { allow: match.allow.join(", ") });
    }
    if (pathname === "/metrics") {
      try {
        if (!context.metricsPublic) {
          const principal = context.authorizer.principalFor(request.headers.authorization, "HTTP GET /metrics");
          context.authorizer.check(principal, "HTTP GET /metrics", { namespaces: [], admin: true });
        }
      } catch (error) {
        const code = error instanceof T4dmError ? (HTTP_CODES[error.code] ?? 403) : 500;
        return sendJson(response, code, { error: (error as Error).message });
      }
      return void (context.beforeScrape ?? (async () => {}))().then(() => context.metrics(request, response));
    }
    route(request, context).then(
      ({ code, body }) => sendJson(response, code, body),
      (error: unknown) => {
        if (error instanceof T4dmError) return sendJson(response, HTTP_CODES[error.code] ?? 500, { error: error.message, reason: error.reason });
        context.logger.error("unexpected error in HTTP handler", { error, path: request.url });
        sendJson(response, 500, { error: "internal error; see the service log" });
      },
    );
  };
  const server = context.tls ? createHttpsServer({ cert: context.tls.cert, key: context.tls.key }, handler) : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.host, () => resolve());
  });
  const info = server.address() as AddressInfo;
  const bound = `${info.family === "IPv6" ? `[${info.address}]` : info.address}:${info.port}`;
  context.logger.info("HTTP listening", { event: "http.listening", addr: bound, tls: context.tls !== undefined });
  return {
    address: bound,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function route(request: IncomingMessage, context: HttpContext): Promise<{ code: number; body: unknown }> {
  const url = new URL(request.url ?? "/", "http://localhost");
  const get = request.method === "GET";
  const post = request.method === "POST";
  if (get && url.pathname === "/health") return { code: 200, body: { status: "alive" } };
  if (get && url.pathname === "/ready") {
    const degraded = context.readiness.degraded;
    const notes = Object.keys(degraded).length > 0 ? { degraded } : {};
    return context.readiness.ready
      ? { code: 200, body: { status: "ready", ...notes } }
      : { code: 503, body: { status: "not ready", waitingFor: context.readiness.unmet, ...notes } };
  }
  const admin = (method: string) => {
    const principal = context.authorizer.principalFor(request.headers.authorization, method);
    context.authorizer.check(principal, method, { namespaces: [], admin: true });
  };
  if (get && url.pathname === "/status") {
    if (!context.statusPublic) admin("HTTP GET /status");
    return { code: 200, body: await context.status() };
  }
  if (post && url.pathname === "/api/v1/checkpoint") {
    admin("HTTP POST /api/v1/checkpoint");
    const result = await ready(context).checkpointer.checkpoint("admin http", { fresh: true });
    return { code: 200, body: adminV1.CheckpointResponse.toJSON(checkpointAnswer(result)) };
  }
  if (post && url.pathname === "/api/v1/reset") {
    admin("HTTP POST /api/v1/reset");
    const result = await ready(context).lifecycle.reset({
      confirm: url.searchParams.get("confirm") === "true",
      namespace: url.searchParams.get("namespace") ?? "",
      deleteMemories: url.searchParams.get("delete_memories") === "true",
    });
    return { code: 200, body: result };
  }
  return { code: 404, body: { error: "not found" } };
}

function ready(context: HttpContext): Engine {
  return requireEngine(context.engine);
}

function sendJson(response: ServerResponse, statusCode: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(statusCode, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body) + "\n");
}
