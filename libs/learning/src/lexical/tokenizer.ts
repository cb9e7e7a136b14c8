/**
 * The one tokenizer of lexical search: the buffer's BM25, the embedded
 * store's FTS5 index and Qdrant's sparse vectors all see the terms this
 * module makes, so a word matches (and counts) the same everywhere.
 *
 * Terms are what SQLite FTS5's `unicode61 remove_diacritics 2` tokenizer
 * makes (runs of letters, digits and private-use characters, lower-cased,
 * diacritics folded: "Café" → "cafe"), minus English stop words. The store
 * indexes these terms already joined by spaces, so FTS5's own folding is a
 * no-op on them and cannot drift from this code.
 *
 * Stop words rather than Porter stemming: stemming needs the same stemmer
 * on both sides (FTS5's `porter` has no twin in our dependencies), it merges
 * rare identifiers the caller asked for by exact spelling ("logging" →
 * "log"), and the semantic side already covers word forms. Dropping stop
 * words keeps "what does Alice have" from matching every memory that says
 * "have".
 */

// unicode61's default token characters: letters, numbers, private use.
const TOKEN = /[\p{L}\p{N}\p{Co}]+/gu;
const MARKS = /\p{M}/gu;

/** Function words that carry no topic; queries made only of these have no lexical terms. */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    "a about above after again against all am an and any are as at be because been before being below between both but by " +
    "can could did do does doing done down during each few for from further had has have having he her here hers herself him " +
    "himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other our " +
    "ours ourselves out over own same she should so some such than that the their theirs them themselves then there these they " +
    "this those through to too under until up very was we were what when where which while who whom why will with would you " +
    "your yours yourself yourselves"
  ).split(" "),
);

/** Every token of `text`, in order, folded as FTS5's unicode61 (remove_diacritics 2) folds it. */
export function lexicalTokens(text: string): string[] {
  return text.normalize("NFKD").replace(MARKS, "").toLowerCase().match(TOKEN) ?? [];
}

/** The tokens that count for lexical search: every token but stop words, in order, repeats kept. */
export function lexicalTerms(text: string): string[] {
  return lexicalTokens(text).filter((token) => !STOP_WORDS.has(token));
}

/** A query's distinct terms, in first-occurrence order. */
export function queryTerms(text: string): string[] {
  return [...new Set(lexicalTerms(text))];
}

/** What BM25 needs from one document. */
export interface DocumentTerms {
  /** Number of terms (stop words excluded). */
  length: number;
  counts: ReadonlyMap<string, number>;
}

export function documentTerms(text: string): DocumentTerms {
  const terms = lexicalTerms(text);
  const counts = new Map<string, number>();
  for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
  return { length: terms.length, counts };
}
