import type { walV1 } from "@t4dm/proto";
import type { BufferedItem } from "./buffer.js";
import { lexicalTokens } from "./lexical/tokenizer.js";
import { clamp, cosineFloat32, frozenNorm, norm } from "./vector.js";

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
 * The buffered memory of the namespace that `content` duplicates: the same
 * words (case, accents, punctuation and spacing aside) and an embedding at
 * least DUPLICATE_SIMILARITY close. Similar embeddings alone are not enough:
 * "standup at 3pm" and "standup at 4pm" are close, and a merge keeps only the
 * keeper's wording, so the newer fact would vanish. Only buffered ones: a
 * promoting or stored memory may already be written to its store, which a
 * merge would not reach, so a duplicate of those is remembered as its own memory.
 */
export function nearDuplicate(items: Iterable<BufferedItem>, namespace: string, content: string, embedding: Float32Array): BufferedItem | undefined {
  const queryNorm = norm(embedding);
  const words = wording(content);
  let best: BufferedItem | undefined;
  let bestSimilarity = DUPLICATE_SIMILARITY;
  for (const item of items) {
    // The wording first: remembered per memory, it rules out nearly every item without a cosine.
    if (item.memory.namespace !== namespace || wordingOf(item) !== words) continue;
    const similarity = cosineFloat32(embedding, queryNorm, item.embedding, frozenNorm(item.embedding));
    if (similarity >= bestSimilarity) {
      best = item;
      bestSimilarity = similarity;
    }
  }
  return best;
}

/** Two memories say the same thing in the same words, and their embeddings agree: one may be merged into the other. */
export function duplicates(a: BufferedItem, b: BufferedItem): boolean {
  return wordingOf(a) === wordingOf(b) && cosineFloat32(a.embedding, frozenNorm(a.embedding), b.embedding, frozenNorm(b.embedding)) >= DUPLICATE_SIMILARITY;
}

/**
 * A buffered memory's wording, remembered by the memory record's identity
 * (records are never changed in place: a merge or re-embed replaces them).
 */
const wordings = new WeakMap<object, string>();
function wordingOf(item: BufferedItem): string {
  let words = wordings.get(item.memory);
  if (words === undefined) {
    words = wording(item.memory.content);
    wordings.set(item.memory, words);
  }
  return words;
}

/** The words of a text as the lexical index folds them, in order. */
function wording(text: string): string {
  return lexicalTokens(text).join(" ");
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
