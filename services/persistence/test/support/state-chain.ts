import { createHash } from "node:crypto";
import { walV1 } from "@t4dm/proto";
import type { persistenceV1 } from "@t4dm/proto";

/**
 * A stand-in for the learning state in sidecar tests: a hash chained over
 * every record applied. Equal hashes mean the same records in the same order,
 * which is what warm-start exactness (catalog 13) needs to show.
 */
export class StateChain {
  hash = Buffer.alloc(32);
  lsn = 0;

  apply(record: { lsn: number; opType: number; payload: Uint8Array }): void {
    if (record.lsn !== this.lsn + 1) throw new Error(`replay gap: ${record.lsn} after ${this.lsn}`);
    const h = createHash("sha256");
    h.update(this.hash);
    h.update(String(record.lsn));
    h.update(String(record.opType));
    h.update(record.payload);
    this.hash = h.digest();
    this.lsn = record.lsn;
  }

  snapshot(): Buffer {
    return Buffer.from(JSON.stringify({ lsn: this.lsn, hash: this.hash.toString("hex") }));
  }

  static restore(body: Buffer): StateChain {
    const { lsn, hash } = JSON.parse(body.toString()) as { lsn: number; hash: string };
    const chain = new StateChain();
    chain.lsn = lsn;
    chain.hash = Buffer.from(hash, "hex");
    return chain;
  }
}

export function opaqueRecord(lsn: number, size = 64): persistenceV1.WalRecord {
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i++) payload[i] = (lsn * 131 + i) & 0xff;
  return { lsn, opType: walV1.Operation.OPERATION_BUFFER_ADD, payload };
}

export function checkpointCompleteRecord(lsn: number, checkpointLsn: number): persistenceV1.WalRecord {
  const payload = Buffer.from(
    walV1.WalEntry.encode({
      time: new Date(),
      operation: { $case: "checkpointComplete", value: { checkpointLsn, fileName: "", sha256: Buffer.alloc(0), stateHash: Buffer.alloc(0) } },
    }).finish(),
  );
  return { lsn, opType: walV1.Operation.OPERATION_CHECKPOINT_COMPLETE, payload };
}
