import type { DocumentTerms } from "@t4dm/learning";

/**
 * How often `term` occurs in `terms`, a row's lexical terms joined by single
 * spaces. BM25 needs only the query's terms of each matching row; finding
 * them in place spares splitting every row into a map of all its terms
 * (a common term matches thousands of rows in a large namespace).
 */
export function termFrequency(terms: string, term: string): number {
  let count = 0;
  for (let at = terms.indexOf(term); at !== -1; at = terms.indexOf(term, at + term.length)) {
    const end = at + term.length;
    if ((at === 0 || terms.charCodeAt(at - 1) === 32) && (end === terms.length || terms.charCodeAt(end) === 32)) count += 1;
  }
  return count;
}

/** A row's counts of the query's terms only (all BM25 reads), without splitting the whole row. */
export function queryTermCounts(terms: string, length: number, queryTerms: readonly string[]): DocumentTerms {
  const counts = new Map<string, number>();
  if (length > 0) {
    for (const term of queryTerms) {
      const tf = termFrequency(terms, term);
      if (tf > 0) counts.set(term, tf);
    }
  }
  return { length, counts };
}
