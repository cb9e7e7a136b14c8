/**
 * A checkpoint file that must not be used: missing, unreadable, torn or
 * corrupt. Recovery reports it and falls back to an older committed one.
 */
export class CheckpointInvalidError extends Error {
  constructor(
    readonly fileName: string,
    /** Short and human, for the recovery report: "missing", "SHA-256 mismatch …". */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`checkpoint ${fileName} is invalid: ${reason}`, options);
    this.name = "CheckpointInvalidError";
  }
}

/** The step of a checkpoint write that failed; the file is not usable and must not be committed. */
export type CheckpointWriteStep = "compress" | "create" | "write" | "sync" | "rename" | "syncDir";

export class CheckpointWriteError extends Error {
  constructor(
    readonly fileName: string,
    readonly step: CheckpointWriteStep,
    options: { cause: unknown },
  ) {
    super(`writing checkpoint ${fileName} failed at ${step}: ${describe(options.cause)}`, options);
    this.name = "CheckpointWriteError";
  }
}

/** The bytes given to the codec are not valid gzip; `code` is zlib's (Z_DATA_ERROR, Z_BUF_ERROR…). */
export class CodecDataError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "CodecDataError";
  }
}

/**
 * The codec could not do the work at all (closed, or its worker died). Not a
 * verdict on any checkpoint, so recovery must not treat it as one.
 */
export class CodecUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CodecUnavailableError";
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
