import path from "node:path";
import { envReader } from "./env-reader.js";
import { fileURLToPath } from "node:url";
import { ConfigError } from "./config-error.js";
import {
  type ListenAddress,
  parseChoice,
  parseHostPort,
  parseInteger,
  parseBoolean,
  parseOptionalUrl,
  parseSidecarAddress,
} from "./parsers.js";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const WAL_SYNC_MODES = ["fsync", "fdatasync", "none"] as const;
export type WalSyncMode = (typeof WAL_SYNC_MODES)[number];

/** keep: what Remember acknowledged stays until the caller ends it; learned: the gate and buffer may discard (see RetentionMode). */
export const RETENTION_MODES = ["keep", "learned"] as const;
export type RetentionDefault = (typeof RETENTION_MODES)[number];

/** namespace: each namespace's feedback trains only its own ranking (default); shared: every namespace's feedback trains one scorer for all. */
export const LEARNING_SCOPES = ["namespace", "shared"] as const;
export type LearningScope = (typeof LEARNING_SCOPES)[number];

/** minilm: the local sentence model (default); hashing: feature hashing, no model; http: an OpenAI-compatible endpoint. */
export const EMBEDDERS = ["minilm", "hashing", "http"] as const;
export type EmbedderKind = (typeof EMBEDDERS)[number];

/** Where `make model` puts the default model: <install root>/.cache/models/all-MiniLM-L6-v2 (from libs/config/dist). */
export const DEFAULT_EMBEDDING_MODEL_DIR = fileURLToPath(new URL("../../../.cache/models/all-MiniLM-L6-v2", import.meta.url));

