/** A store cannot start with this configuration (dimension or schema mismatch); retrying will not help. */
export class StoreConfigError extends Error {
  override readonly name = "StoreConfigError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A call reached a store that is not initialised yet or already closed. */
export class StoreClosedError extends Error {
  override readonly name = "StoreClosedError";
  constructor(message: string) {
    super(message);
  }
}

/** The caller handed the store something it cannot hold (wrong dimension, bad date, unsupported filter value). */
export class StoreInputError extends Error {
  override readonly name = "StoreInputError";
  constructor(message: string) {
    super(message);
  }
}
