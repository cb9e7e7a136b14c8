import { walV1 } from "@t4dm/proto";
import type { WalRecordData } from "@t4dm/wal-format";
import { checkpointCommitOf } from "./checkpoint-commits.js";

const SYSTEM_RECORDS: ReadonlySet<number> = new Set([walV1.Operation.OPERATION_SYSTEM_START, walV1.Operation.OPERATION_SYSTEM_SHUTDOWN]);

/**
 * Records the WAL's size cap lets through (into the space reserved for
 * them): the checkpoint commit that frees space, and the start and shutdown
 * markers, so a memory service can start, checkpoint and stop at the cap
 * instead of waiting on space only a checkpoint could free.
 */
export function isCapExempt(record: WalRecordData): boolean {
  return SYSTEM_RECORDS.has(record.opType) || checkpointCommitOf(record) !== undefined;
}
