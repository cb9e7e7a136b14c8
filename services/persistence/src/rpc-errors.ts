import {
  AbortedError,
  FailedPreconditionError,
  InvalidArgumentError,
  ResourceExhaustedError,
  T4dmError,
  UnavailableError,
} from "@t4dm/rpc";
import { CheckpointAheadError, RecoveryDataLossError } from "./sidecar.js";
import { CheckpointWriteError } from "./checkpoints/checkpoint-errors.js";
import { LsnConflictError, LsnGapError, LsnSequenceError, RecordRejectedError, WalCorruptError, WalFullError, WalPoisonedError } from "./wal/wal-errors.js";

class DataLossError extends T4dmError {
  readonly code = 15; // DATA_LOSS
}

/** The one table from sidecar errors to gRPC statuses. Unknown errors pass through to the boundary. */
export function toRpcError(error: unknown): unknown {
  if (error instanceof LsnGapError) return lsnRefusal(error, "LSN_GAP");
  if (error instanceof LsnConflictError) return lsnRefusal(error, "LSN_CONFLICT");
  if (error instanceof WalPoisonedError) return new UnavailableError(error.message, "WAL_POISONED", { metadata: { reason: error.reason } });
  if (error instanceof WalFullError) {
    return new ResourceExhaustedError(error.message, "WAL_FULL", { metadata: { segments: String(error.segmentCount), max_segments: String(error.maxSegments) } });
  }
  if (error instanceof RecordRejectedError) return new InvalidArgumentError([{ field: "records.payload", description: error.message }]);
  if (error instanceof CheckpointAheadError) return new FailedPreconditionError(error.message, "CHECKPOINT_AHEAD_OF_WAL");
  if (error instanceof RecoveryDataLossError) return new DataLossError(error.message, "RECOVERY_DATA_LOSS");
  if (error instanceof WalCorruptError) return new DataLossError(error.message, "WAL_CORRUPT");
  if (error instanceof T4dmError) return error;
  if (error instanceof CheckpointWriteError) return new AbortedError(error.message, "CHECKPOINT_WRITE_FAILED");
  return error;
}

/** The memory service reads expected_lsn to re-send from there (commit-pipeline's resendLost). */
function lsnRefusal(error: LsnSequenceError, reason: "LSN_GAP" | "LSN_CONFLICT"): FailedPreconditionError {
  return new FailedPreconditionError(error.message, reason, {
    metadata: { expected_lsn: String(error.expectedLsn), got_lsn: String(error.gotLsn) },
  });
}
