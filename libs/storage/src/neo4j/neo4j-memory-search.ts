import { bm25 } from "@t4dm/learning";
import neo4j, { type ManagedTransaction } from "neo4j-driver";
import type { LexicalSearchResult, SearchHit, StoredMemory, StoreFilter } from "../episodic-store.js";
import { cosine } from "../embedded/embedding-blob.js";
import { queryTermCounts } from "../embedded/term-frequency.js";
import { matchesStoreFilter } from "../store-filter-match.js";
import { MEMORY_PROJECTION, type MemoryRecord, toStoredMemory } from "./neo4j-records.js";
import { MEMORY_TERMS_INDEX, MEMORY_VECTOR_INDEX } from "./neo4j-schema.js";

/** Keyword candidates read per result wanted (Lucene's own ranking picks them), as in the embedded store. */
const LEXICAL_CANDIDATES_PER_K = 5;
const LEXICAL_MIN_CANDIDATES = 50;

const IN_SCOPE = "m.namespace = $namespace AND (size($kinds) = 0 OR m.kind IN $kinds)";

/**
 * Memory-node searches on Neo4j, with EpisodicStore's semantics. The namespace and kinds
 * are matched in Cypher; the rest of the filter (metadata is a JSON string, which Cypher
 * cannot look into without APOC) in JS, before ranking. So the indexes over-fetch, then
 * filter: a candidate set grows until k pass or the index has nothing more, and a scope
 * small enough (or an index unusable for this dimension) is scanned exactly instead.
 * Similarities are recomputed from the stored embeddings (Neo4j's cosine score is
 * (1 + cos) / 2), and BM25 is ours over the stored terms with the namespace's statistics,
 * never Lucene's score, so scores compare with the embedded store's.
 */
export class Neo4jMemorySearch {
  constructor(
    private readonly exactSearchBelow: number,
    /** Whether the vector index holds vectors of the store's dimension. */
    private readonly vectorIndexUsable: () => boolean,
  ) {}

  async search(tx: ManagedTransaction, namespace: string, query: Float32Array, k: number, filter: StoreFilter): Promise<SearchHit[]> {
    if (!(k > 0)) return [];
    k = Math.floor(k);
    const params = { namespace, kinds: kindsOf(filter) };
    const inScope = await count(tx, `MATCH (m:Memory) WHERE ${IN_SCOPE} RETURN count(m) AS n`, params);
    if (inScope === 0) return [];
    let passed: StoredMemory[] | undefined;
    if (this.vectorIndexUsable() && inScope > this.exactSearchBelow) {
      const total = await count(tx, "MATCH (m:Memory) RETURN count(m) AS n", {});
      let fetch = Math.min(total, Math.max(2 * k, Math.ceil((3 * k * total) / inScope)));
      for (;;) {
        const result = await tx.run<{ memory: MemoryRecord }>(
          `CALL db.index.vector.queryNodes('${MEMORY_VECTOR_INDEX}', $fetch, $query) YIELD node AS m WHERE ${IN_SCOPE} RETURN ${MEMORY_PROJECTION} AS memory`,
          { ...params, fetch: neo4j.int(fetch), query: Array.from(query) },
        );
        const found = result.records.map((r) => toStoredMemory(r.get("memory"))).filter((memory) => matchesStoreFilter(memory, filter));
        if (found.length >= k || fetch >= total) {
          passed = found.length >= k ? found : undefined;
          break;
        }
        const needed = Math.ceil((1.5 * fetch * k) / Math.max(found.length, 0.5));
        fetch = Math.min(total, Math.max(2 * fetch, needed));
      }
    }
    passed ??= await scopeOf(tx, params, filter);
    return passed
      .map((memory) => ({ memory, similarity: cosine(query, memory.embedding) }))
      .sort((a, b) => b.similarity - a.similarity || byId(a.memory.id, b.memory.id))
      .slice(0, k);
  }

