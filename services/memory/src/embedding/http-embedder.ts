import {
  EmbeddingConfigError,
  EmbeddingRejectedError,
  EmbeddingResponseError,
  EmbeddingUnavailableError,
  type EmbeddedText,
  type Embedder,
  type EmbedderHealth,
} from "./embedder.js";

export interface HttpEmbedderSettings {
  /** Base URL of the provider; `/v1/embeddings` is added unless it is already there. */
  url: string;
  /** Sent as `model`; omitted when unset (TEI and vLLM then use the one model they serve). */
  model?: string;
  /** Sent as `Authorization: Bearer …` when set. Never logged or put in an error message. */
  apiKey?: string;
  /** Deadline for one request (one batch), including reading the answer. */
  timeoutMs: number;
  /** At most this many texts per request. */
  batchSize: number;
  /** The dimension of this data directory; every vector must have it. */
  dimensions: number;
  /** Deadline for the probe behind `health()`; default min(timeoutMs, 2000). */
  healthTimeoutMs?: number;
}

const PROBE_TEXT = "dimension probe";
const DEFAULT_HEALTH_TIMEOUT_MS = 2000;
const ERROR_SNIPPET_CHARS = 200;
/** Socket-level codes meaning the connection died before any answer came back. */
const CONNECTION_RESET_CODES = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);

/**
 * An OpenAI-compatible embeddings client (`POST /v1/embeddings`), which
 * Ollama, TEI, vLLM and OpenAI all speak. Vectors come back unit length and
 * checked: the right count, the right dimension, finite, not all zero.
 */
export class HttpEmbedder implements Embedder {
  readonly name: string;
  readonly dimensions: number;
  /** The endpoint without credentials or query, for logs and error messages. */
  readonly url: string;
  private readonly endpoint: URL;
  private readonly model: string | undefined;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;
  private readonly batchSize: number;
  private readonly healthTimeoutMs: number;
  private healthInFlight: Promise<EmbedderHealth> | undefined;

  constructor(settings: HttpEmbedderSettings) {
    this.endpoint = embeddingsEndpoint(settings.url);
    this.url = displayUrl(this.endpoint);
    this.model = settings.model || undefined;
    this.apiKey = settings.apiKey || undefined;
    this.timeoutMs = settings.timeoutMs;
    this.batchSize = settings.batchSize;
    this.dimensions = settings.dimensions;
    this.healthTimeoutMs = settings.healthTimeoutMs ?? Math.min(settings.timeoutMs, DEFAULT_HEALTH_TIMEOUT_MS);
    for (const [setting, value] of Object.entries({
      timeoutMs: this.timeoutMs,
      batchSize: this.batchSize,
      dimensions: this.dimensions,
      healthTimeoutMs: this.healthTimeoutMs,
    })) {
      if (!Number.isInteger(value) || value < 1) throw new EmbeddingConfigError(this.url, `${setting} must be a positive integer, got ${value}`);
    }
    this.name = `http ${this.url}${this.model ? ` model ${this.model}` : ""}`;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    // Batches go one after another: local providers run one batch at a time
    // anyway, and parallel requests would only queue there while each one's
    // timeout ran. The batch size is the throughput knob.
    for (let start = 0; start < texts.length; start += this.batchSize) {
      const vectors = await this.request(texts.slice(start, start + this.batchSize), this.timeoutMs);
      for (const [i, vector] of vectors.entries()) {
        if (vector.length !== this.dimensions) {
          throw new EmbeddingResponseError(this.url, `embedding ${start + i} has ${vector.length} dimensions, expected ${this.dimensions}`);
        }
        out.push(vector);
      }
    }
    return out;
  }

  /** The provider does not say whether it cut a text, so `truncated` is always false. */
  async embedDetailed(texts: readonly string[]): Promise<EmbeddedText[]> {
    return (await this.embed(texts)).map((vector) => ({ vector, truncated: false }));
  }

