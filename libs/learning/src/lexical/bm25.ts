/**
 * Okapi BM25 with Lucene's always-positive IDF, over corpus statistics the
 * caller gathers. The buffer and the store are one corpus for a recall: the
 * planner adds their statistics, so a term rare in both scores the same
 * wherever the memory lives. Statistics are per namespace: one tenant's
 * words never change another's scores.
 */
import type { DocumentTerms } from "./tokenizer.js";

export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

/** Corpus statistics for a set of query terms. */
export interface LexicalCorpus {
  documents: number;
  /** Sum of the documents' lengths, in terms. */
  totalLength: number;
  /** Documents holding each query term (terms absent count 0). */
  documentFrequency: ReadonlyMap<string, number>;
}

export const EMPTY_CORPUS: LexicalCorpus = { documents: 0, totalLength: 0, documentFrequency: new Map() };

/** The union of two disjoint corpora. */
export function addCorpora(a: LexicalCorpus, b: LexicalCorpus): LexicalCorpus {
  const documentFrequency = new Map(a.documentFrequency);
  for (const [term, df] of b.documentFrequency) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + df);
  return { documents: a.documents + b.documents, totalLength: a.totalLength + b.totalLength, documentFrequency };
}

/** The statistics of `documents` for `terms`. */
export function corpusOf(documents: Iterable<DocumentTerms>, terms: readonly string[]): LexicalCorpus {
  const documentFrequency = new Map<string, number>(terms.map((term) => [term, 0]));
  let count = 0;
  let totalLength = 0;
  for (const document of documents) {
    count += 1;
    totalLength += document.length;
    for (const term of terms) if (document.counts.has(term)) documentFrequency.set(term, documentFrequency.get(term)! + 1);
  }
  return { documents: count, totalLength, documentFrequency };
}

/** ln(1 + (N − df + 0.5) / (df + 0.5)): positive even for a term in every document. */
export function idf(documents: number, documentFrequency: number): number {
  const df = Math.min(Math.max(documentFrequency, 0), documents);
  return Math.log(1 + (documents - df + 0.5) / (df + 0.5));
}

/**
 * Σ idf over distinct query terms: the BM25 of a document of average length
 * that holds each term once, the scale fusion measures a lexical match on.
 */
export function idfMass(terms: readonly string[], corpus: LexicalCorpus): number {
  let mass = 0;
  for (const term of terms) mass += idf(corpus.documents, corpus.documentFrequency.get(term) ?? 0);
  return mass;
}

/** BM25 of one document for distinct query terms; 0 when no term occurs in it. */
export function bm25(terms: readonly string[], document: DocumentTerms, corpus: LexicalCorpus): number {
  if (corpus.documents === 0 || document.length === 0) return 0;
  const averageLength = corpus.totalLength / corpus.documents;
  const lengthNorm = 1 - BM25_B + (BM25_B * document.length) / Math.max(averageLength, 1e-9);
  let score = 0;
  for (const term of terms) {
    const tf = document.counts.get(term) ?? 0;
    if (tf === 0) continue;
    score += idf(corpus.documents, corpus.documentFrequency.get(term) ?? 0) * ((tf * (BM25_K1 + 1)) / (tf + BM25_K1 * lengthNorm));
  }
  return score;
}
