import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { decodeStatusDetails, ERROR_DOMAIN, InvalidArgumentError, NotFoundError, toServiceError } from "../src/index.js";
import { errorToStatus } from "../src/error-boundary.js";
import { createLogger } from "@t4dm/telemetry";

describe("status details", () => {
  it("carries BadRequest field violations and ErrorInfo in the trailer", () => {
    const error = toServiceError(new InvalidArgumentError([{ field: "content", description: "must not be empty" }]));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    const decoded = decodeStatusDetails(error);
    expect(decoded.fieldViolations).toEqual([{ field: "content", description: "must not be empty" }]);
    expect(decoded.errorInfo).toMatchObject({ reason: "INVALID_ARGUMENT", domain: ERROR_DOMAIN });
  });

  it("maps domain errors to their codes with a stable reason", () => {
    const decoded = decodeStatusDetails(toServiceError(new NotFoundError("memory m1 not found", "MEMORY_NOT_FOUND", { metadata: { id: "m1" } })));
    expect(decoded.code).toBe(status.NOT_FOUND);
    expect(decoded.errorInfo).toMatchObject({ reason: "MEMORY_NOT_FOUND", metadata: { id: "m1" } });
  });

  it("hides unexpected errors behind UNKNOWN and logs them", () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "info", service: "test", write: (line) => lines.push(line) });
    const result = errorToStatus(new Error("disk path /secret/x exploded"), logger, "MemoryService/Remember");
    expect(result.code).toBe(status.UNKNOWN);
    expect(result.details).not.toContain("/secret/x");
    expect(lines.join("")).toContain("/secret/x");
  });
});

describe("partialService", () => {
  it("answers UNIMPLEMENTED, naming the method, for every method not built", async () => {
    const { partialService } = await import("../src/index.js");
    const definition = {
      built: { path: "/t.v1.S/Built", requestStream: false, responseStream: false },
      missing: { path: "/t.v1.S/Missing", requestStream: false, responseStream: false },
      streaming: { path: "/t.v1.S/Streaming", requestStream: false, responseStream: true },
    } as never;
    const built = () => undefined;
    const handlers = partialService(definition, { built }) as Record<string, (...args: unknown[]) => void>;
    expect(handlers.built).toBe(built);
    let answered: { code: number; details: string } | undefined;
    handlers.missing!({}, (error: { code: number; details: string }) => (answered = error));
    expect(answered).toEqual({ code: status.UNIMPLEMENTED, details: "t.v1.S/Missing is not implemented yet" });
    let emitted: { code: number } | undefined;
    handlers.streaming!({ emit: (_event: string, error: { code: number }) => (emitted = error) });
    expect(emitted?.code).toBe(status.UNIMPLEMENTED);
  });
});
