import { crc32c } from "@node-rs/crc32";
import type { WalRecordData } from "@t4dm/wal-format";

/**
 * Fingerprints of the most recent records, so a reconnecting writer that
 * re-sends LSNs can be told apart from one sending different content under
 * an old LSN. Bounded: a ring of the last `capacity` LSNs.
 */
export class LsnFingerprints {
  private readonly lsns: Float64Array;
  private readonly prints: Uint32Array;

  constructor(readonly capacity = 1 << 16) {
    this.lsns = new Float64Array(capacity);
    this.prints = new Uint32Array(capacity);
  }

  remember(record: WalRecordData): void {
    const slot = record.lsn % this.capacity;
    this.lsns[slot] = record.lsn;
    this.prints[slot] = fingerprint(record);
  }

  /** True/false when the LSN is remembered; undefined when it is too old to tell. */
  matches(record: WalRecordData): boolean | undefined {
    const slot = record.lsn % this.capacity;
    if (this.lsns[slot] !== record.lsn) return undefined;
    return this.prints[slot] === fingerprint(record);
  }
}

function fingerprint(record: WalRecordData): number {
  return crc32c(record.payload, record.opType);
}
