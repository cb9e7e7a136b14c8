import { status } from "@grpc/grpc-js";
import { FailedPreconditionError, T4dmError } from "@t4dm/rpc";
import { describe, expect, it } from "vitest";
import { CheckpointWriteError } from "../src/checkpoints/checkpoint-errors.js";
import { toRpcError } from "../src/rpc-errors.js";
import { LsnConflictError, LsnGapError } from "../src/wal/wal-errors.js";

describe("sidecar errors map to gRPC statuses by their type, never by their text", () => {
  it("a gap is FAILED_PRECONDITION LSN_GAP with the expected LSN the memory service re-sends from, whatever its message says", () => {
    // The message names no gap (nor a conflict): only the class may decide.
    const mapped = toRpcError(new LsnGapError("refused", 5, 7));
    expect(mapped).toBeInstanceOf(FailedPreconditionError);
    expect(mapped).toMatchObject({ code: status.FAILED_PRECONDITION, reason: "LSN_GAP", metadata: { expected_lsn: "5", got_lsn: "7" } });
  });

  it("a conflict is FAILED_PRECONDITION LSN_CONFLICT, even when its message mentions a gap", () => {
    const mapped = toRpcError(new LsnConflictError("re-sent LSN 2 would fill no gap", 4, 2));
    expect(mapped).toMatchObject({ code: status.FAILED_PRECONDITION, reason: "LSN_CONFLICT", metadata: { expected_lsn: "4", got_lsn: "2" } });
  });

  it("a failed checkpoint write is ABORTED CHECKPOINT_WRITE_FAILED, matched by class", () => {
    const mapped = toRpcError(new CheckpointWriteError("checkpoint_0000000000000007.bin.gz", "sync", { cause: new Error("EIO") }));
    expect(mapped).toBeInstanceOf(T4dmError);
    expect(mapped).toMatchObject({ code: status.ABORTED, reason: "CHECKPOINT_WRITE_FAILED" });
  });

  it("an error that only borrows a known class's name passes through to the boundary (UNKNOWN there)", () => {
    const impostor = Object.assign(new Error("writing failed"), { name: "CheckpointWriteError" });
    expect(toRpcError(impostor)).toBe(impostor);
  });
});
