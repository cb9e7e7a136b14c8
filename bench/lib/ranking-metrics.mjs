// @ts-check
/** recall@k and MRR@k of ranked document ids against labelled evidence. Pure. */

/**
 * Indices of the k highest scores, best first; ties go to the lower index so runs repeat exactly.
 * @param {ArrayLike<number>} scores
 * @param {number} k
 */
export function topK(scores, k) {
  return Array.from({ length: scores.length }, (_, i) => i)
    .sort((a, b) => (scores[b] ?? 0) - (scores[a] ?? 0) || a - b)
    .slice(0, k);
}

/**
 * Share of the relevant ids found in the first k of the ranking.
 * @param {readonly string[]} ranked
 * @param {ReadonlySet<string>} relevant
 * @param {number} k
 */
export function recallAt(ranked, relevant, k) {
  if (relevant.size === 0) return NaN;
  const found = new Set(ranked.slice(0, k).filter((id) => relevant.has(id)));
  return found.size / relevant.size;
}

/**
 * 1 / rank of the first relevant id within the first k, else 0.
 * @param {readonly string[]} ranked
 * @param {ReadonlySet<string>} relevant
 * @param {number} k
 */
export function reciprocalRankAt(ranked, relevant, k) {
  const at = ranked.slice(0, k).findIndex((id) => relevant.has(id));
  return at < 0 ? 0 : 1 / (at + 1);
}

/**
 * Mean recall@5, recall@10 and MRR@10 over queries.
 * @param {{ ranked: readonly string[], relevant: ReadonlySet<string> }[]} results
 */
export function scoreRankings(results) {
  const mean = (/** @type {number[]} */ xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    recallAt5: mean(results.map((r) => recallAt(r.ranked, r.relevant, 5))),
    recallAt10: mean(results.map((r) => recallAt(r.ranked, r.relevant, 10))),
    mrrAt10: mean(results.map((r) => reciprocalRankAt(r.ranked, r.relevant, 10))),
    queries: results.length,
  };
}