  async lexicalSearch(tx: ManagedTransaction, namespace: string, terms: readonly string[], k: number, filter: StoreFilter): Promise<LexicalSearchResult> {
    const distinct = [...new Set(terms)].filter((term) => term.length > 0);
    const stats = await tx.run<{ documents: number; totalLength: number | null }>(
      "MATCH (m:Memory) WHERE m.namespace = $namespace RETURN count(m) AS documents, sum(m.lexicalLength) AS totalLength",
      { namespace },
    );
    const documentFrequency = new Map<string, number>(distinct.map((term) => [term, 0]));
    const corpus = { documents: stats.records[0]?.get("documents") ?? 0, totalLength: stats.records[0]?.get("totalLength") ?? 0, documentFrequency };
    if (distinct.length === 0 || corpus.documents === 0) return { hits: [], corpus };
    const frequencies = await tx.run<{ term: string; df: number }>(
      `UNWIND $terms AS term
       CALL db.index.fulltext.queryNodes('${MEMORY_TERMS_INDEX}', term.query) YIELD node AS m
       WHERE m.namespace = $namespace
       RETURN term.term AS term, count(m) AS df`,
      { namespace, terms: distinct.map((term) => ({ term, query: luceneQuery([term]) })) },
    );
    for (const record of frequencies.records) documentFrequency.set(record.get("term"), record.get("df"));
    if (!(k > 0)) return { hits: [], corpus };
    k = Math.floor(k);
    const params = { namespace, kinds: kindsOf(filter), query: luceneQuery(distinct) };
    const scored: { memory: StoredMemory; bm25: number }[] = [];
    // A selective filter may pass few of the first candidates: read on, in growing steps, until k pass.
    for (let limit = Math.max(LEXICAL_CANDIDATES_PER_K * k, LEXICAL_MIN_CANDIDATES); ; limit *= 2) {
      const result = await tx.run<{ memory: MemoryRecord | null }>(
        `CALL db.index.fulltext.queryNodes('${MEMORY_TERMS_INDEX}', $query) YIELD node AS m, score
         WITH m, score ORDER BY score DESC, m.key LIMIT $limit
         RETURN CASE WHEN ${IN_SCOPE} THEN ${MEMORY_PROJECTION} END AS memory`,
        { ...params, limit: neo4j.int(limit) },
      );
      scored.length = 0;
      for (const record of result.records) {
        const found = record.get("memory");
        if (!found) continue;
        const memory = toStoredMemory(found);
        if (!matchesStoreFilter(memory, filter)) continue;
        scored.push({ memory, bm25: bm25(distinct, queryTermCounts(found.lexicalTerms ?? "", found.lexicalLength ?? 0, distinct), corpus) });
      }
      if (scored.length >= k || result.records.length < limit) break;
    }
    const hits = scored.sort((a, b) => b.bm25 - a.bm25 || byId(a.memory.id, b.memory.id)).slice(0, k);
    return { hits, corpus };
  }
}

/** Every memory of the namespace and kinds that passes the filter (the exact path). */
async function scopeOf(tx: ManagedTransaction, params: { namespace: string; kinds: unknown[] }, filter: StoreFilter): Promise<StoredMemory[]> {
  const result = await tx.run<{ memory: MemoryRecord }>(`MATCH (m:Memory) WHERE ${IN_SCOPE} RETURN ${MEMORY_PROJECTION} AS memory`, params);
  return result.records.map((r) => toStoredMemory(r.get("memory"))).filter((memory) => matchesStoreFilter(memory, filter));
}

async function count(tx: ManagedTransaction, query: string, params: Record<string, unknown>): Promise<number> {
  return (await tx.run<{ n: number }>(query, params)).records[0]?.get("n") ?? 0;
}

function kindsOf(filter: StoreFilter): unknown[] {
  return (filter.kinds ?? []).map((kind) => neo4j.int(kind));
}

/** A Lucene query matching any of the terms, each a quoted phrase, so no term is read as syntax. */
export function luceneQuery(terms: readonly string[]): string {
  return terms.map((term) => `"${term.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`).join(" OR ");
}

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
