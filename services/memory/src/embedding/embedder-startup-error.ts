/**
 * The embedder cannot start with these files or this data directory. Start-up stops with exit
 * code 2 before anything is stored; the message says what to do. Retrying will not help.
 */
export abstract class EmbedderStartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

const FIX =
  "run `make model` (tools/model/fetch.sh) to fetch the default all-MiniLM-L6-v2, " +
  "or set T4DM_EMBEDDING_MODEL_DIR to a sentence-transformers ONNX export (model.onnx + tokenizer.json), " +
  "or T4DM_EMBEDDER=hashing";

/** A model file is missing, unreadable, not what the pinned SHA-256 says, or not loadable. */
export class ModelFileError extends EmbedderStartupError {
  constructor(
    readonly file: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`embedding model file ${file} ${problem}; ${FIX}`, options);
  }
}

/** The data directory was written by another embedder, or with vectors of another dimension. */
export class EmbedderMismatchError extends EmbedderStartupError {}
