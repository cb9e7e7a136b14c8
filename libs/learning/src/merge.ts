import type { walV1 } from "@t4dm/proto";
import type { BufferedItem } from "./buffer.js";
import { clamp, cosineWithNorms, frozenNorm, norm } from "./vector.js";

/** Memories at least this similar (cosine) are near-duplicates: one is merged into the other. */
export const DUPLICATE_SIMILARITY = 0.95;
/** Evidence is bounded as everywhere else in the buffer. */
const MAX_EVIDENCE = 4;

/** What a merge leaves the keeper with. */
export interface MergedValues {
  metadata: Record<string, unknown>;
  importance: number;
  evidence: number;
}

/**
 * Two memories' values combined: every metadata key of both (the newer
 * memory's value wins where both have one: it is the caller's latest word),
 * the higher importance, the evidence added up (bounded). Nothing either
 * side said is dropped but a superseded value of the same key.
 */
export function combine(older: MergedValues, newer: MergedValues): MergedValues {
  return {
    metadata: { ...older.metadata, ...newer.metadata },
    importance: Math.fround(Math.max(older.importance, newer.importance)),
    evidence: Math.fround(clamp(older.evidence + newer.evidence, 0, MAX_EVIDENCE)),
  };
}

export function valuesOf(item: BufferedItem): MergedValues {
  return { metadata: item.memory.metadata, importance: item.memory.importance, evidence: item.evidence };
}

/**
 * The buffered memory of the namespace most similar to `embedding`, if it
 * is a near-duplicate. Only buffered ones: a promoting or stored memory may
 * already be written to its store, which a merge would not reach, so a
 * near-duplicate of those is remembered as its own memory.
 */
export function nearDuplicate(items: Iterable<BufferedItem>, namespace: string, embedding: Float32Array): BufferedItem | undefined {
  const queryNorm = norm(embedding);
  let best: BufferedItem | undefined;
  let bestSimilarity = DUPLICATE_SIMILARITY;
  for (const item of items) {
    if (item.memory.namespace !== namespace) continue;
    const similarity = cosineWithNorms(embedding, queryNorm, item.embedding, frozenNorm(item.embedding));
    if (similarity >= bestSimilarity) {
      best = item;
      bestSimilarity = similarity;
    }
  }
  return best;
}

/** The MEMORY_MERGE record setting the keeper's combined values. */
export function mergeRecord(keeper: BufferedItem, values: MergedValues, extra: Partial<walV1.MemoryMerge>): walV1.MemoryMerge {
  return {
    namespace: keeper.memory.namespace,
    intoId: keeper.memory.id,
    mergedId: "",
    metadata: values.metadata,
    importance: values.importance,
    evidence: values.evidence,
    requestId: "",
    requestBodySha256: new Uint8Array(0),
    ...extra,
  };
}
