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

/**
 * The entry as proto JSON, with packed float32 vectors (the `…_f32` bytes
 * fields of newer records) shown as numbers like the repeated floats of
 * older ones, not as base64.
 */
export function entryToJson(entry: walV1.WalEntry): unknown {
  return withPackedFloats(walV1.WalEntry.toJSON(entry));
}

function withPackedFloats(json: unknown): unknown {
  if (Array.isArray(json)) return json.map(withPackedFloats);
  if (json === null || typeof json !== "object") return json;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    out[key] = key.endsWith("F32") && typeof value === "string" ? float32sOf(Buffer.from(value, "base64")) : withPackedFloats(value);
  }
  return out;
}

/** Float32 little-endian values; a ragged tail (a record replay would refuse) is shown as its bytes. */
function float32sOf(bytes: Buffer): number[] | string {
  if (bytes.length % 4 !== 0) return `<${bytes.length} bytes, not float32s>`;
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
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
