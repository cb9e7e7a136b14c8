/** The command line itself is wrong; the usage text follows the message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The data directory cannot be listed (missing, not a directory, no permission). */
export class DataDirError extends Error {
  constructor(
    readonly dataDir: string,
    options: { cause: unknown },
  ) {
    const code = (options.cause as NodeJS.ErrnoException | undefined)?.code;
    super(`cannot read data directory ${dataDir}${code ? ` (${code})` : ""}`, options);
    this.name = "DataDirError";
  }
}
