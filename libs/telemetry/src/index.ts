export { createLogger } from "./logger.js";
export type { Logger, LoggerOptions, LogFields, LogLevel } from "./logger.js";
