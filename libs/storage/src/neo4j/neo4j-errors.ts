import { isRetryableError, Neo4jError } from "neo4j-driver";
import { StoreUnavailableError } from "../errors.js";

/**
 * Neo4j could not be reached, lost the connection, stayed busy past the retry budget, or
 * failed on its side (Neo.TransientError / Neo.DatabaseError). Retrying later may help; at
 * start-up it means the configured backend is down or misaddressed.
 */
export class Neo4jUnavailableError extends StoreUnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("neo4j", message, options);
  }
}

/** Neo4j refused a statement (Neo.ClientError.*: bad credentials, a constraint, a syntax error): retrying will not help. */
export class Neo4jRequestError extends Error {
  override readonly name = "Neo4jRequestError";
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The domain error for a failed call to Neo4j `what` (e.g. "upsertFact"). Errors that are
 * not the driver's (the store's own StoreInputError, say) pass through unchanged.
 */
export function neo4jError(uri: string, what: string, error: unknown): unknown {
  if (!(error instanceof Neo4jError)) return error;
  if (error.code.startsWith("Neo.ClientError.") && !isRetryableError(error)) {
    return new Neo4jRequestError(`Neo4j at ${uri} refused ${what}: ${error.code}: ${error.message}`, error.code, { cause: error });
  }
  return new Neo4jUnavailableError(`Neo4j at ${uri} is unavailable (${what}): ${error.message}`, { cause: error });
}
