import { addCorpora, bm25, documentTerms, EMPTY_CORPUS } from "@t4dm/learning";
import type { LexicalSearchResult, SearchHit } from "@t4dm/storage";

/**
 * Merging the same search of several stores into one candidate list, so
 * recall ranking sees one set whichever store holds a memory. Pure.
 */

/** The k most similar of all lists (cosine is comparable across stores), ties by id; an id seen twice counts once. */
export function mergeVectorHits(lists: readonly (readonly SearchHit[])[], k: number): SearchHit[] {
  return distinct(lists.flat())
    .sort((a, b) => b.similarity - a.similarity || byId(a.memory.id, b.memory.id))
    .slice(0, k);
}

/**
 * The stores' namespaces are disjoint parts of one corpus: their statistics
 * add up, and every hit is scored again against the sum (each store scored
 * it against its own part), then the k best are kept.
 */
export function mergeLexicalResults(results: readonly LexicalSearchResult[], terms: readonly string[], k: number): LexicalSearchResult {
  const corpus = results.map((result) => result.corpus).reduce(addCorpora, EMPTY_CORPUS);
  const distinctTerms = [...new Set(terms)];
  const hits = distinct(results.flatMap((result) => result.hits))
    .map((hit) => ({ memory: hit.memory, bm25: bm25(distinctTerms, documentTerms(hit.memory.content), corpus) }))
    .sort((a, b) => b.bm25 - a.bm25 || byId(a.memory.id, b.memory.id))
    .slice(0, k);
  return { hits, corpus: { ...corpus, documentFrequency: new Map(corpus.documentFrequency) } };
}

function distinct<T extends { memory: { id: string } }>(hits: readonly T[]): T[] {
  const seen = new Set<string>();
  return hits.filter((hit) => !seen.has(hit.memory.id) && seen.add(hit.memory.id));
}

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
