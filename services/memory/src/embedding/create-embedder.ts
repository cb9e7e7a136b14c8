import { BuiltinEmbedder } from "./builtin-embedder.js";
import type { Embedder } from "./embedder.js";
import { HttpEmbedder } from "./http-embedder.js";

export interface EmbedderSettings {
  /** T4DM_EMBEDDING_URL; unset or empty means the built-in embedder. */
  url?: string;
  model?: string;
  apiKey?: string;
  timeoutMs: number;
  batchSize: number;
  /** The data directory's dimension (the recovered state's, not only the configured one). */
  dimensions: number;
}

/**
 * The embedder these settings describe: an HttpEmbedder when a URL is set,
 * else the built-in one. Contacts nothing; call `probe()` on an HttpEmbedder
 * at start-up to check the provider's dimension.
 */
export function createEmbedder(settings: EmbedderSettings): Embedder {
  if (!settings.url) return new BuiltinEmbedder(settings.dimensions);
  return new HttpEmbedder({
    url: settings.url,
    model: settings.model,
    apiKey: settings.apiKey,
    timeoutMs: settings.timeoutMs,
    batchSize: settings.batchSize,
    dimensions: settings.dimensions,
  });
}
