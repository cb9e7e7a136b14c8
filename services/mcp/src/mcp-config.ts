import path from "node:path";
import {
  ConfigError,
  envReader,
  isLoopback,
  LOG_LEVELS,
  parseBoolean,
  parseChoice,
  parseHostPort,
  parseInteger,
  type ListenAddress,
  type LogLevel,
} from "@t4dm/config";

export const MCP_TRANSPORTS = ["stdio", "http"] as const;
export type McpTransportKind = (typeof MCP_TRANSPORTS)[number];

/** TLS towards the memory service's public port; unset means plaintext. */
export interface MemoryTls {
  /** The CA that signed the memory service's certificate. */
  readonly caFile: string;
  /** A client certificate, for a memory service that requires one. */
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
}

/** Every setting of the MCP server, typed and validated. */
export interface McpConfig {
  readonly transport: McpTransportKind;
  /** The memory service's public gRPC address (`host:port`). */
  readonly memoryAddr: ListenAddress;
  readonly memoryTls: MemoryTls | undefined;
  /** Where the Streamable HTTP transport listens (transport http only). */
  readonly httpAddr: ListenAddress;
  /**
   * Whether the deployment has API keys (T4DM_API_KEYS_FILE, the variable the memory service
   * reads). With keys, every HTTP request must carry a bearer key; without, HTTP binds loopback only.
   */
  readonly keysConfigured: boolean;
  /** Allow a non-loopback HTTP address without keys (never in production), as for the memory service. */
  readonly allowInsecure: boolean;
  /** The key a stdio session forwards (the launching agent's T4DM_API_KEY); a secret, never logged. */
  readonly stdioApiKey: string | undefined;
  /** Deadline of each call to the memory service. */
  readonly callTimeoutMs: number;
  readonly logLevel: LogLevel;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the T4DM_MCP_* settings; throws a ConfigError naming every bad variable. */
export function loadMcpConfig(env: Env = process.env, cwd: string = process.cwd()): McpConfig {
  const { read, problems } = envReader(env);
  const file = (variable: string) => (env[variable] ? path.resolve(cwd, env[variable]!) : undefined);

  const caFile = file("T4DM_MCP_TLS_CA_FILE");
  const certFile = file("T4DM_MCP_TLS_CERT_FILE");
  const keyFile = file("T4DM_MCP_TLS_KEY_FILE");
  const config: McpConfig = {
    transport: read("T4DM_MCP_TRANSPORT", "stdio", (raw) => parseChoice(raw, MCP_TRANSPORTS)),
    memoryAddr: read("T4DM_MCP_MEMORY_ADDR", "127.0.0.1:50051", parseHostPort),
    memoryTls: caFile ? { caFile, certFile, keyFile } : undefined,
    httpAddr: read("T4DM_MCP_HTTP_ADDR", "127.0.0.1:8090", parseHostPort),
    keysConfigured: Boolean(env.T4DM_API_KEYS_FILE),
    allowInsecure: read("T4DM_ALLOW_INSECURE", "0", parseBoolean),
    stdioApiKey: env.T4DM_API_KEY || undefined,
    callTimeoutMs: read("T4DM_MCP_CALL_TIMEOUT_MS", "30000", (raw) => parseInteger(raw, 100, 600_000)),
    logLevel: read("T4DM_LOG_LEVEL", "info", (raw) => parseChoice(raw, LOG_LEVELS)),
  };
  if ((certFile || keyFile) && !caFile) problems.push({ variable: "T4DM_MCP_TLS_CA_FILE", message: "is required with a client certificate" });
  if (Boolean(certFile) !== Boolean(keyFile)) {
    problems.push({ variable: certFile ? "T4DM_MCP_TLS_KEY_FILE" : "T4DM_MCP_TLS_CERT_FILE", message: "a client certificate needs both T4DM_MCP_TLS_CERT_FILE and T4DM_MCP_TLS_KEY_FILE" });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  if (config.transport === "http" && !config.keysConfigured && !isLoopback(config.httpAddr.host!) && !config.allowInsecure) {
    throw new ConfigError([
      {
        variable: "T4DM_MCP_HTTP_ADDR",
        message:
          `refusing to listen on ${config.httpAddr.raw} without API keys; set T4DM_API_KEYS_FILE (as for the memory service), ` +
          "bind 127.0.0.1, or set T4DM_ALLOW_INSECURE=1 to accept the risk",
      },
    ]);
  }
  return config;
}