/** Every T4DM setting, typed and validated. Both processes read this. */
export interface Config {
  /** Absolute path of the data directory (wal/, checkpoints/, store/). */
  readonly dataDir: string;
  readonly grpcAddr: ListenAddress;
  readonly httpAddr: ListenAddress;
  /** Where the sidecar listens and the memory service connects. */
  readonly sidecarAddr: ListenAddress;
  readonly logLevel: LogLevel;
  readonly walSyncMode: WalSyncMode;
  /** Seconds between periodic checkpoints. */
  readonly checkpointIntervalSeconds: number;
  readonly walSegmentBytes: number;
  readonly walMaxSegments: number;
  /** How many checkpoints the sidecar keeps. */
  readonly checkpointKeep: number;
  readonly bufferCapacity: number;
  /** Retention mode of namespaces without a policy of their own (admin SetRetentionPolicy). */
  readonly retentionDefault: RetentionDefault;
  /** Whose feedback trains whose ranking; sharing across namespaces is an explicit operator choice. */
  readonly learningScope: LearningScope;
  /** At most this many namespaces keep learned ranking of their own (least recently updated dropped first). */
  readonly learningMaxNamespaces: number;
  readonly embeddingDim: number;
  /** Which embedder turns text into vectors; fixed per data directory (store/embedder.json). */
  readonly embedder: EmbedderKind;
  /** The minilm embedder's model: a sentence-transformers ONNX export with model.onnx and tokenizer.json. */
  readonly embeddingModelDir: string;
  /** Worker threads that run the minilm model (each one model copy, one intra-op thread). */
  readonly embeddingWorkers: number;
  /** Applied records between count-triggered checkpoints. */
  readonly checkpointEveryRecords: number;
  /** Seeds the learning state's PRNG on a fresh WAL. */
  readonly seed: number;
  readonly maxContentBytes: number;
  readonly maxMetadataEntries: number;
  readonly maxBatchSize: number;
  readonly maxTopK: number;
  /** OpenAI-compatible embeddings endpoint (T4DM_EMBEDDER=http, which it implies when T4DM_EMBEDDER is unset). */
  readonly embeddingUrl: string | undefined;
  readonly embeddingModel: string | undefined;
  /** A secret: never logged. */
  readonly embeddingApiKey: string | undefined;
  readonly embeddingTimeoutMs: number;
  readonly embeddingBatch: number;
  /** JSON file of hashed API keys; unset means development mode (loopback only). */
  readonly apiKeysFile: string | undefined;
  /** Allow a non-loopback address without keys (never in production). */
  readonly allowInsecure: boolean;
  /** TLS for the public gRPC and HTTP ports. */
  readonly tlsCertFile: string | undefined;
  readonly tlsKeyFile: string | undefined;
  /** When set, clients must present a certificate signed by this CA. */
  readonly tlsClientCaFile: string | undefined;
  readonly maxMessageBytes: number;
  readonly maxInFlight: number;
  /** Requests per second per key (0 = unlimited). */
  readonly rateLimitPerKey: number;
  /** Promoted memories that may wait for their long-term store before Remember waits too; 0: no limit. */
  readonly storeBacklogLimit: number;
  /** How long a Remember waits for the store backlog to fall below its limit before RESOURCE_EXHAUSTED. */
  readonly storeBacklogWaitSeconds: number;
  /** Whether GET /status needs no key (it always needs one with keys configured unless this is set). */
  readonly httpStatusPublic: boolean;
  readonly httpMetricsPublic: boolean;
  /** Shared secret for a loopback-TCP sidecar (unix sockets rely on file mode 0600). */
  readonly sidecarToken: string | undefined;
  /** Qdrant for episodic and working memory; unset means the embedded store. */
  readonly qdrantUrl: string | undefined;
  /** A secret: never logged. */
  readonly qdrantApiKey: string | undefined;
  /** Neo4j for semantic and procedural memory; unset means the embedded store. */
  readonly neo4jUri: string | undefined;
  readonly neo4jUser: string | undefined;
  /** A secret: never logged. */
  readonly neo4jPassword: string | undefined;
  readonly neo4jDatabase: string | undefined;
  /** Seconds a graceful shutdown waits for in-flight calls. */
  readonly drainTimeoutSeconds: number;
  /** Seconds a graceful shutdown gives its final checkpoint (SYSTEM_SHUTDOWN gets at most 10 of them). */
  readonly shutdownCheckpointSeconds: number;
  /** Seconds the sidecar waits, on SIGTERM, for the memory service to finish (final checkpoint). */
  readonly sidecarShutdownGraceSeconds: number;
}

type Env = Readonly<Record<string, string | undefined>>;

const MiB = 1024 * 1024;

