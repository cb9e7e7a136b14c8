/**
 * The embedding providers, with the HTTP client run against a real HTTP
 * server on 127.0.0.1:0 started by this file.
 *
 * That server speaks the OpenAI embeddings wire protocol (POST /v1/embeddings,
 * `{ model, input }` in, `{ data: [{ embedding, index }] }` out) but it is NOT
 * a model: its vectors are the built-in hashed n-gram embedder's, scaled so
 * they are not unit length, and it can be told to be slow, fail, drop the
 * connection or answer nonsense. These tests prove the client's protocol
 * handling, batching, checks and failure modes. They do not prove that a
 * particular provider (Ollama, TEI, vLLM, OpenAI) accepts our requests; no
 * model server can run on the test machine, so that needs a run against one.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { embedText } from "@t4dm/learning";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BuiltinEmbedder } from "../src/embedding/builtin-embedder.js";
import { createEmbedder } from "../src/embedding/create-embedder.js";
import {
  EmbeddingConfigError,
  EmbeddingRejectedError,
  EmbeddingResponseError,
  EmbeddingUnavailableError,
} from "../src/embedding/embedder.js";
import { embeddingsEndpoint, HttpEmbedder, type HttpEmbedderSettings } from "../src/embedding/http-embedder.js";

const DIM = 32;
/** The server scales its vectors by this, so the client's normalisation shows. */
const SCALE = 3;

interface WireItem {
  object: "embedding";
  embedding: number[];
  index: number;
}

interface Behaviour {
  /** Length of the vectors the server returns. */
  dimensions: number;
  /** Wait this long before answering. */
  delayMs: number;
  /** Answer with this status and body instead of embeddings. */
  fail?: { status: number; body: string };
  /** Destroy the socket, without answering, for this many requests. */
  dropConnections: number;
  /** When set, only `Authorization: Bearer <key>` is served; others get 401. */
  requiredKey?: string;
  /** Send `data` in reverse order (the indexes stay true). */
  reverse: boolean;
  /** Edit the response before it is sent; a returned string is sent as the raw body. */
  mangle?: (data: WireItem[]) => string | void;
}

interface SeenRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

/** An OpenAI-compatible embeddings endpoint with scripted misbehaviour. Not a model. */
class ProtocolServer {
  behaviour: Behaviour = ProtocolServer.defaults();
  requests: SeenRequest[] = [];
  private readonly server: Server = createServer((req, res) => void this.handle(req, res));

  static defaults(): Behaviour {
    return { dimensions: DIM, delayMs: 0, dropConnections: 0, reverse: false };
  }

  get baseUrl(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  reset(): void {
    this.behaviour = ProtocolServer.defaults();
    this.requests = [];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
    }
    this.requests.push({
      method: req.method ?? "",
      url: req.url ?? "",
      authorization: req.headers.authorization,
      contentType: req.headers["content-type"],
      body,
    });
    const b = this.behaviour;

    if (b.dropConnections > 0) {
      b.dropConnections--;
      req.socket.destroy();
      return;
    }
    if (b.delayMs > 0) {
      const waited = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), b.delayMs);
        // The client gave up: stop waiting, nobody will read the answer.
        res.once("close", () => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      if (!waited) return;
    }
    const send = (status: number, text: string): void => {
      res.writeHead(status, { "content-type": "application/json" }).end(text);
    };

    if (req.method !== "POST" || !req.url?.split("?")[0]!.endsWith("/v1/embeddings")) return send(404, JSON.stringify({ error: "Not Found" }));
    if (b.requiredKey !== undefined && req.headers.authorization !== `Bearer ${b.requiredKey}`) {
      return send(401, JSON.stringify({ error: { message: "Incorrect API key provided", type: "invalid_request_error" } }));
    }
    if (b.fail) return send(b.fail.status, b.fail.body);
    const input = (body as { input?: unknown }).input;
    if (!Array.isArray(input) || !input.every((text) => typeof text === "string")) {
      return send(400, JSON.stringify({ error: { message: "input must be an array of strings" } }));
    }
    let data: WireItem[] = input.map((text: string, index) => ({
      object: "embedding",
      embedding: Array.from(embedText(text, b.dimensions), (x) => x * SCALE),
      index,
    }));
    if (b.reverse) data = data.reverse();
    const mangled = b.mangle?.(data);
    const model = (body as { model?: unknown }).model ?? "served-model";
    send(200, mangled ?? JSON.stringify({ object: "list", data, model, usage: { prompt_tokens: 0, total_tokens: 0 } }));
  }
}

