/**
 * Hybrid recall ranking, pure: gathers the candidates a namespace holds
 * (buffered, promoting, and what the caller found in long-term storage by
 * vector and by keyword), filters them before anything is ranked, computes
 * each one's signals (cosine, BM25 over the buffer and store as one corpus,
 * its rank in each list), fuses the lists into a base score and lets the
 * scorer re-rank. Ranking changes nothing: the records a recall logs are
 * planned separately (planRecallRecords), against the projected state.
 */
import { effectiveEvidence, type BufferedItem } from "./buffer.js";
import { matchesFilter, type MemoryFilter } from "./filters.js";
import type { LearningState } from "./learning-state.js";
import { addCorpora, bm25, corpusOf, EMPTY_CORPUS, idfMass, type LexicalCorpus } from "./lexical/bm25.js";
import { eligible, fuse, type RecallMode } from "./lexical/fusion.js";
import { documentTerms, type DocumentTerms } from "./lexical/tokenizer.js";
import { FUSED_FEATURE, scorerFeatures } from "./scorer.js";
import { cosine } from "./vector.js";

export interface RecallInput {
  namespace: string;
  /** Unit length, of the state's dimension. */
  query: Float32Array;
  /** The query's distinct lexical terms (lexical/tokenizer.ts queryTerms); may be empty outside KEYWORD mode. */
  queryTerms?: readonly string[];
  /** Defaults to semantic when absent (the behaviour before hybrid recall). */
  mode?: RecallMode;
  topK: number;
  minScore: number;
  filter: MemoryFilter;
  /**
   * Candidates from long-term storage by vector, searched by the caller
   * before planning (namespace and filter already applied). Ids the state
   * still holds or is deleting are ignored: the state's copy is the current one.
   */
  stored?: readonly BufferedItem[];
  /** Candidates from long-term storage by keyword, with the store's corpus statistics for the query terms. */
  storedLexical?: { items: readonly BufferedItem[]; corpus: LexicalCorpus };
}

/** Where a recalled memory came from. */
export type RecallSource = "buffer" | "promoting" | "store";

/** What ranked a memory where it is: every signal the scorer saw, and its verdict. */
export interface RecallSignals {
  cosine: number;
  bm25: number;
  vectorRank?: number;
  lexicalRank?: number;
  fused: number;
  /** exp(−age / 1 day). */
  recency: number;
  importance: number;
  /** Mean past reward, in [−1, 1]. */
  feedback: number;
  /** The scorer's learned correction added to the fused base. */
  correction: number;
}

export interface Recalled {
  item: BufferedItem;
  score: number;
  similarity: number;
  /** True for the buffer only (kept for callers that only distinguish buffer vs store). */
  fromBuffer: boolean;
  source: RecallSource;
  features: Float32Array;
  signals: RecallSignals;
  /** 1-based rank among every candidate by the fused base alone, and by the full learned score (what the shadow guard judges). */
  baseRank: number;
  learnedRank: number;
}

