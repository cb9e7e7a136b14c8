import {
  admitted,
  authorized,
  CallSlot,
  decoded,
  mappingErrors,
  observed,
  refusedWhile,
  traced,
  unaryThrough,
  UnavailableError,
  type Middleware,
} from "@t4dm/rpc";
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

/** The caller's principal, once the key check established it. */
const principalOf = new CallSlot<Principal>("the caller's principal");

/**
 * The public server's chain, in order: a span, the duration metric, the
 * decode check, refusal while shutting down, the key check (every namespace the
 * request touches, and admin where needed), the load limits, then a store
 * outage answered as UNAVAILABLE. The middlewares are libs/rpc's; what is
 * this service's (keys, admission, stores) is passed in.
 */
function publicChain<Req>(gate: Gate, access: (request: Req) => Access): Middleware[] {
  return [
    traced("t4dm-memory"),
    // Read at call time: main.ts sets `observe` once metrics exist, after the handlers are built.
    observed((method, seconds, code) => gate.observe?.(method, seconds, code)),
    decoded,
    refusedWhile(
      () => gate.closing === true,
      () => new UnavailableError("the memory service is shutting down; retry against its replacement", "SHUTTING_DOWN"),
    ),
    authorized((call) => principalOf.set(call, gate.authorizer.authorize(call.metadata, call.method, access(call.request as Req)))),
    admitted((call, run) => gate.admission.run(principalOf.get(call).keyId, run)),
    mappingErrors((error, call) => storeOutageAsUnavailable(error, gate.logger, call.method)),
  ];
}

/** A unary handler of the public server, behind its chain; it gets the request and the caller's principal. */
export function guarded<Req, Res>(
  gate: Gate,
  method: string,
  access: (request: Req) => Access,
  handler: (request: Req, principal: Principal) => Promise<Res>,
) {
  return unaryThrough(publicChain(gate, access), gate.logger, method, (request: Req, call) => handler(request, principalOf.get(call)));
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