/**
 * Reads the configuration from the environment. Throws a ConfigError naming
 * every variable with a bad value, so start-up can stop with one clear line.
 */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const { read, problems } = envReader(env);

  const dataDir = read("T4DM_DATA_DIR", "./data", (raw) => path.resolve(cwd, raw));
  const config: Config = {
    dataDir,
    grpcAddr: read("T4DM_GRPC_ADDR", "127.0.0.1:50051", parseHostPort),
    httpAddr: read("T4DM_HTTP_ADDR", "127.0.0.1:8080", parseHostPort),
    sidecarAddr: read("T4DM_SIDECAR_ADDR", `unix:${path.join(dataDir ?? cwd, "sidecar.sock")}`, (raw) =>
      parseSidecarAddress(raw, (p) => path.resolve(cwd, p)),
    ),
    logLevel: read("T4DM_LOG_LEVEL", "info", (raw) => parseChoice(raw, LOG_LEVELS)),
    walSyncMode: read("T4DM_WAL_SYNC_MODE", "fsync", (raw) => parseChoice(raw, WAL_SYNC_MODES)),
    checkpointIntervalSeconds: read("T4DM_CHECKPOINT_INTERVAL", "300", (raw) => parseInteger(raw, 1, 86_400)),
    walSegmentBytes: read("T4DM_WAL_SEGMENT_BYTES", String(64 * MiB), (raw) => parseInteger(raw, 64 * 1024, 1024 * MiB)),
    walMaxSegments: read("T4DM_WAL_MAX_SEGMENTS", "100", (raw) => parseInteger(raw, 2, 100_000)),
    checkpointKeep: read("T4DM_CHECKPOINT_KEEP", "5", (raw) => parseInteger(raw, 1, 100)),
    bufferCapacity: read("T4DM_BUFFER_CAPACITY", "100", (raw) => parseInteger(raw, 1, 1_000_000)),
    retentionDefault: read("T4DM_RETENTION_DEFAULT", "keep", (raw) => parseChoice(raw, RETENTION_MODES)),
    learningScope: read("T4DM_LEARNING_SCOPE", "namespace", (raw) => parseChoice(raw, LEARNING_SCOPES)),
    learningMaxNamespaces: read("T4DM_LEARNING_MAX_NAMESPACES", "10000", (raw) => parseInteger(raw, 1, 1_000_000)),
    embeddingDim: read("T4DM_EMBEDDING_DIM", "384", (raw) => parseInteger(raw, 8, 8192)),
    checkpointEveryRecords: read("T4DM_CHECKPOINT_EVERY_RECORDS", "10000", (raw) => parseInteger(raw, 1, 100_000_000)),
    seed: read("T4DM_SEED", "42", (raw) => parseInteger(raw, 0, 0xffffffff)),
    maxContentBytes: read("T4DM_MAX_CONTENT_BYTES", "65536", (raw) => parseInteger(raw, 1, 16 * MiB)),
    maxMetadataEntries: read("T4DM_MAX_METADATA_ENTRIES", "64", (raw) => parseInteger(raw, 0, 10_000)),
    maxBatchSize: read("T4DM_MAX_BATCH_SIZE", "100", (raw) => parseInteger(raw, 1, 10_000)),
    maxTopK: read("T4DM_MAX_TOP_K", "100", (raw) => parseInteger(raw, 1, 10_000)),
    embeddingUrl: read("T4DM_EMBEDDING_URL", "", (raw) => parseOptionalUrl(raw)),
    // An endpoint alone still means http, as before T4DM_EMBEDDER existed.
    embedder: read("T4DM_EMBEDDER", env.T4DM_EMBEDDING_URL ? "http" : "minilm", (raw) => parseChoice(raw, EMBEDDERS)),
    embeddingModelDir: env.T4DM_EMBEDDING_MODEL_DIR ? path.resolve(cwd, env.T4DM_EMBEDDING_MODEL_DIR) : DEFAULT_EMBEDDING_MODEL_DIR,
    embeddingWorkers: read("T4DM_EMBEDDING_WORKERS", "1", (raw) => parseInteger(raw, 1, 64)),
    embeddingModel: env.T4DM_EMBEDDING_MODEL || undefined,
    embeddingApiKey: env.T4DM_EMBEDDING_API_KEY || undefined,
    embeddingTimeoutMs: read("T4DM_EMBEDDING_TIMEOUT_MS", "10000", (raw) => parseInteger(raw, 100, 600_000)),
    embeddingBatch: read("T4DM_EMBEDDING_BATCH", "32", (raw) => parseInteger(raw, 1, 2048)),
    apiKeysFile: env.T4DM_API_KEYS_FILE ? path.resolve(cwd, env.T4DM_API_KEYS_FILE) : undefined,
    allowInsecure: read("T4DM_ALLOW_INSECURE", "0", parseBoolean),
    tlsCertFile: env.T4DM_TLS_CERT_FILE ? path.resolve(cwd, env.T4DM_TLS_CERT_FILE) : undefined,
    tlsKeyFile: env.T4DM_TLS_KEY_FILE ? path.resolve(cwd, env.T4DM_TLS_KEY_FILE) : undefined,
    tlsClientCaFile: env.T4DM_TLS_CLIENT_CA_FILE ? path.resolve(cwd, env.T4DM_TLS_CLIENT_CA_FILE) : undefined,
    maxMessageBytes: read("T4DM_MAX_MESSAGE_BYTES", String(8 * MiB), (raw) => parseInteger(raw, 64 * 1024, 256 * MiB)),
    maxInFlight: read("T4DM_MAX_IN_FLIGHT", "256", (raw) => parseInteger(raw, 1, 100_000)),
    rateLimitPerKey: read("T4DM_RATE_LIMIT", "500", (raw) => parseInteger(raw, 0, 1_000_000)),
    storeBacklogLimit: read("T4DM_STORE_BACKLOG_LIMIT", "10000", (raw) => parseInteger(raw, 0, 10_000_000)),
    storeBacklogWaitSeconds: read("T4DM_STORE_BACKLOG_WAIT", "10", (raw) => parseInteger(raw, 1, 3600)),
    httpStatusPublic: read("T4DM_HTTP_STATUS_PUBLIC", "0", parseBoolean),
    httpMetricsPublic: read("T4DM_HTTP_METRICS_PUBLIC", "1", parseBoolean),
    sidecarToken: env.T4DM_SIDECAR_TOKEN || undefined,
    qdrantUrl: read("T4DM_QDRANT_URL", "", (raw) => parseOptionalUrl(raw)),
    qdrantApiKey: env.T4DM_QDRANT_API_KEY || undefined,
    neo4jUri: read("T4DM_NEO4J_URI", "", (raw) => {
      const value = raw.trim();
      if (value && !/^(bolt|neo4j)(\+s|\+ssc)?:\/\/[^\s]+$/.test(value)) throw new Error(`expected a bolt:// or neo4j:// URI, got "${raw}"`);
      return value || undefined;
    }),
    neo4jUser: env.T4DM_NEO4J_USER || undefined,
    neo4jPassword: env.T4DM_NEO4J_PASSWORD || undefined,
    neo4jDatabase: env.T4DM_NEO4J_DATABASE || undefined,
    drainTimeoutSeconds: read("T4DM_DRAIN_TIMEOUT", "30", (raw) => parseInteger(raw, 0, 3600)),
    shutdownCheckpointSeconds: read("T4DM_SHUTDOWN_CHECKPOINT_TIMEOUT", "60", (raw) => parseInteger(raw, 1, 3600)),
    sidecarShutdownGraceSeconds: read("T4DM_SIDECAR_SHUTDOWN_GRACE", "90", (raw) => parseInteger(raw, 0, 3600)),
  };
  if (config.tlsCertFile && !config.tlsKeyFile) problems.push({ variable: "T4DM_TLS_KEY_FILE", message: "is required with T4DM_TLS_CERT_FILE" });
  if (config.tlsKeyFile && !config.tlsCertFile) problems.push({ variable: "T4DM_TLS_CERT_FILE", message: "is required with T4DM_TLS_KEY_FILE" });
  if (config.tlsClientCaFile && !config.tlsCertFile) problems.push({ variable: "T4DM_TLS_CLIENT_CA_FILE", message: "needs T4DM_TLS_CERT_FILE and T4DM_TLS_KEY_FILE" });
  if (config.embedder === "http" && !config.embeddingUrl) problems.push({ variable: "T4DM_EMBEDDING_URL", message: "is required with T4DM_EMBEDDER=http" });
  if (config.embedder !== undefined && config.embedder !== "http" && config.embeddingUrl) {
    problems.push({ variable: "T4DM_EMBEDDER", message: `is ${config.embedder}, but T4DM_EMBEDDING_URL is set; set T4DM_EMBEDDER=http or unset the URL` });
  }
  if (config.sidecarAddr?.kind === "tcp" && !config.sidecarToken) {
    problems.push({ variable: "T4DM_SIDECAR_TOKEN", message: "is required when T4DM_SIDECAR_ADDR is a TCP address (a unix socket needs none)" });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
