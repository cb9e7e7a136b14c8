import { Metadata, type ServiceError } from "@grpc/grpc-js";
import type { persistenceV1 } from "@t4dm/proto";

export interface Recovered {
  plan: persistenceV1.RecoveryPlan;
  checkpoint: Buffer;
  records: persistenceV1.WalRecord[];
  complete?: persistenceV1.RecoveryComplete;
}

/** Reads a whole Recover stream. */
export function recoverAll(client: persistenceV1.PersistenceServiceClient): Promise<Recovered> {
  return new Promise((resolve, reject) => {
    const out: Recovered = { plan: undefined as never, checkpoint: Buffer.alloc(0), records: [] };
    const chunks: Uint8Array[] = [];
    const stream = client.recover({});
    stream.on("data", (response: persistenceV1.RecoverResponse) => {
      const part = response.part;
      if (part?.$case === "plan") out.plan = part.value;
      if (part?.$case === "checkpointChunk") chunks.push(part.value);
      if (part?.$case === "records") out.records.push(...part.value.records);
      if (part?.$case === "complete") out.complete = part.value;
    });
    stream.on("error", reject);
    stream.on("end", () => resolve({ ...out, checkpoint: Buffer.concat(chunks) }));
  });
}

/** Streams a checkpoint body in chunks. */
export function writeCheckpoint(
  client: persistenceV1.PersistenceServiceClient,
  lsn: number,
  body: Buffer,
  chunkBytes = 1000,
): Promise<persistenceV1.WriteCheckpointResponse> {
  return new Promise((resolve, reject) => {
    const stream = client.writeCheckpoint(new Metadata(), (error: ServiceError | null, response) => (error ? reject(error) : resolve(response)));
    stream.write({ part: { $case: "header", value: { lsn, formatVersion: 1, stateHash: Buffer.alloc(0), bodyBytes: body.length } } });
    for (let at = 0; at < body.length; at += chunkBytes) stream.write({ part: { $case: "chunk", value: body.subarray(at, at + chunkBytes) } });
    stream.end();
  });
}

export function sidecarStatus(client: persistenceV1.PersistenceServiceClient): Promise<persistenceV1.GetStatusResponse> {
  return new Promise((resolve, reject) => client.getStatus({}, (error, response) => (error ? reject(error) : resolve(response))));
}
