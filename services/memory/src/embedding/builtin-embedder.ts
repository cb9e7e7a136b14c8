import { embedText } from "@t4dm/learning";
import type { EmbeddedText, Embedder, EmbedderHealth } from "./embedder.js";

/**
 * The built-in embedder: deterministic feature hashing from @t4dm/learning.
 * No network, no model, the same vector on every machine. Text with no words
 * (only symbols or whitespace) embeds to all zeros, which callers refuse.
 */
export class BuiltinEmbedder implements Embedder {
  readonly name = "builtin";

  constructor(readonly dimensions: number) {
    // embedText checks too, but only on the first call; fail at construction instead.
    if (!Number.isInteger(dimensions) || dimensions < 1) throw new RangeError(`dimensions must be a positive integer, got ${dimensions}`);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((text) => embedText(text, this.dimensions));
  }

  async embedDetailed(texts: readonly string[]): Promise<EmbeddedText[]> {
    return (await this.embed(texts)).map((vector) => ({ vector, truncated: false }));
  }

  async health(): Promise<EmbedderHealth> {
    return { healthy: true, detail: `built-in hashed n-gram embedder, ${this.dimensions} dimensions` };
  }
}
