import { loadConfig, type Config } from "./config.js";
import { ConfigError } from "./config-error.js";

/**
 * Loads the configuration, or stops the process with exit code 2 and one
 * line on stderr naming each bad variable (no logger exists yet).
 */
export function loadConfigOrExit(service: string): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${service}: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}
