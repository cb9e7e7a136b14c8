/**
 * Fusion of the vector and lexical candidate lists into one base score the
 * scorer's learned correction is added to.
 *
 * HYBRID is a convex combination of two evidences that are each in [0, 1]
 * on their own scale, not relative to the other candidates (Bruch et al.
 * 2023, "An Analysis of Fusion Functions for Hybrid Retrieval": a convex
 * combination of normalised scores beats reciprocal rank fusion in and out
 * of domain, whatever the normalisation):
 *
 *   fused = α · clamp(cosine, 0, 1) + (1 − α) · lexical
 *   lexical = min(1, BM25 / Σ idf(query terms))
 *
 * The lexical evidence is the share of the query's idf mass the memory
 * matched, as BM25 counts it: a memory of average length holding each query
 * term once scores exactly Σ idf, so 1; one holding only the terms that
 * carry a tenth of the query's idf mass scores about 0.1. Reciprocal ranks
 * (and min-max over the list) give the best lexical candidate full marks
 * however weak its match; this does not, so a few common words matched can
 * only nudge the dense order, while a memory holding the query's rare terms
 * climbs past dense matches up to (1 − α) / α ≈ 0.33 of cosine better.
 *
 * α = 0.75 is Weaviate's default hybrid alpha (vector-leaning; the dense
 * model reads meaning, BM25 only shared words). It was chosen before the
 * bench was run and not fitted to the bench's data.
 *
 * SEMANTIC mode's base is the cosine itself, as before hybrid recall existed;
 * KEYWORD mode's is the reciprocal rank in the lexical list, scaled to (0, 1].
 */

export type RecallMode = "hybrid" | "semantic" | "keyword";

/** Weight of the dense evidence in HYBRID; the lexical evidence gets 1 − HYBRID_ALPHA. */
export const HYBRID_ALPHA = 0.75;
/** Reciprocal rank constant of KEYWORD mode's base (Cormack et al.). */
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

/**
 * Ranks in each list and the fused base score, for candidates in input order.
 * `queryIdfMass` is Σ idf over the query's distinct terms in the corpus the
 * BM25 scores came from (lexical/bm25.ts idfMass); HYBRID needs it.
 */
export function fuse(mode: RecallMode, candidates: readonly CandidateSignals[], queryIdfMass = 0): FusedCandidate[] {
  const useVector = mode !== "keyword";
  const useLexical = mode !== "semantic";
  const vectorRanks = useVector ? ranks(candidates, (c) => c.cosine, () => true) : new Map<number, number>();
  const lexicalRanks = useLexical ? ranks(candidates, (c) => c.bm25, (c) => c.bm25 > 0) : new Map<number, number>();
  return candidates.map((candidate, index) => {
    const vectorRank = vectorRanks.get(index);
    const lexicalRank = lexicalRanks.get(index);
    if (mode === "semantic") return { vectorRank, fused: candidate.cosine };
    if (mode === "keyword") return { lexicalRank, fused: lexicalRank ? (RRF_K + 1) / (RRF_K + lexicalRank) : 0 };
    const fused = HYBRID_ALPHA * clamp01(candidate.cosine) + (1 - HYBRID_ALPHA) * lexicalEvidence(candidate.bm25, queryIdfMass);
    return { vectorRank, lexicalRank, fused };
  });
}

/** BM25 as a share of the query's idf mass, in [0, 1]; 0 without a match or without query terms. */
export function lexicalEvidence(bm25: number, queryIdfMass: number): number {
  if (!(bm25 > 0) || !(queryIdfMass > 0)) return 0;
  return Math.min(1, bm25 / queryIdfMass);
}

function clamp01(x: number): number {
  return x > 0 ? Math.min(1, x) : 0;
}

/**
 * 1-based ranks by `value`, best first; only candidates `included`. Equal
 * values share the best rank of their group (1, 2, 2, 4): two memories BM25
 * cannot tell apart must not be ordered by their random ids, or a rank
 * feature would let that coin flip outweigh what the other list knows.
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
