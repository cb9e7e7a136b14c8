/**
 * The embedding seam. Memory content and queries become vectors through one
 * of these: the local sentence model (all-MiniLM-L6-v2 in worker threads, the
 * default), the built-in hashed n-gram embedder (no model, for tiny
 * deployments and fast tests) or an OpenAI-compatible HTTP provider (Ollama,
 * TEI, vLLM, OpenAI). Vectors a client sends itself bypass this seam entirely.
 */
export interface Embedder {
  /** For logs and status: which provider this is. Never contains a secret. */
  readonly name: string;
  /** The length of every vector `embed` returns. Fixed per data directory. */
  readonly dimensions: number;
  /**
   * One vector per text, in the order given, each of length `dimensions` and
   * unit length — or all zeros when the provider finds nothing to embed (the
   * built-in embedder on text with no words). Callers refuse zero vectors.
   * An empty input resolves to an empty array without contacting anything.
   *
   * Rejects with an `EmbeddingError` subclass: `EmbeddingUnavailableError`
   * when the provider cannot be reached or is failing (retry later),
   * `EmbeddingRejectedError` when it refused the request (retrying the same
   * request will not help), `EmbeddingResponseError` when it answered with
   * something that is not a usable set of vectors.
   */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  /** Like `embed`, and says for each text whether words past the model window were left out. */
  embedDetailed(texts: readonly string[]): Promise<EmbeddedText[]>;
  /** A cheap liveness check for /ready and status. Never rejects. */
  health(): Promise<EmbedderHealth>;
}

export interface EmbeddedText {
  vector: Float32Array;
  /**
   * Words past the model window did not reach the vector (the local model
   * keeps 256 word pieces). False when the embedder has no window (hashing)
   * or cannot tell (an HTTP provider truncates, or refuses, on its own terms).
   */
  truncated: boolean;
}

export interface EmbedderHealth {
  healthy: boolean;
  /** One line for operators: what was checked and what happened. */
  detail: string;
}

/** Every embedding failure; `url` is the provider endpoint with any credentials removed. */
export abstract class EmbeddingError extends Error {
  constructor(
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

/** The provider is down, timed out, reset the connection or answered 5xx/429. Worth retrying later. */
export class EmbeddingUnavailableError extends EmbeddingError {
  /** The HTTP status, when the provider answered at all. */
  readonly status: number | undefined;

  constructor(
    url: string,
    readonly reason: string,
    options?: { cause?: unknown; status?: number },
  ) {
    super(url, `embedding provider at ${url} is unavailable: ${reason}`, options);
    this.status = options?.status;
  }
}

/**
 * The provider answered 4xx: a bad key, an unknown model, a wrong path, or an
 * input it will not take (too long). The same request will fail again.
 */
export class EmbeddingRejectedError extends EmbeddingError {
  constructor(
    url: string,
    readonly status: number,
    detail: string,
  ) {
    super(url, `embedding provider at ${url} rejected the request: HTTP ${status}${detail ? `: ${detail}` : ""}`);
  }
}

/** The provider answered 2xx with nonsense: not JSON, wrong count, wrong dimension, NaN, a zero vector. */
export class EmbeddingResponseError extends EmbeddingError {
  constructor(url: string, problem: string) {
    super(url, `embedding provider at ${url} sent an unusable response: ${problem}`);
  }
}

/**
 * The embedder cannot run with these settings: a malformed URL, a batch size
 * below one, or a provider whose vectors have a different dimension than the
 * data directory. Start-up should stop; retrying will not help.
 */
export class EmbeddingConfigError extends EmbeddingError {}
