import type { Config, EmbedderKind } from "@t4dm/config";
import { BuiltinEmbedder } from "./builtin-embedder.js";
import { createEmbedder } from "./create-embedder.js";
import type { Embedder } from "./embedder.js";
import type { EmbedderIdentity } from "./embedder-record.js";
import { EmbedderMismatchError } from "./embedder-startup-error.js";
import { HttpEmbedder } from "./http-embedder.js";
import { REEMBED_COMMAND } from "../reembed/reembed-command.js";
import { MiniLmEmbedder } from "./minilm-embedder.js";

/** The algorithm behind the hashing embedder (@t4dm/learning embedText), for the data directory's record. */
const HASHING_MODEL = "hashed-ngrams-v1";

/**
 * The configured embedder, opened in two steps. `openEmbedder` runs first
 * thing at start-up, before the sidecar is contacted: it loads the local
 * model, so a missing or damaged model file stops the process (exit 2) with
 * nothing touched. `forDataDir` runs once the data directory's dimension is
 * known (from the recovered state, or the setting on a fresh one).
 */
export interface EmbedderSource {
  readonly kind: EmbedderKind;
  /** What a data directory of `dimensions` records about this embedder. */
  identity(dimensions: number): EmbedderIdentity;
  /**
   * The embedder for vectors of `dimensions`. Throws EmbedderMismatchError
   * when this embedder cannot make them (a model of another dimension), and
   * for http, the provider's probe errors.
   */
  forDataDir(dimensions: number, fresh: boolean): Promise<Embedder>;
  close(): Promise<void>;
}

export async function openEmbedder(config: Config): Promise<EmbedderSource> {
  switch (config.embedder) {
    case "minilm": {
      const model = await MiniLmEmbedder.load({ modelDir: config.embeddingModelDir, workers: config.embeddingWorkers, maxBatch: config.embeddingBatch });
      return {
        kind: "minilm",
        identity: (dimensions) => ({ embedder: "minilm", model: `sha256:${model.files.modelSha256}`, dimensions }),
        async forDataDir(dimensions, fresh) {
          if (dimensions !== model.dimensions) {
            throw new EmbedderMismatchError(
              `the embedding model ${model.files.modelPath} gives ${model.dimensions}-dimensional vectors, but ` +
                (fresh
                  ? `T4DM_EMBEDDING_DIM is ${dimensions}; unset it (or set it to ${model.dimensions}) for this model`
                  : `this data directory holds ${dimensions}-dimensional ones; use a model of ${dimensions} dimensions, or run \`${REEMBED_COMMAND}\` with this model to re-embed it`),
            );
          }
          return model;
        },
        close: () => model.close(),
      };
    }
    case "hashing":
      return {
        kind: "hashing",
        identity: (dimensions) => ({ embedder: "hashing", model: HASHING_MODEL, dimensions }),
        forDataDir: async (dimensions) => new BuiltinEmbedder(dimensions),
        close: async () => {},
      };
    case "http":
      return {
        kind: "http",
        identity: (dimensions) => ({ embedder: "http", model: config.embeddingModel ?? "(the provider's default model)", dimensions }),
        async forDataDir(dimensions) {
          const embedder = createEmbedder({
            url: config.embeddingUrl,
            model: config.embeddingModel,
            apiKey: config.embeddingApiKey,
            timeoutMs: config.embeddingTimeoutMs,
            batchSize: config.embeddingBatch,
            dimensions,
          });
          if (embedder instanceof HttpEmbedder) await embedder.probe();
          return embedder;
        },
        close: async () => {},
      };
  }
}
