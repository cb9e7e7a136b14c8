import { FailedPreconditionError, InvalidArgumentError, UnavailableError, type FieldViolation } from "@t4dm/rpc";
import { EmbeddingRejectedError, EmbeddingUnavailableError, type Embedder } from "./embedder.js";

/**
 * Embeds the texts that came without a caller-made vector, in one call to the
 * provider. A text with nothing to embed (a zero vector) is the caller's
 * mistake; a provider outage is UNAVAILABLE, and its URL stays in the log.
 */
export async function embedMissing(
  embedder: Embedder,
  items: readonly { embedding?: Float32Array; text: string; field: string }[],
): Promise<Float32Array[]> {
  const missing = items.map((item, i) => ({ item, i })).filter(({ item }) => item.embedding === undefined);
  let vectors: Float32Array[];
  try {
    vectors = await embedder.embed(missing.map(({ item }) => item.text));
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
  const violations: FieldViolation[] = [];
  missing.forEach(({ item, i }, k) => {
    const vector = vectors[k]!;
    if (vector.every((x) => x === 0)) violations.push({ field: item.field, description: "has no words to embed; send an embedding with it" });
    out[i] = vector;
  });
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  return out as Float32Array[];
}