  /**
   * For start-up: embeds one short text and returns the provider's real
   * dimension. Throws EmbeddingConfigError when it is not `dimensions`, since
   * vectors of another length cannot share this data directory.
   */
  async probe(timeoutMs: number = this.timeoutMs): Promise<number> {
    const [vector] = await this.request([PROBE_TEXT], timeoutMs);
    const actual = vector!.length;
    if (actual !== this.dimensions) {
      throw new EmbeddingConfigError(
        this.url,
        `embedding provider at ${this.url}${this.model ? ` (model ${this.model})` : ""} returns ${actual}-dimensional vectors, ` +
          `but this data directory uses ${this.dimensions} (T4DM_EMBEDDING_DIM); ` +
          `choose a model with ${this.dimensions} dimensions or start from a new data directory`,
      );
    }
    return actual;
  }

  /** Probes with a short deadline; concurrent callers share one probe. */
  health(): Promise<EmbedderHealth> {
    this.healthInFlight ??= this.checkHealth().finally(() => {
      this.healthInFlight = undefined;
    });
    return this.healthInFlight;
  }

  private async checkHealth(): Promise<EmbedderHealth> {
    const started = performance.now();
    try {
      const dimensions = await this.probe(this.healthTimeoutMs);
      const ms = Math.round(performance.now() - started);
      return { healthy: true, detail: `${this.name} answered ${dimensions}-dimensional vectors in ${ms} ms` };
    } catch (error) {
      return { healthy: false, detail: error instanceof Error ? error.message : String(error) };
    }
  }

  /** One POST for `input`; returns unit vectors in input order, of whatever length the provider chose. */
  private async request(input: readonly string[], timeoutMs: number): Promise<Float32Array[]> {
    if (input.length === 0) return [];
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    const body = JSON.stringify(this.model ? { model: this.model, input } : { input });
    // One deadline covers the retry too, so a call never takes longer than timeoutMs.
    const signal = AbortSignal.timeout(timeoutMs);
    const post = () => fetch(this.endpoint, { method: "POST", headers, body, signal });

    let response: Response;
    try {
      response = await post();
    } catch (error) {
      if (signal.aborted || !isConnectionReset(error)) throw this.unavailable(error, signal, timeoutMs);
      // A reset before any answer almost always means a pooled keep-alive
      // socket that the provider had already closed; the request never reached
      // the model, so one immediate retry on a fresh socket is safe (embedding
      // is idempotent anyway) and cheap. Anything else is not retried here:
      // the caller is waiting under its own deadline and retries belong to it.
      try {
        response = await post();
      } catch (retryError) {
        throw this.unavailable(retryError, signal, timeoutMs);
      }
    }

    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw this.unavailable(error, signal, timeoutMs);
    }
    if (!response.ok) {
      const detail = errorDetail(text);
      // 408 and 429 mean "not now" (a busy or rate-limited provider), like 5xx.
      if (response.status >= 500 || response.status === 408 || response.status === 429) {
        throw new EmbeddingUnavailableError(this.url, `HTTP ${response.status}${detail ? `: ${detail}` : ""}`, { status: response.status });
      }
      throw new EmbeddingRejectedError(this.url, response.status, detail);
    }
    return this.parse(text, input.length);
  }

  private parse(text: string, count: number): Float32Array[] {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new EmbeddingResponseError(this.url, `the body is not JSON: ${snippet(text)}`);
    }
    const data = isRecord(body) ? body.data : undefined;
    if (!Array.isArray(data)) throw new EmbeddingResponseError(this.url, 'the body has no "data" array');
    if (data.length !== count) throw new EmbeddingResponseError(this.url, `${data.length} embeddings for ${count} inputs`);

    const out = new Array<Float32Array | undefined>(count);
    for (const [position, item] of data.entries()) {
      if (!isRecord(item)) throw new EmbeddingResponseError(this.url, `data[${position}] is not an object`);
      // The protocol has `index`; a server that leaves it out is taken to answer in order.
      const index = item.index ?? position;
      if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= count) {
        throw new EmbeddingResponseError(this.url, `data[${position}].index is ${JSON.stringify(index)}, expected 0..${count - 1}`);
      }
      if (out[index] !== undefined) throw new EmbeddingResponseError(this.url, `index ${index} appears twice`);
      const vector = toUnitVector(item.embedding);
      if (typeof vector === "string") throw new EmbeddingResponseError(this.url, `data[${position}].embedding ${vector}`);
      out[index] = vector;
    }
    const vectors = out as Float32Array[];
    const first = vectors[0]!.length;
    const odd = vectors.findIndex((vector) => vector.length !== first);
    if (odd >= 0) throw new EmbeddingResponseError(this.url, `embeddings differ in length (${first} and ${vectors[odd]!.length})`);
    return vectors;
  }

  private unavailable(error: unknown, signal: AbortSignal, timeoutMs: number): EmbeddingUnavailableError {
    return new EmbeddingUnavailableError(this.url, describeFailure(error, signal, timeoutMs), { cause: error });
  }
}

