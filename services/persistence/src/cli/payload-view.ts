import { walV1 } from "@t4dm/proto";
import type { WalRecordData } from "@t4dm/wal-format";

export interface DecodedPayload {
  /** Undefined when the payload is not a WalEntry at all. */
  entry?: walV1.WalEntry;
  /** Why the record is not what a replay expects; undefined when it is. */
  problem?: string;
}

/**
 * Decodes a record's payload and checks it against its frame. The sidecar
 * never looks inside payloads, so a valid frame can still carry one the
 * memory service cannot replay; only an offline check like this finds it.
 */
export function decodePayload(record: WalRecordData): DecodedPayload {
  let entry: walV1.WalEntry;
  try {
    entry = walV1.WalEntry.decode(record.payload);
  } catch (error) {
    return { problem: `payload does not decode as a WalEntry: ${(error as Error).message}` };
  }
  if (entry.operation === undefined) return { entry, problem: "payload has no operation" };
  const field = operationFieldNumber(entry.operation);
  if (field !== record.opType) {
    return { entry, problem: `frame op is ${operationName(record.opType)} (${record.opType}) but the payload holds ${entry.operation.$case} (field ${field})` };
  }
  return { entry };
}

/** `OPERATION_BUFFER_ADD`, or `UNRECOGNIZED(999)` for a number the schema does not know. */
export function operationName(opType: number): string {
  const name = walV1.operationToJSON(opType);
  return name === "UNRECOGNIZED" ? `UNRECOGNIZED(${opType})` : name;
}

export function entryToJson(entry: walV1.WalEntry): unknown {
  return walV1.WalEntry.toJSON(entry);
}

/**
 * The field number of the oneof case, taken from how the generated encoder
 * writes it (the first key of an entry holding only the operation), so no
 * hand-kept table can drift from the schema.
 */
function operationFieldNumber(operation: NonNullable<walV1.WalEntry["operation"]>): number {
  const bytes = walV1.WalEntry.encode({ time: undefined, operation }).finish();
  let key = 0;
  for (let i = 0; i < bytes.length && i < 5; i++) {
    key += (bytes[i]! & 0x7f) * 2 ** (7 * i);
    if ((bytes[i]! & 0x80) === 0) break;
  }
  return Math.floor(key / 8);
}
