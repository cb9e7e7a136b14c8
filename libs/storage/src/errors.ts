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

/**
 * A configured backend (Qdrant, Neo4j) could not be reached, timed out, was
 * overloaded or failed on its side. Retrying later may help; at start-up it
 * means the backend is down or misaddressed. Each backend has its own subclass.
 */
export class StoreUnavailableError extends Error {
  constructor(
    /** "qdrant", "neo4j", ... */
    readonly backend: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The embedded vector index (its worker thread) failed an operation or died; SQLite still holds every vector. */
export class VectorIndexError extends Error {
  override readonly name = "VectorIndexError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
