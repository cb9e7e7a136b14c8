/** Where the commands write. `out` may return a promise so a long listing waits for a slow pipe. */
export interface CliOutput {
  /** A result line, on stdout. */
  out(line: string): Promise<void> | void;
  /** A diagnostic line, on stderr. */
  err(line: string): void;
}
