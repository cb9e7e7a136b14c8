import { status } from "@grpc/grpc-js";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { CallContext, Middleware } from "./call-chain.js";
import { T4dmError } from "./errors.js";
import { assertDecoded } from "./safe-decode.js";

/**
 * The small middlewares a server's chain is made of. Each knows one concern
 * and nothing of any service: what a service decides (who may call, how
 * many at once, which of its errors mean what) is passed in.
 */

/** One server span per call; spans the handler opens (WAL append, apply) become its children. */
export function traced(tracerName: string): Middleware {
  const tracer = trace.getTracer(tracerName);
  return (call, next) =>
    tracer.startActiveSpan(call.method, { kind: SpanKind.SERVER, attributes: { "rpc.system": "grpc", "rpc.method": call.method } }, (span) =>
      next().then(
        (response) => {
          span.setAttribute("rpc.grpc.status_code", status.OK);
          span.end();
          return response;
        },
        (error: unknown) => {
          span.setAttribute("rpc.grpc.status_code", statusCodeOf(error));
          span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
          throw error;
        },
      ),
    );
}

/** Sees every call's duration and the gRPC status code it ends with (0 for OK). */
export function observed(observe: (method: string, seconds: number, code: number) => void): Middleware {
  return async (call, next) => {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const response = await next();
      observe(call.method, seconds(), status.OK);
      return response;
    } catch (error) {
      observe(call.method, seconds(), statusCodeOf(error));
      throw error;
    }
  };
}

/** Refuses every call while `refusing()` holds (a server shutting down), with the error it makes. */
export function refusedWhile(refusing: () => boolean, refusal: () => T4dmError): Middleware {
  return (_call, next) => {
    if (refusing()) throw refusal();
    return next();
  };
}

/** A request the decoder refused is the caller's bad input: INVALID_ARGUMENT before anything else looks at it. */
export const decoded: Middleware = (call, next) => {
  assertDecoded(call.request);
  return next();
};

/**
 * Who may make this call: `check` throws (UNAUTHENTICATED, PERMISSION_DENIED)
 * to refuse it; it may record what it learnt (a principal) in a CallSlot.
 */
export function authorized(check: (call: CallContext) => void): Middleware {
  return (call, next) => {
    check(call);
    return next();
  };
}

/** Load limits: `admit` runs what follows once the call has a slot, or throws (RESOURCE_EXHAUSTED). */
export function admitted(admit: (call: CallContext, run: () => Promise<unknown>) => Promise<unknown>): Middleware {
  return (call, next) => admit(call, next);
}

/** Maps what follows throws (a service's own errors) to domain errors the boundary knows. */
export function mappingErrors(map: (error: unknown, call: CallContext) => unknown): Middleware {
  return (call, next) =>
    next().catch((error: unknown) => {
      throw map(error, call);
    });
}

/** The status code the error boundary will answer `error` with. */
function statusCodeOf(error: unknown): number {
  return error instanceof T4dmError ? error.code : status.UNKNOWN;
}
