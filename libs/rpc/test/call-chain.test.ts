import { Metadata, status } from "@grpc/grpc-js";
import { createLogger } from "@t4dm/telemetry";
import { describe, expect, it } from "vitest";
import {
  admitted,
  authorized,
  CallSlot,
  decodeStatusDetails,
  decoded,
  FailedPreconditionError,
  mappingErrors,
  observed,
  PermissionDeniedError,
  refusedWhile,
  ResourceExhaustedError,
  streamThrough,
  UnavailableError,
  unaryThrough,
  UndecodableRequest,
  type Middleware,
} from "../src/index.js";

const logger = createLogger({ level: "error", service: "test", write: () => {} });

/** Calls a unary handler built by unaryThrough and resolves with what its callback got. */
function call<Res>(handler: ReturnType<typeof unaryThrough<unknown, Res>>, request: unknown = {}) {
  return new Promise<{ error: Parameters<Parameters<typeof handler>[1]>[0]; value?: Res }>((resolve) =>
    handler({ request, metadata: new Metadata() }, (error, value) => resolve({ error, value: value ?? undefined })),
  );
}

/** A chain like a server's, recording which stages ran, in order. */
function recordingChain(seen: string[], options: { deny?: boolean; closing?: boolean; full?: boolean } = {}) {
  const principal = new CallSlot<string>("principal");
  const chain: Middleware[] = [
    observed((_method, _seconds, code) => seen.push(`observed ${code}`)),
    decoded,
    refusedWhile(() => options.closing === true, () => new UnavailableError("closing", "SHUTTING_DOWN")),
    authorized((c) => {
      seen.push("auth");
      if (options.deny) throw new PermissionDeniedError("not yours", "NAMESPACE_DENIED");
      principal.set(c, "key-1");
    }),
    admitted((c, run) => {
      seen.push(`admission ${principal.get(c)}`);
      if (options.full) throw new ResourceExhaustedError("too many", "TOO_MANY_CALLS");
      return run();
    }),
    mappingErrors((error) => (error instanceof RangeError ? new FailedPreconditionError("mapped", "MAPPED", { metadata: { why: error.message } }) : error)),
  ];
  return { chain, principal };
}

describe("the call chain (libs/rpc middlewares)", () => {
  it("runs the stages in order, outermost first, and hands the handler what auth established", async () => {
    const seen: string[] = [];
    const { chain, principal } = recordingChain(seen);
    const handler = unaryThrough(chain, logger, "Test/Call", async (_request, c) => {
      seen.push(`handler ${principal.get(c)}`);
      return { ok: true };
    });
    expect(await call(handler)).toEqual({ error: null, value: { ok: true } });
    expect(seen).toEqual(["auth", "admission key-1", "handler key-1", "observed 0"]);
  });

  it("an auth failure never reaches admission or the handler, and is observed with its code", async () => {
    const seen: string[] = [];
    const handler = unaryThrough(recordingChain(seen, { deny: true }).chain, logger, "Test/Call", async () => seen.push("handler"));
    const { error } = await call(handler);
    expect(error?.code).toBe(status.PERMISSION_DENIED);
    expect(seen).toEqual(["auth", `observed ${status.PERMISSION_DENIED}`]);
  });

  it("a refusal while closing and an undecodable request stop the call before auth", async () => {
    const seen: string[] = [];
    const closing = await call(unaryThrough(recordingChain(seen, { closing: true }).chain, logger, "Test/Call", async () => seen.push("handler")));
    expect(decodeStatusDetails(closing.error!).errorInfo?.reason).toBe("SHUTTING_DOWN");
    const garbage = await call(unaryThrough(recordingChain(seen).chain, logger, "Test/Call", async () => seen.push("handler")), new UndecodableRequest("bad wire"));
    expect(garbage.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(seen).toEqual([`observed ${status.UNAVAILABLE}`, `observed ${status.INVALID_ARGUMENT}`]);
  });

  it("admission refusing keeps the handler from running", async () => {
    const seen: string[] = [];
    const { error } = await call(unaryThrough(recordingChain(seen, { full: true }).chain, logger, "Test/Call", async () => seen.push("handler")));
    expect(error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(seen).toEqual(["auth", "admission key-1", `observed ${status.RESOURCE_EXHAUSTED}`]);
  });

  it("a service error the chain maps by type reaches the caller as its status with details; anything else is UNKNOWN", async () => {
    const seen: string[] = [];
    const mapped = await call(unaryThrough(recordingChain(seen).chain, logger, "Test/Call", async () => {
      throw new RangeError("lsn 7");
    }));
    expect(mapped.error?.code).toBe(status.FAILED_PRECONDITION);
    expect(decodeStatusDetails(mapped.error!).errorInfo).toMatchObject({ reason: "MAPPED", metadata: { why: "lsn 7" } });
    const unknown = await call(unaryThrough(recordingChain(seen).chain, logger, "Test/Call", async () => {
      throw new Error("internal detail");
    }));
    expect(unknown.error).toMatchObject({ code: status.UNKNOWN, details: "internal error; see the service log" });
  });

  it("a stream refused by the chain is answered through its refusal and its handler never starts", async () => {
    const outcome = new Promise<string>((resolve) => {
      const open = streamThrough(
        [authorized(() => { throw new PermissionDeniedError("no token", "TOKEN_REQUIRED"); })],
        logger,
        "Test/Stream",
        () => resolve("handler started"),
        (answer) => resolve(`refused ${answer.code}`),
      );
      open({ metadata: new Metadata() });
    });
    expect(await outcome).toBe(`refused ${status.PERMISSION_DENIED}`);
  });
});