const server = new ProtocolServer();
beforeAll(() => server.start());
afterAll(() => server.stop());
beforeEach(() => server.reset());

function embedder(overrides: Partial<HttpEmbedderSettings> = {}): HttpEmbedder {
  return new HttpEmbedder({ url: server.baseUrl, model: "test-model", timeoutMs: 5000, batchSize: 16, dimensions: DIM, ...overrides });
}

function length(vector: Float32Array): number {
  return Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
}

/** The rejection of `promise`, failing the test if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

async function closedPortUrl(): Promise<string> {
  const probe = createServer();
  probe.listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe("HttpEmbedder: the request", () => {
  it("POSTs { model, input } as JSON to /v1/embeddings with the bearer key", async () => {
    const texts = ["the cat sat on the mat", "gradient descent"];
    const vectors = await embedder({ apiKey: "sk-test" }).embed(texts);

    expect(server.requests).toHaveLength(1);
    const [seen] = server.requests;
    expect(seen).toMatchObject({ method: "POST", url: "/v1/embeddings", authorization: "Bearer sk-test" });
    expect(seen!.contentType).toMatch(/^application\/json/);
    expect(seen!.body).toEqual({ model: "test-model", input: texts });
    expect(vectors).toHaveLength(2);
    for (const [i, vector] of vectors.entries()) {
      expect(vector).toBeInstanceOf(Float32Array);
      expect(vector).toHaveLength(DIM);
      // The server sent SCALE× the built-in vector; the client hands back unit length.
      expect(length(vector)).toBeCloseTo(1, 6);
      const expected = embedText(texts[i]!, DIM);
      for (let j = 0; j < DIM; j++) expect(vector[j]).toBeCloseTo(expected[j]!, 6);
    }
  });

  it("sends no Authorization header without a key, and no model field without a model", async () => {
    await embedder({ model: undefined, apiKey: "" }).embed(["hello"]);
    expect(server.requests[0]!.authorization).toBeUndefined();
    expect(server.requests[0]!.body).toEqual({ input: ["hello"] });
  });

  it("adds /v1/embeddings to the base URL without doubling a /v1 that is already there", async () => {
    const cases: [suffix: string, path: string][] = [
      ["", "/v1/embeddings"],
      ["/", "/v1/embeddings"],
      ["/v1", "/v1/embeddings"],
      ["/v1/", "/v1/embeddings"],
      ["/v1/embeddings", "/v1/embeddings"],
      ["/v1/embeddings/", "/v1/embeddings"],
      ["/proxy/ollama", "/proxy/ollama/v1/embeddings"],
      ["/proxy/v1?api-version=2024-06-01", "/proxy/v1/embeddings?api-version=2024-06-01"],
    ];
    for (const [suffix, path] of cases) {
      server.requests = [];
      await embedder({ url: `${server.baseUrl}${suffix}` }).embed(["x"]);
      expect(server.requests[0]!.url, `base URL suffix ${JSON.stringify(suffix)}`).toBe(path);
    }
  });

  it("resolves an empty input to [] without a request", async () => {
    expect(await embedder().embed([])).toEqual([]);
    expect(server.requests).toHaveLength(0);
  });
});

describe("HttpEmbedder: batching and order", () => {
  const texts = ["one", "two", "three", "four", "five", "six", "seven"];

  it("splits the input into requests of at most batchSize texts, in order", async () => {
    const vectors = await embedder({ batchSize: 3 }).embed(texts);
    expect(server.requests.map((r) => (r.body as { input: string[] }).input)).toEqual([
      ["one", "two", "three"],
      ["four", "five", "six"],
      ["seven"],
    ]);
    const expected = await new BuiltinEmbedder(DIM).embed(texts);
    expect(vectors.map((v) => Array.from(v, (x) => x.toFixed(5)))).toEqual(expected.map((v) => Array.from(v, (x) => x.toFixed(5))));
  });

  it("orders the answer by index, not by position in data", async () => {
    server.behaviour.reverse = true;
    const vectors = await embedder({ batchSize: 4 }).embed(texts);
    for (const [i, vector] of vectors.entries()) {
      const expected = embedText(texts[i]!, DIM);
      for (let j = 0; j < DIM; j++) expect(vector[j]).toBeCloseTo(expected[j]!, 6);
    }
  });

  it("stops at the first failing batch", async () => {
    // The second request (the server records it before answering) gets a body with no data.
    server.behaviour.mangle = () => (server.requests.length === 2 ? "{}" : undefined);
    const error = await rejection(embedder({ batchSize: 2 }).embed(texts));
    expect(error).toBeInstanceOf(EmbeddingResponseError);
    expect(server.requests).toHaveLength(2);
  });
});

describe("HttpEmbedder: a provider that is down", () => {
  it("times out with EmbeddingUnavailableError naming the URL", async () => {
    server.behaviour.delayMs = 2000;
    const started = performance.now();
    const error = await rejection(embedder({ timeoutMs: 150 }).embed(["slow"]));
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(EmbeddingUnavailableError);
    expect(error.message).toContain(`${server.baseUrl}/v1/embeddings`);
    expect(error.message).toContain("no answer within 150 ms");
    expect((error as EmbeddingUnavailableError).url).toBe(`${server.baseUrl}/v1/embeddings`);
    expect(elapsed).toBeLessThan(1500);
  });

  it.each([500, 502, 503, 429])("maps HTTP %i to EmbeddingUnavailableError with the provider's message", async (status) => {
    server.behaviour.fail = { status, body: JSON.stringify({ error: "model is loading" }) };
    const error = await rejection(embedder().embed(["x"]));
    expect(error).toBeInstanceOf(EmbeddingUnavailableError);
    expect((error as EmbeddingUnavailableError).status).toBe(status);
    expect(error.message).toBe(`embedding provider at ${server.baseUrl}/v1/embeddings is unavailable: HTTP ${status}: model is loading`);
  });

  it("maps connection refused to EmbeddingUnavailableError", async () => {
    const url = await closedPortUrl();
    const error = await rejection(embedder({ url }).embed(["x"]));
    expect(error).toBeInstanceOf(EmbeddingUnavailableError);
    expect(error.message).toContain(`${url}/v1/embeddings`);
    expect(error.message).toContain("connection refused");
    expect(error.cause).toBeDefined();
  });

  it("retries once, at once, when the connection closes before an answer", async () => {
    server.behaviour.dropConnections = 1;
    const vectors = await embedder().embed(["again"]);
    expect(vectors).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
  });

  it("gives up after that one retry", async () => {
    server.behaviour.dropConnections = 10;
    const error = await rejection(embedder().embed(["again"]));
    expect(error).toBeInstanceOf(EmbeddingUnavailableError);
    expect(error.message).toContain("the connection closed before an answer");
    expect(server.requests).toHaveLength(2);
  });

  it("does not retry a 500", async () => {
    server.behaviour.fail = { status: 500, body: "boom" };
    await rejection(embedder().embed(["x"]));
    expect(server.requests).toHaveLength(1);
  });
});

describe("HttpEmbedder: a provider that refuses", () => {
  it("maps a wrong key (401) to EmbeddingRejectedError without echoing the key", async () => {
    server.behaviour.requiredKey = "sk-right";
    const error = await rejection(embedder({ apiKey: "sk-wrong" }).embed(["x"]));
    expect(error).toBeInstanceOf(EmbeddingRejectedError);
    expect((error as EmbeddingRejectedError).status).toBe(401);
    expect(error.message).toContain("Incorrect API key provided");
    expect(error.message).not.toContain("sk-wrong");
    expect(await embedder({ apiKey: "sk-right" }).embed(["x"])).toHaveLength(1);
  });

  it("maps an input the provider will not take (400) to EmbeddingRejectedError", async () => {
    server.behaviour.fail = { status: 400, body: JSON.stringify({ object: "error", message: "input is longer than the model's context" }) };
    const error = await rejection(embedder().embed(["x"]));
    expect(error).toBeInstanceOf(EmbeddingRejectedError);
    expect(error.message).toContain("input is longer than the model's context");
  });
});

describe("HttpEmbedder: a provider that answers nonsense", () => {
  const cases: [name: string, setup: (b: Behaviour) => void, message: RegExp][] = [
    ["a wrong dimension", (b) => (b.dimensions = DIM / 2), /embedding 0 has 16 dimensions, expected 32/],
    ["one vector too few", (b) => (b.mangle = (data) => void data.pop()), /1 embeddings for 2 inputs/],
    ["one vector too many", (b) => (b.mangle = (data) => void data.push({ ...data[0]!, index: 2 })), /3 embeddings for 2 inputs/],
    ["NaN (serialised by JSON.stringify as null)", (b) => (b.mangle = (data) => void (data[1]!.embedding[3] = Number.NaN)), /data\[1\]\.embedding has null at 3/],
    ["a bare NaN token (as Python's json writes it)", (b) => (b.mangle = (data) => JSON.stringify({ data }).replace(/\d\.\d+/, "NaN")), /not JSON/],
    ["a string instead of numbers", (b) => (b.mangle = (data) => JSON.stringify({ data: data.map((d) => ({ ...d, embedding: "AAAA" })) })), /not an array of numbers/],
    ["an all-zero vector", (b) => (b.mangle = (data) => void data[0]!.embedding.fill(0)), /all zeros/],
    ["a repeated index", (b) => (b.mangle = (data) => void (data[1]!.index = 0)), /index 0 appears twice/],
    ["an index out of range", (b) => (b.mangle = (data) => void (data[1]!.index = 7)), /index is 7, expected 0..1/],
    ["no data array", (b) => (b.mangle = () => JSON.stringify({ embeddings: [] })), /no "data" array/],
    ["HTML with status 200", (b) => (b.mangle = () => "<html>proxy login</html>"), /not JSON: <html>proxy login<\/html>/],
  ];

  it.each(cases)("rejects %s with EmbeddingResponseError", async (_name, setup, message) => {
    setup(server.behaviour);
    const error = await rejection(embedder().embed(["first text", "second text"]));
    expect(error).toBeInstanceOf(EmbeddingResponseError);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(`${server.baseUrl}/v1/embeddings`);
  });
});

describe("HttpEmbedder.probe", () => {
  it("embeds the probe text and returns the provider's dimension", async () => {
    expect(await embedder().probe()).toBe(DIM);
    expect(server.requests.map((r) => r.body)).toEqual([{ model: "test-model", input: ["dimension probe"] }]);
  });

  it("throws EmbeddingConfigError when the provider's dimension is not the configured one", async () => {
    server.behaviour.dimensions = 768;
    const error = await rejection(embedder({ dimensions: 384 }).probe());
    expect(error).toBeInstanceOf(EmbeddingConfigError);
    expect(error.message).toContain("returns 768-dimensional vectors");
    expect(error.message).toContain("this data directory uses 384 (T4DM_EMBEDDING_DIM)");
    expect(error.message).toContain("model test-model");
  });

  it("passes a down provider through as EmbeddingUnavailableError", async () => {
    const error = await rejection(embedder({ url: await closedPortUrl() }).probe());
    expect(error).toBeInstanceOf(EmbeddingUnavailableError);
  });
});

describe("HttpEmbedder.health", () => {
  it("is healthy when the provider answers with the right dimension", async () => {
    const health = await embedder().health();
    expect(health.healthy).toBe(true);
    expect(health.detail).toMatch(/answered 32-dimensional vectors in \d+ ms/);
  });

  it("never throws: down, failing, slow, refusing or mismatched is just unhealthy", async () => {
    const checks: [string, () => Promise<{ healthy: boolean; detail: string }>][] = [
      ["refused", async () => embedder({ url: await closedPortUrl() }).health()],
      ["500", async () => {
        server.behaviour.fail = { status: 500, body: "down" };
        return embedder().health();
      }],
      ["slow", async () => {
        server.behaviour.delayMs = 2000;
        return embedder({ healthTimeoutMs: 100 }).health();
      }],
      ["401", async () => {
        server.behaviour.requiredKey = "sk-right";
        return embedder().health();
      }],
      ["dimension", async () => embedder({ dimensions: 64 }).health()],
    ];
    for (const [name, check] of checks) {
      server.reset();
      const health = await check();
      expect(health.healthy, name).toBe(false);
      expect(health.detail, name).toContain("embedding provider at http://127.0.0.1:");
    }
  });

  it("uses a short deadline of its own, not the request timeout", async () => {
    server.behaviour.delayMs = 2000;
    const started = performance.now();
    const health = await embedder({ timeoutMs: 60_000, healthTimeoutMs: 100 }).health();
    expect(health).toEqual({ healthy: false, detail: expect.stringContaining("no answer within 100 ms") });
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it("shares one probe between concurrent callers", async () => {
    const e = embedder();
    const results = await Promise.all([e.health(), e.health(), e.health()]);
    expect(results.every((r) => r.healthy)).toBe(true);
    expect(server.requests).toHaveLength(1);
  });
});

describe("createEmbedder", () => {
  const base = { timeoutMs: 1000, batchSize: 8, dimensions: DIM };

  it("gives the built-in embedder when no URL is set", async () => {
    for (const url of [undefined, ""]) {
      const e = createEmbedder({ ...base, url });
      expect(e).toBeInstanceOf(BuiltinEmbedder);
      expect(e.name).toBe("builtin");
      expect(e.dimensions).toBe(DIM);
    }
    const e = createEmbedder(base);
    const [words, symbols] = await e.embed(["hello world", "!!! ???"]);
    expect(Array.from(words!)).toEqual(Array.from(embedText("hello world", DIM)));
    expect(length(words!)).toBeCloseTo(1, 6);
    // Symbol-only text stays a zero vector; callers refuse it.
    expect(symbols!.every((x) => x === 0)).toBe(true);
    expect(await e.health()).toEqual({ healthy: true, detail: `built-in hashed n-gram embedder, ${DIM} dimensions` });
  });

  it("gives an HttpEmbedder when a URL is set, and contacts nothing until used", () => {
    const e = createEmbedder({ ...base, url: `${server.baseUrl}/v1`, model: "m", apiKey: "sk-secret" });
    expect(e).toBeInstanceOf(HttpEmbedder);
    expect(e.name).toBe(`http ${server.baseUrl}/v1/embeddings model m`);
    expect(e.name).not.toContain("sk-secret");
    expect(server.requests).toHaveLength(0);
  });

  it("refuses settings it cannot run with, as EmbeddingConfigError", () => {
    const bad: [string, Partial<Parameters<typeof createEmbedder>[0]>][] = [
      ["not a URL", { url: "localhost:11434" }],
      ["not http", { url: "ftp://127.0.0.1/" }],
      ["credentials in the URL", { url: "http://user:hunter2@127.0.0.1:1/" }],
      ["batch size 0", { url: server.baseUrl, batchSize: 0 }],
      ["timeout 0", { url: server.baseUrl, timeoutMs: 0 }],
    ];
    for (const [name, settings] of bad) {
      let thrown: unknown;
      try {
        createEmbedder({ ...base, ...settings });
      } catch (error) {
        thrown = error;
      }
      expect(thrown, name).toBeInstanceOf(EmbeddingConfigError);
      expect((thrown as Error).message, name).not.toContain("hunter2");
    }
  });
});

describe("embeddingsEndpoint", () => {
  it("keeps https and the host as given", () => {
    expect(embeddingsEndpoint("https://api.openai.com/v1").href).toBe("https://api.openai.com/v1/embeddings");
    expect(embeddingsEndpoint("http://localhost:11434").href).toBe("http://localhost:11434/v1/embeddings");
  });
});
