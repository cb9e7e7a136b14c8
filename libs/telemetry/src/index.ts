export { createLogger } from "./logger.js";
export type { Logger, LoggerOptions, LogFields, LogLevel } from "./logger.js";
export { createMetrics } from "./metrics.js";
export type { Metrics } from "./metrics.js";
export { startTracing } from "./tracing.js";
export type { Tracing } from "./tracing.js";
export { notifyReady, notifyStopping, notifyStatus, sdNotify } from "./systemd-notify.js";
export type { NotifyResult, NotifyOptions } from "./systemd-notify.js";
