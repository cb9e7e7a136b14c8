import { StoreUnavailableError } from "../errors.js";

/**
 * Qdrant could not be reached, timed out, was overloaded or failed on its
 * side (5xx). Retrying later may help; at start-up it means the configured
 * backend is down or misaddressed.
 */
export class QdrantUnavailableError extends StoreUnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("qdrant", message, options);
  }
}

/** Qdrant refused a request (4xx other than 429): the request or the collection is wrong; retrying will not help. */
export class QdrantRequestError extends Error {
  override readonly name = "QdrantRequestError";
  constructor(
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The domain error for a failed call to Qdrant `what` (e.g. "upsert into
 * t4dm_episodic"), with the server's own explanation when it gave one.
 * Errors are told apart by shape: the client throws its fetcher's ApiError
 * (with `status` and the response `data`) for HTTP errors, and fetch's
 * TypeError (with a `cause` such as ECONNREFUSED) when there is no response.
 */
export function qdrantError(url: string, what: string, error: unknown): Error {
  if (error instanceof QdrantUnavailableError || error instanceof QdrantRequestError) return error;
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === "number") {
    const message = `Qdrant at ${url} refused ${what}: ${status} ${serverDetail(error)}`;
    return status === 429 || status >= 500 ? new QdrantUnavailableError(message, { cause: error }) : new QdrantRequestError(message, status, { cause: error });
  }
  return new QdrantUnavailableError(`Qdrant at ${url} is unreachable (${what}): ${networkDetail(error)}`, { cause: error });
}

function serverDetail(error: unknown): string {
  const { statusText, data } = error as { statusText?: unknown; data?: { status?: { error?: unknown } } };
  const detail = data?.status?.error;
  return [typeof statusText === "string" ? statusText : "", typeof detail === "string" ? detail : ""].filter(Boolean).join(": ");
}

function networkDetail(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const reason = typeof cause?.code === "string" ? cause.code : typeof cause?.message === "string" ? cause.message : "";
  return reason ? `${error.message} (${reason})` : error.message;
}
