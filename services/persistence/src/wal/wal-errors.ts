/** The WAL on disk is damaged where recovery must not guess; start-up stops. */
export class WalCorruptError extends Error {
  constructor(
    readonly fileName: string,
    readonly offset: number,
    readonly lsn: number | undefined,
    readonly reason: string,
  ) {
    super(`WAL corrupt in ${fileName} at offset ${offset}${lsn !== undefined ? ` (LSN ${lsn})` : ""}: ${reason}`);
    this.name = "WalCorruptError";
  }
}

/** An append that would leave a gap, or re-sends an LSN with different content. */
export class LsnSequenceError extends Error {
  constructor(
    message: string,
    readonly expectedLsn: number,
    readonly gotLsn: number,
  ) {
    super(message);
    this.name = "LsnSequenceError";
  }
}

/** A write or sync failed earlier; the writer acknowledges nothing more until a restart. */
export class WalPoisonedError extends Error {
  constructor(readonly reason: string, options?: { cause?: unknown }) {
    super(`WAL writer is poisoned: ${reason}`, options);
    this.name = "WalPoisonedError";
  }
}

/** The WAL reached its size cap; a checkpoint must free segments first. */
export class WalFullError extends Error {
  constructor(
    readonly segmentCount: number,
    readonly maxSegments: number,
    /** The first record refused; every later one is refused with it. */
    readonly refusedFromLsn = 0,
  ) {
    super(`WAL is at its cap of ${maxSegments} segments; waiting for a checkpoint to free space`);
    this.name = "WalFullError";
  }
}

/** A record the writer will not take (too large). */
export class RecordRejectedError extends Error {
  constructor(message: string, readonly lsn: number) {
    super(message);
    this.name = "RecordRejectedError";
  }
}
