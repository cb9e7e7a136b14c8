// @ts-check
/**
 * The exact lexical baseline of bench/retrieval.mjs: Okapi BM25 (k1 = 1.2, b = 0.75) scored
 * over every document of a set, no index, no pruning. Pure.
 *
 * Tokenizer: Unicode NFKC, lower case, then maximal runs of letters and digits (\p{L}\p{N});
 * everything else separates tokens. No stemming and no stop words, so the baseline is exactly
 * reproducible from this file.
 */

export const K1 = 1.2;
export const B = 0.75;

/** @param {string} text */
export function tokenize(text) {
  return text.normalize("NFKC").toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * @param {readonly string[]} documents
 * @returns {(query: string) => number[]} the BM25 score of every document, in document order
 */
export function bm25Scorer(documents) {
  const termCounts = documents.map((text) => {
    /** @type {Map<string, number>} */
    const counts = new Map();
    for (const token of tokenize(text)) counts.set(token, (counts.get(token) ?? 0) + 1);
    return counts;
  });
  const lengths = documents.map((text) => tokenize(text).length);
  const averageLength = lengths.reduce((a, b) => a + b, 0) / Math.max(1, lengths.length);
  /** @type {Map<string, number>} */
  const documentFrequency = new Map();
  for (const counts of termCounts) for (const term of counts.keys()) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
  const n = documents.length;
  // Lucene's non-negative idf: a term in every document still counts a little, never negatively.
  const idf = (/** @type {string} */ term) => {
    const df = documentFrequency.get(term) ?? 0;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  };
  return (query) => {
    const terms = tokenize(query);
    return termCounts.map((counts, i) => {
      const norm = K1 * (1 - B + (B * (lengths[i] ?? 0)) / (averageLength || 1));
      let score = 0;
      for (const term of terms) {
        const tf = counts.get(term) ?? 0;
        if (tf > 0) score += (idf(term) * tf * (K1 + 1)) / (tf + norm);
      }
      return score;
    });
  };
}
