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
