import { modulationOf, planRecallRecords, rankRecall, type Recalled, type RecallSignals, type TraceInput } from "@t4dm/learning";
import { memoryV1 } from "@t4dm/proto";
import { storedItem, toPublicMemory } from "./convert.js";
import { PROCEDURE_CONTEXT, type MemoryContext } from "./memory-context.js";
import { validateRecall } from "./validation.js";
import { embedMissingDetailed } from "../embedding/embed-inputs.js";
import { toStoreFilter } from "../storage/store-filter.js";

/**
 * Recall: a read that answers from the durable state (buffer and long-term
 * stores, ranked by libs/learning `rankRecall`), and submits the learning
 * records (a trace to reinforce later) without waiting for them.
 */
export class Recall {
  constructor(private readonly context: MemoryContext) {}

  /**
   * A read: ranks what is durable and answers. Its learning records (trace,
   * evidence, acetylcholine) are planned against the projected state and
   * submitted in the same tick, so they are sequenced before any later
   * Reinforce (which plans against the projected state too and so finds the
   * trace), and group-committed with whatever else is in flight, but the
   * answer does not wait for them. If they never become durable (a crash, a
   * refused WAL), Reinforce for this recall answers NOT_FOUND.
   */
  async recall(request: memoryV1.RecallRequest): Promise<memoryV1.RecallResponse> {
    const valid = validateRecall(request, this.context.limits);
    const now = this.context.clock();
    // Baseline widening under NAMESPACE scope: another tenant's arousal must not resize this pool (modulation.ts).
    const fetch = Math.ceil(valid.topK * 2 * modulationOf(this.context.pipeline.durable).recallWidening);
    const filter = toStoreFilter(valid.filter, now);
    // The keyword search needs no embedding: it runs while the model embeds the query.
    const [embedded, lexical] = await Promise.all([
      embedMissingDetailed(this.context.embedder, [{ embedding: valid.query, text: valid.queryText, field: "query" }]),
      valid.queryTerms.length === 0 ? undefined : this.context.longTerm.lexicalSearch(valid.namespace, valid.queryTerms, fetch, filter),
    ]);
    const input = { ...valid, query: embedded.vectors[0]! };
    const vectorHits = input.mode === "keyword" ? [] : await this.context.longTerm.search(input.namespace, input.query, fetch, filter);
    const results = rankRecall(
      this.context.pipeline.durable,
      {
        ...input,
        stored: vectorHits.map((hit) => storedItem(hit.memory)),
        storedLexical: lexical && { items: lexical.hits.map((hit) => storedItem(hit.memory)), corpus: lexical.corpus },
      },
      now,
    );
    const recallId = input.readOnly ? "" : this.learnFrom(input.namespace, input.query, results, now);
    const statuses = {
      buffer: memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED,
      promoting: memoryV1.MemoryStatus.MEMORY_STATUS_PENDING_PROMOTION,
      store: memoryV1.MemoryStatus.MEMORY_STATUS_STORED,
    } as const;
    return {
      recallId,
      queryTruncated: embedded.truncated[0] ?? false,
      memories: results.map((result) => ({
        memory: toPublicMemory(result.item, statuses[result.source], input.includeEmbeddings),
        score: result.score,
        similarity: result.similarity,
        source: result.source === "buffer" ? memoryV1.MemorySource.MEMORY_SOURCE_BUFFER : memoryV1.MemorySource.MEMORY_SOURCE_STORE,
        explanation: input.explain ? explanation(result.signals) : undefined,
      })),
    };
  }

  /** Submits a recall's learning records without waiting for them, and counts the access of stored hits; returns the recall id. */
  private learnFrom(namespace: string, query: Float32Array, results: readonly Recalled[], now: Date): string {
    // At the WAL's size cap the recall still answers, but records nothing: no recall id, nothing to reinforce.
    if (this.context.pipeline.walFull) return "";
    const recallId = this.context.newId();
    const operations = planRecallRecords(this.context.pipeline.projected, namespace, query, recallId, results, now);
    // Not awaited: a failure only means this recall cannot be reinforced (NOT_FOUND), never a lost acknowledged write.
    this.context.pipeline.submit(operations, now).catch((error: unknown) => this.context.hooks.onRecallRecordsLost?.(error));
    // Access statistics of stored memories are store data, not learning state: best effort.
    const accessed = results
      .filter((result) => result.source === "store")
      .map(({ item }) => ({
        id: item.memory.id,
        kind: item.memory.kind,
        accessCount: item.accessCount + 1,
        lastAccessTime: now,
        rewardSum: item.rewardSum,
        rewardCount: item.rewardCount,
      }));
    void this.context.longTerm.recordAccess(namespace, accessed).catch(() => undefined);
    return recallId;
  }

  /**
   * A procedure match's trace, so Reinforce with the returned id records the
   * procedures' outcomes. Submitted like a recall's records, not awaited: the
   * match is a read. Empty at the WAL's size cap (nothing to reinforce).
   */
  traceProcedureMatch(namespace: string, items: readonly TraceInput[], now: Date): string {
    if (this.context.pipeline.walFull) return "";
    const recallId = this.context.newId();
    const traces = this.context.pipeline.projected.traces;
    const operations = [...(traces.live(namespace).length > 0 ? [traces.planDecay(namespace)] : []), traces.planCreate(recallId, namespace, `${namespace}${PROCEDURE_CONTEXT}`, items)];
    this.context.pipeline.submit(operations, now).catch((error: unknown) => this.context.hooks.onRecallRecordsLost?.(error));
    return recallId;
  }
}

/** The public form of the signals that ranked a memory. */
function explanation(signals: RecallSignals): memoryV1.RecallExplanation {
  return {
    cosine: signals.cosine,
    bm25: signals.bm25,
    vectorRank: signals.vectorRank ?? 0,
    lexicalRank: signals.lexicalRank ?? 0,
    fused: signals.fused,
    recency: signals.recency,
    importance: signals.importance,
    feedback: signals.feedback,
    correction: signals.correction,
  };
}
