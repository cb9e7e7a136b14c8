/**
 * Per-namespace document frequencies of keyword terms, remembered between
 * recalls. Counting a term's matches in a namespace reads every matching
 * row (FTS5's own counts span all namespaces), which at 100k memories was a
 * fifth of a keyword search. A namespace's entries are dropped whenever its
 * rows change, so a remembered count is always the count a query would give.
 * The store is the only writer of its file, which is what makes that true.
 */
export class DocumentFrequencies {
  private readonly byNamespace = new Map<string, Map<string, number>>();
  private entries = 0;

  /** At most `capacity` terms are kept in all; past it everything is dropped and counted afresh. */
  constructor(private readonly capacity = 100_000) {}

  /** The count of each term, asking `count` only for terms not remembered. */
  lookup(namespace: string, terms: readonly string[], count: (term: string) => number): Map<string, number> {
    let known = this.byNamespace.get(namespace);
    const result = new Map<string, number>();
    for (const term of terms) {
      let frequency = known?.get(term);
      if (frequency === undefined) {
        frequency = count(term);
        if (this.entries >= this.capacity) this.clear();
        known = this.byNamespace.get(namespace) ?? new Map<string, number>();
        this.byNamespace.set(namespace, known);
        known.set(term, frequency);
        this.entries += 1;
      }
      result.set(term, frequency);
    }
    return result;
  }

  /** The namespace's rows changed (an insert, update or delete): forget its counts. */
  changed(namespace: string): void {
    const known = this.byNamespace.get(namespace);
    if (!known) return;
    this.entries -= known.size;
    this.byNamespace.delete(namespace);
  }

  clear(): void {
    this.byNamespace.clear();
    this.entries = 0;
  }
}

/** How often `term` occurs in `terms`, a document's lexical terms joined by single spaces. */
export function termFrequency(terms: string, term: string): number {
  let count = 0;
  for (let at = terms.indexOf(term); at !== -1; at = terms.indexOf(term, at + term.length)) {
    const end = at + term.length;
    if ((at === 0 || terms.charCodeAt(at - 1) === 32) && (end === terms.length || terms.charCodeAt(end) === 32)) count += 1;
  }
  return count;
}
