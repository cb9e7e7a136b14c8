import type { Metadata, sendUnaryData, ServiceError } from "@grpc/grpc-js";
import type { Logger } from "@t4dm/telemetry";
import { errorToStatus } from "./error-boundary.js";

/** One RPC as the middlewares see it. `request` is undefined for a stream whose messages come later. */
export interface CallContext<Req = unknown> {
  /** "Service/Method", as logs, spans and metrics name it. */
  readonly method: string;
  readonly request: Req;
  readonly metadata: Metadata;
}

/**
 * One concern around a call: it may refuse (throw a T4dmError), wrap what
 * follows (a span, a timer, an admission slot), or map what follows throws.
 * `next` runs the rest of the chain and, last, the handler.
 */
export type Middleware = (call: CallContext, next: () => Promise<unknown>) => Promise<unknown>;

/**
 * A value one middleware establishes for a call and later ones (or the
 * handler) read, such as the caller's principal: typed, and gone with the call.
 */
export class CallSlot<T> {
  private readonly values = new WeakMap<CallContext, T>();

  constructor(private readonly name: string) {}

  set(call: CallContext, value: T): void {
    this.values.set(call, value);
  }

  get(call: CallContext): T {
    if (!this.values.has(call)) throw new Error(`${this.name} was not set for ${call.method}: a middleware is missing from its chain`);
    return this.values.get(call)!;
  }
}

/** Runs `middlewares` in order around `handler`: the first is the outermost. */
export function runChain<Res>(middlewares: readonly Middleware[], call: CallContext, handler: () => Promise<Res>): Promise<Res> {
  const step = (index: number): Promise<unknown> =>
    index === middlewares.length ? handler() : middlewares[index]!(call, () => step(index + 1));
  // A middleware that throws synchronously becomes a rejection like any other refusal.
  return Promise.resolve().then(() => step(0)) as Promise<Res>;
}

/**
 * A unary handler behind a chain, in grpc-js's callback form. Whatever the
 * chain or the handler throws goes through the error boundary: domain errors
 * become their status with details, anything else UNKNOWN and a log line.
 */
export function unaryThrough<Req, Res>(
  middlewares: readonly Middleware[],
  logger: Logger,
  method: string,
  handler: (request: Req, call: CallContext<Req>) => Promise<Res>,
) {
  return (grpcCall: { request: Req; metadata: Metadata }, callback: sendUnaryData<Res>): void => {
    const call: CallContext<Req> = { method, request: grpcCall.request, metadata: grpcCall.metadata };
    runChain(middlewares, call, () => handler(call.request, call)).then(
      (response) => callback(null, response),
      (error: unknown) => callback(errorToStatus(error, logger, method) as ServiceError),
    );
  };
}

/**
 * Runs a chain before a streaming handler takes its call: what applies to a
 * stream as a whole (a token check, a refusal while closing). A refusal is
 * answered through `refuse` with the boundary's status, and the handler never
 * starts. Errors inside the stream are the handler's to report.
 */
export function streamThrough<Call extends { metadata: Metadata }, Extra extends unknown[]>(
  middlewares: readonly Middleware[],
  logger: Logger,
  method: string,
  handler: (call: Call, ...extra: Extra) => void,
  refuse: (status: Partial<ServiceError>, call: Call, ...extra: Extra) => void,
) {
  return (grpcCall: Call, ...extra: Extra): void => {
    const call: CallContext = { method, request: undefined, metadata: grpcCall.metadata };
    runChain(middlewares, call, async () => handler(grpcCall, ...extra)).catch((error: unknown) =>
      refuse(errorToStatus(error, logger, method), grpcCall, ...extra),
    );
  };
}
