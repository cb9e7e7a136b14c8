/**
 * Fusion of the vector and lexical candidate lists into one base score the
 * scorer's learned correction is added to.
 *
 * Reciprocal rank fusion (Cormack et al., k = 60): each list a candidate is
 * in adds 1 / (k + rank). It needs no calibration between cosine and BM25,
 * whose scales differ per query and per corpus, and it is what Qdrant's
 * Query API fuses with, so the embedded store and production rank alike.
 * The sum is scaled by the best possible value (first in every list used),
 * so fused scores lie in (0, 1]. SEMANTIC mode uses one list, and its base is
 * the cosine itself, as before hybrid recall existed.
 */

export type RecallMode = "hybrid" | "semantic" | "keyword";

export const RRF_K = 60;

/** The two signals every candidate has; bm25 is 0 when no query term occurs in it. */
export interface CandidateSignals {
  id: string;
  cosine: number;
  bm25: number;
}

export interface FusedCandidate {
  /** 1-based rank by cosine; undefined when the mode does not use the vector list. */
  vectorRank?: number;
  /** 1-based rank by BM25 among candidates with a lexical match; undefined when not matched or unused. */
  lexicalRank?: number;
  fused: number;
}

/** Which candidates each mode considers: KEYWORD needs a lexical match. */
export function eligible(mode: RecallMode, signals: CandidateSignals): boolean {
  return mode !== "keyword" || signals.bm25 > 0;
}

/** Ranks in each list and the fused base score, for candidates in input order. */
export function fuse(mode: RecallMode, candidates: readonly CandidateSignals[]): FusedCandidate[] {
  const useVector = mode !== "keyword";
  const useLexical = mode !== "semantic";
  const vectorRanks = useVector ? ranks(candidates, (c) => c.cosine, () => true) : new Map<number, number>();
  const lexicalRanks = useLexical ? ranks(candidates, (c) => c.bm25, (c) => c.bm25 > 0) : new Map<number, number>();
  const lists = (useVector ? 1 : 0) + (useLexical ? 1 : 0);
  const best = lists / (RRF_K + 1);
  return candidates.map((candidate, index) => {
    const vectorRank = vectorRanks.get(index);
    const lexicalRank = lexicalRanks.get(index);
    if (mode === "semantic") return { vectorRank, fused: candidate.cosine };
    const rrf = (vectorRank ? 1 / (RRF_K + vectorRank) : 0) + (lexicalRank ? 1 / (RRF_K + lexicalRank) : 0);
    return { vectorRank, lexicalRank, fused: rrf / best };
  });
}

/**
 * 1-based ranks by `value`, best first; only candidates `included`. Equal
 * values share the best rank of their group (1, 2, 2, 4): two memories BM25
 * cannot tell apart must not be ordered by their random ids, or fusion would
 * let that coin flip outweigh what the other list knows.
 */
function ranks(candidates: readonly CandidateSignals[], value: (c: CandidateSignals) => number, included: (c: CandidateSignals) => boolean): Map<number, number> {
  const order = candidates
    .map((candidate, index) => ({ index, value: value(candidate) }))
    .filter(({ index }) => included(candidates[index]!))
    .sort((a, b) => b.value - a.value);
  const result = new Map<number, number>();
  order.forEach(({ index, value: v }, position) => {
    const previous = order[position - 1];
    result.set(index, previous && previous.value === v ? result.get(previous.index)! : position + 1);
  });
  return result;
}