/** The recall's results, best first, at most topK, none below minScore. */
export function rankRecall(state: LearningState, input: RecallInput, now: Date): Recalled[] {
  if (!state.initialized) throw new Error("the learning state is not initialised (no SYSTEM_START applied)");
  // The namespace's own adaptation (if its feedback made one), else the prior: never another namespace's learning.
  const scorer = state.scorerFor(input.namespace);
  const requested = input.mode ?? "semantic";
  const terms = requested === "semantic" ? [] : (input.queryTerms ?? []);
  // A hybrid query with no keyword terms (embedding only, or only stop words) is a semantic one: cosine stays its base.
  const mode = requested === "hybrid" && terms.length === 0 ? "semantic" : requested;
  const queryCluster = state.clusters.nearest(input.namespace, input.query)?.clusterId;

  const held: { item: BufferedItem; source: RecallSource }[] = [];
  for (const item of state.buffer.namespaceItems(input.namespace)) held.push({ item, source: "buffer" });
  for (const item of state.buffer.promoting()) if (item.memory.namespace === input.namespace) held.push({ item, source: "promoting" });
  // Corpus statistics cover the namespace, not the filter: a filter narrows the candidates, not what a word is worth.
  const heldCorpus = terms.length > 0 ? corpusOf(held.map(({ item }) => termsOf(item)), terms) : EMPTY_CORPUS;
  const corpus = addCorpora(heldCorpus, input.storedLexical?.corpus ?? EMPTY_CORPUS);

  const candidates = held.filter(({ item }) => matchesFilter(item.memory, input.filter));
  const seen = new Set(candidates.map(({ item }) => item.memory.id));
  const storedLists = [mode === "keyword" ? [] : (input.stored ?? []), mode === "semantic" ? [] : (input.storedLexical?.items ?? [])];
  for (const item of storedLists.flat()) {
    const id = item.memory.id;
    if (item.memory.namespace !== input.namespace || seen.has(id)) continue;
    if (state.buffer.get(id) || state.buffer.getPromoting(id) || state.outbox.pendingDeletes.has(id)) continue;
    seen.add(id);
    candidates.push({ item, source: "store" });
  }

  const signals = candidates.map(({ item }) => ({
    id: item.memory.id,
    cosine: cosine(input.query, item.embedding),
    bm25: terms.length > 0 ? bm25(terms, termsOf(item), corpus) : 0,
  }));
  const fused = fuse(mode, signals, terms.length > 0 ? idfMass(terms, corpus) : 0);
  const scored: Recalled[] = [];
  // The full learned score, whatever the trust: its ranks are what the shadow guard judges.
  const shadow = new Map<Recalled, number>();
  candidates.forEach(({ item, source }, i) => {
    if (!eligible(mode, signals[i]!)) return;
    const fromBuffer = source === "buffer";
    const { cosine: similarity, bm25: lexical } = signals[i]!;
    const features = scorerFeatures({
      cosine: similarity,
      ageSeconds: ageSeconds(item, now),
      accessCount: item.accessCount,
      rewardSum: item.rewardSum,
      rewardCount: item.rewardCount,
      clusterMatch: queryCluster !== undefined && item.memory.clusterId === queryCluster,
      fromBuffer,
      importance: item.memory.importance,
      evidence: effectiveEvidence(item, now),
      bm25: lexical,
      ...fused[i]!,
      kind: item.memory.kind,
    });
    const learned = scorer.correction(features);
    // What ranking adds: the shadow guard's trust times the learned correction (as Scorer.score adds it).
    const correction = scorer.trust * learned;
    const recalled: Recalled = {
      item,
      fromBuffer,
      source,
      similarity,
      features,
      score: features[FUSED_FEATURE]! + correction,
      signals: {
        cosine: similarity,
        bm25: lexical,
        ...fused[i]!,
        recency: features[1]!,
        importance: features[6]!,
        feedback: features[3]!,
        correction,
      },
      baseRank: 0,
      learnedRank: 0,
    };
    shadow.set(recalled, features[FUSED_FEATURE]! + learned);
    scored.push(recalled);
  });
  // On equal scores the embedding, which reads meaning and not term counts and lengths, decides
  // before the random ids do (see before).
  scored.sort((a, b) => before(a, b, (r) => r.score));
  const results = scored.filter((r) => r.score >= input.minScore).slice(0, input.topK);
  // Only the returned memories are traced, so only they need these ranks: topK counts, not two more sorts of every candidate.
  for (const result of results) {
    result.baseRank = rankAmong(result, scored, (r) => r.features[FUSED_FEATURE]!);
    result.learnedRank = rankAmong(result, scored, (r) => shadow.get(r)!);
  }
  return results;
}

/** Negative when `a` ranks before `b` by `score`; on equal scores the embedding decides, then the id. */
function before(a: Recalled, b: Recalled, score: (r: Recalled) => number): number {
  return score(b) - score(a) || b.similarity - a.similarity || (a.item.memory.id < b.item.memory.id ? -1 : 1);
}

/** 1-based rank of `target` among `all` by `score`, as a sort by `before` would place it. */
function rankAmong(target: Recalled, all: readonly Recalled[], score: (r: Recalled) => number): number {
  let rank = 1;
  for (const other of all) if (other !== target && before(other, target, score) < 0) rank += 1;
  return rank;
}

// Buffered memories keep their record object while buffered: their terms are computed once.
const documentCache = new WeakMap<object, DocumentTerms>();

function termsOf(item: BufferedItem): DocumentTerms {
  let terms = documentCache.get(item.memory);
  if (!terms) {
    terms = documentTerms(item.memory.content);
    documentCache.set(item.memory, terms);
  }
  return terms;
}

function ageSeconds(item: BufferedItem, now: Date): number {
  const created = item.memory.createTime?.getTime() ?? now.getTime();
  return Math.max(0, (now.getTime() - created) / 1000);
}
