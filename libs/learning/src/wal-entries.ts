import { walV1 } from "@t4dm/proto";
import { packClusterUpdate, packMemory, packMemoryEmbedding } from "./packed-floats.js";

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
  const payload = Buffer.from(walV1.WalEntry.encode({ time, operation: packedForm(operation) }).finish());
  return { opType: operationType(operation), payload, entry: walV1.WalEntry.decode(payload) };
}

/**
 * The operation as written: memory embeddings, gate features, cluster
 * centroids and re-embedded vectors in their packed float32 fields, whatever
 * form the planner built them in (readers accept both; see packed-floats).
 */
export function packedForm(operation: Operation): Operation {
  switch (operation.$case) {
    case "bufferAdd":
      return operation.value.memory ? { $case: "bufferAdd", value: { memory: packMemory(operation.value.memory) } } : operation;
    case "remember": {
      const { memory, clusterUpdate } = operation.value;
      return { $case: "remember", value: { ...operation.value, memory: memory && packMemory(memory), clusterUpdate: clusterUpdate && packClusterUpdate(clusterUpdate) } };
    }
    case "clusterUpdate":
      return { $case: "clusterUpdate", value: packClusterUpdate(operation.value) };
    case "bufferReembed":
      return { $case: "bufferReembed", value: { memories: operation.value.memories.map(packMemoryEmbedding) } };
    default:
      return operation;
  }
}
