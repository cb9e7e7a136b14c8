import { walV1 } from "@t4dm/proto";

export type Operation = NonNullable<walV1.WalEntry["operation"]>;

/** A planned operation made ready for the WAL: its bytes and the entry as replay will see it. */
export interface EncodedEntry {
  opType: walV1.Operation;
  payload: Buffer;
  /** Decoded from `payload`: live application uses this, so live and replay see the same floats. */
  entry: walV1.WalEntry;
}

/** `bufferAdd` → OPERATION_BUFFER_ADD: the frame's op type always matches the oneof case. */
export function operationType(operation: Operation): walV1.Operation {
  const name = "OPERATION_" + operation.$case.replace(/[A-Z]/g, (c) => "_" + c).toUpperCase();
  const value = walV1.operationFromJSON(name);
  if (value === walV1.Operation.UNRECOGNIZED || value === walV1.Operation.OPERATION_UNSPECIFIED) {
    throw new Error(`no WAL operation type for ${operation.$case}`);
  }
  return value;
}

export function encodeEntry(operation: Operation, time: Date): EncodedEntry {
  const payload = Buffer.from(walV1.WalEntry.encode({ time, operation }).finish());
  return { opType: operationType(operation), payload, entry: walV1.WalEntry.decode(payload) };
}
