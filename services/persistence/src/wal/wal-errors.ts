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

/**
 * An append the WAL refuses because of its LSN. `expectedLsn` is the next
 * LSN the WAL takes; the memory service re-sends from there.
 */
export abstract class LsnSequenceError extends Error {
  constructor(
    message: string,
    readonly expectedLsn: number,
    readonly gotLsn: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** An append whose LSN is past the next one: taking it would leave a gap. */
export class LsnGapError extends LsnSequenceError {}

/**
 * An append whose LSN the WAL cannot take as it is: invalid, out of order,
 * or a re-send of a durable LSN that differs from (or is too old to check
 * against) the record already accepted.
 */
export class LsnConflictError extends LsnSequenceError {}

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
