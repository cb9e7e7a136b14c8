export { DEFAULT_EMBEDDING_MODEL_DIR, EMBEDDERS, loadConfig, LOG_LEVELS, RETENTION_MODES, WAL_SYNC_MODES } from "./config.js";
export type { Config, EmbedderKind, LogLevel, RetentionDefault, WalSyncMode } from "./config.js";
export { ConfigError } from "./config-error.js";
export { isLoopback, parseBoolean, parseChoice, parseHostPort, parseInteger } from "./parsers.js";
export type { ListenAddress } from "./parsers.js";
export { loadConfigOrExit } from "./load-or-exit.js";
export { envReader } from "./env-reader.js";
export type { ConfigProblem } from "./env-reader.js";
