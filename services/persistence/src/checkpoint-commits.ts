import { walV1 } from "@t4dm/proto";
import type { WalRecordData } from "@t4dm/wal-format";

/** A checkpoint that a durable CHECKPOINT_COMPLETE record committed. */
export interface CheckpointCommit {
  lsn: number;
  /** When the writer logged the commit (the record's logical time). */
  time?: Date;
}

/**
 * Reads checkpoint commits out of WAL records: the sidecar treats payloads as
 * opaque except for this one operation, whose durability is what makes a
 * checkpoint count.
 */
export function checkpointCommitOf(record: WalRecordData): CheckpointCommit | undefined {
  if (record.opType !== walV1.Operation.OPERATION_CHECKPOINT_COMPLETE) return undefined;
  try {
    const entry = walV1.WalEntry.decode(record.payload);
    if (entry.operation?.$case !== "checkpointComplete") return undefined;
    return { lsn: entry.operation.value.checkpointLsn, time: entry.time };
  } catch {
    // A malformed payload commits nothing; the record itself stays in the WAL.
    return undefined;
  }
}
