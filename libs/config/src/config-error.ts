/** A setting that cannot be used; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly { variable: string; message: string }[]) {
    super(problems.map((p) => `${p.variable}: ${p.message}`).join("; "));
    this.name = "ConfigError";
  }
}
