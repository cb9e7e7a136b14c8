import type { Metadata } from "@grpc/grpc-js";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { assertDecoded, unary, UnavailableError } from "@t4dm/rpc";
import { StoreUnavailableError } from "@t4dm/storage";
import type { Logger } from "@t4dm/telemetry";
import type { Admission } from "./admission.js";
import type { Principal } from "./api-keys.js";
import type { Access, Authorizer } from "./authorizer.js";

export interface Gate {
  authorizer: Authorizer;
  admission: Admission;
  logger: Logger;
  /** Set once shutdown begins: new calls are refused with UNAVAILABLE. */
  closing?: boolean;
  /** Sees every call's duration and gRPC status code (0 for OK). */
  observe?: (method: string, seconds: number, code: number) => void;
}

/**
 * A unary handler behind the door: the key must allow every namespace the
 * request touches (and admin where needed), then the load limits apply, then
 * the handler runs inside the error boundary.
 */
export function guarded<Req, Res>(
  gate: Gate,
  method: string,
  access: (request: Req) => Access,
  handler: (request: Req, principal: Principal) => Promise<Res>,
) {
  const timed = unary(gate.logger, method, async (request: Req, call: { metadata: Metadata }) => {
    if (gate.closing) throw new UnavailableError("the memory service is shutting down; retry against its replacement", "SHUTTING_DOWN");
    assertDecoded(request);
    const principal = gate.authorizer.authorize(call.metadata, method, access(request));
    return gate.admission.run(principal.keyId, () =>
      handler(request, principal).catch((error: unknown) => {
        throw storeOutageAsUnavailable(error, gate.logger, method);
      }),
    );
  });
  const tracer = trace.getTracer("t4dm-memory");
  return (call: { request: Req; metadata: Metadata }, callback: (error: { code?: number } | null, value?: Res) => void): void => {
    const started = process.hrtime.bigint();
    // One span per RPC; the WAL append and apply spans of this call become its children.
    tracer.startActiveSpan(method, { kind: SpanKind.SERVER, attributes: { "rpc.system": "grpc", "rpc.method": method } }, (span) => {
      timed(call, (error, value) => {
        const code = error?.code ?? 0;
        gate.observe?.(method, Number(process.hrtime.bigint() - started) / 1e9, code);
        span.setAttribute("rpc.grpc.status_code", code);
        if (code !== 0) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        callback(error, value);
      });
    });
  };
}

/** The access most calls need: their one namespace. */
export const byNamespace = (request: { namespace: string }): Access => ({ namespaces: [request.namespace] });

/**
 * A long-term store that is down is a retryable condition for the caller, not
 * an internal error: UNAVAILABLE with reason STORE_UNAVAILABLE and the backend
 * named, while the address and the cause go to the log for the operator.
 */
function storeOutageAsUnavailable(error: unknown, logger: Logger, method: string): unknown {
  if (!(error instanceof StoreUnavailableError)) return error;
  logger.warn("a long-term store is unavailable", { event: "store.unavailable", method, backend: error.backend, error });
  return new UnavailableError(`the ${error.backend} store is unavailable; retry shortly`, "STORE_UNAVAILABLE", {
    cause: error,
    metadata: { backend: error.backend },
  });
}
