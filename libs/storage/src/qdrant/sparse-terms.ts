import { BM25_B, BM25_K1, documentTerms } from "@t4dm/learning";

/** The named sparse vector every collection carries for keyword search (IDF modifier: Qdrant weighs terms by rarity). */
export const LEXICAL_VECTOR = "lexical";

/**
 * Document lengths are unknown to Qdrant, so each point's sparse values hold
 * BM25's term-frequency part with the length normalised against this fixed
 * estimate. These values only pick candidates; the store scores them exactly
 * (namespace statistics) from the `lexical_terms` payload.
 */
const ASSUMED_AVERAGE_LENGTH = 24;

export interface SparseVector {
  indices: number[];
  values: number[];
}

/** A term's sparse dimension: FNV-1a, 32 bits. A collision only adds a candidate the exact scoring drops. */
export function termIndex(term: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(term, "utf8")) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/** The shared tokenizer's terms of `content`, as payload (distinct terms, length) and as a sparse vector. */
export function lexicalDocument(content: string): { terms: string[]; length: number; vector: SparseVector } {
  const document = documentTerms(content);
  const norm = 1 - BM25_B + (BM25_B * document.length) / ASSUMED_AVERAGE_LENGTH;
  const byIndex = new Map<number, number>();
  for (const [term, tf] of document.counts) {
    const index = termIndex(term);
    byIndex.set(index, (byIndex.get(index) ?? 0) + (tf * (BM25_K1 + 1)) / (tf + BM25_K1 * norm));
  }
  return { terms: [...document.counts.keys()], length: document.length, vector: sparse(byIndex) };
}

/** Query terms with weight 1 each; Qdrant multiplies in their IDF. */
export function querySparseVector(terms: readonly string[]): SparseVector {
  const byIndex = new Map<number, number>();
  for (const term of terms) byIndex.set(termIndex(term), 1);
  return sparse(byIndex);
}

function sparse(byIndex: Map<number, number>): SparseVector {
  const indices = [...byIndex.keys()].sort((a, b) => a - b);
  return { indices, values: indices.map((index) => byIndex.get(index)!) };
}