/**
 * `{base}/v1/embeddings`, without doubling what is already there: the base
 * may be a bare host (Ollama, TEI, vLLM), end in `/v1` (OpenAI's documented
 * base URL) or be the full endpoint. A query string is kept.
 */
export function embeddingsEndpoint(url: string): URL {
  let endpoint: URL;
  try {
    endpoint = new URL(url);
  } catch (error) {
    // The raw text may hold credentials, so it stays out of the message.
    throw new EmbeddingConfigError("", "the embedding URL (T4DM_EMBEDDING_URL) is not a valid URL", { cause: error });
  }
  if (endpoint.protocol !== "http:" && endpoint.protocol !== "https:") {
    throw new EmbeddingConfigError(displayUrl(endpoint), `the embedding URL must be http or https, got ${endpoint.protocol}`);
  }
  if (endpoint.username || endpoint.password) {
    // fetch refuses URLs with credentials; say so now rather than on every request.
    throw new EmbeddingConfigError(displayUrl(endpoint), "the embedding URL must not contain a user or password; set the key in T4DM_EMBEDDING_API_KEY");
  }
  const path = endpoint.pathname.replace(/\/+$/, "");
  if (path.endsWith("/v1/embeddings")) endpoint.pathname = path;
  else if (path.endsWith("/v1")) endpoint.pathname = `${path}/embeddings`;
  else endpoint.pathname = `${path}/v1/embeddings`;
  return endpoint;
}

/** Origin and path only: no user, password or query (any of which may carry a secret). */
function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** A unit-length float32 copy of one `embedding` value, or what is wrong with it. */
function toUnitVector(values: unknown): Float32Array | string {
  if (!Array.isArray(values)) return "is not an array of numbers";
  if (values.length === 0) return "is empty";
  let squares = 0;
  for (const [i, value] of values.entries()) {
    // JSON.stringify writes NaN and Infinity as null.
    if (typeof value !== "number" || !Number.isFinite(value)) return `has ${JSON.stringify(value)} at ${i}, not a finite number`;
    squares += value * value;
  }
  if (!Number.isFinite(squares)) return "has values too large to normalise";
  if (squares === 0) return "is all zeros";
  const length = Math.sqrt(squares);
  return Float32Array.from(values as number[], (value) => value / length);
}

function describeFailure(error: unknown, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted) return `no answer within ${timeoutMs} ms`;
  const code = errorCode(error);
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused (is it running?)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    case "UND_ERR_CONNECT_TIMEOUT":
      return "could not connect in time";
    case undefined:
      break;
    default:
      if (CONNECTION_RESET_CODES.has(code)) return "the connection closed before an answer";
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const message = cause instanceof Error ? cause.message : String(cause);
  return code ? `${message} (${code})` : message;
}

function isConnectionReset(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && CONNECTION_RESET_CODES.has(code);
}

/** The system or undici code somewhere in fetch's `cause` chain. */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    // Happy-eyeballs connects report every address tried in an AggregateError.
    if (current instanceof AggregateError && current.errors[0] instanceof Error) current = current.errors[0];
    else current = current.cause;
  }
  return undefined;
}

/** The provider's own error message if its body has one (OpenAI, TEI, Ollama, vLLM shapes), else the raw start. */
function errorDetail(text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    if (isRecord(body)) {
      const error = body.error;
      if (isRecord(error) && typeof error.message === "string") return snippet(error.message);
      if (typeof error === "string") return snippet(error);
      if (typeof body.message === "string") return snippet(body.message);
    }
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return snippet(text);
}

function snippet(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > ERROR_SNIPPET_CHARS ? `${line.slice(0, ERROR_SNIPPET_CHARS)}…` : line;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
