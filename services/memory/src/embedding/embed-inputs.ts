import { FailedPreconditionError, InvalidArgumentError, UnavailableError, type FieldViolation } from "@t4dm/rpc";
import { EmbeddingRejectedError, EmbeddingUnavailableError, type EmbeddedText, type Embedder } from "./embedder.js";

/**
 * Embeds the texts that came without a caller-made vector, in one call to the
 * provider. A text with nothing to embed (a zero vector) is the caller's
 * mistake; a provider outage is UNAVAILABLE, and its URL stays in the log.
 */
export async function embedMissing(
  embedder: Embedder,
  items: readonly { embedding?: Float32Array; text: string; field: string }[],
): Promise<Float32Array[]> {
  return (await embedMissingDetailed(embedder, items)).vectors;
}

/**
 * `embedMissing`, and for each item whether its text was cut at the model
 * window (false for caller-made vectors), e.g. for Recall to explain itself.
 */
export async function embedMissingDetailed(
  embedder: Embedder,
  items: readonly { embedding?: Float32Array; text: string; field: string }[],
): Promise<{ vectors: Float32Array[]; truncated: boolean[] }> {
  const missing = items.map((item, i) => ({ item, i })).filter(({ item }) => item.embedding === undefined);
  let embedded: EmbeddedText[];
  try {
    embedded = await embedder.embedDetailed(missing.map(({ item }) => item.text));
  } catch (error) {
    if (error instanceof EmbeddingUnavailableError) {
      throw new UnavailableError("the embedding provider is unavailable; retry later or send embeddings", "EMBEDDING_UNAVAILABLE", { cause: error });
    }
    if (error instanceof EmbeddingRejectedError) {
      throw new FailedPreconditionError("the embedding provider refused the text; send an embedding instead", "EMBEDDING_REJECTED", { cause: error });
    }
    throw error;
  }
  const out = items.map((item) => item.embedding);
  const truncated = items.map(() => false);
  const violations: FieldViolation[] = [];
  missing.forEach(({ item, i }, k) => {
    const { vector, truncated: cut } = embedded[k]!;
    if (vector.every((x) => x === 0)) violations.push({ field: item.field, description: "has no words to embed; send an embedding with it" });
    out[i] = vector;
    truncated[i] = cut;
  });
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  return { vectors: out as Float32Array[], truncated };
}
