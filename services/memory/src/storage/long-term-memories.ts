import type { AccessUpdate, LexicalSearchResult, SearchHit, StoredMemory, StoreFilter } from "@t4dm/storage";
import { mergeLexicalResults, mergeVectorHits } from "./merge-hits.js";
import { isEpisodic } from "./promotion-target.js";
import type { Stores } from "./store-sync.js";

/**
 * Long-term memory as Recall and Reinforce see it: episodic and working
 * memories in the episodic store, semantic and procedural ones as the graph
 * store's memory nodes. Searches ask both stores at once (only those that can
 * hold a kind the filter allows) and merge the hits; statistics go to the
 * store that holds each memory.
 */
export class LongTermMemories {
  constructor(private readonly stores: Stores) {}

  async search(namespace: string, query: Float32Array, k: number, filter: StoreFilter): Promise<SearchHit[]> {
    const { episodic, graph } = this.storesFor(filter);
    const lists = await Promise.all([
      episodic ? this.stores.episodic.search(namespace, query, k, filter) : [],
      graph ? this.stores.graph.searchMemoryNodes(namespace, query, k, filter) : [],
    ]);
    return mergeVectorHits(lists, k);
  }

  async lexicalSearch(namespace: string, terms: readonly string[], k: number, filter: StoreFilter): Promise<LexicalSearchResult> {
    const { episodic, graph } = this.storesFor(filter);
    // A store the filter rules out is still asked for its statistics (k 0): a word's worth is the namespace's, not the filter's.
    const results = await Promise.all([
      this.stores.episodic.lexicalSearch(namespace, terms, episodic ? k : 0, filter),
      this.stores.graph.lexicalSearchMemoryNodes(namespace, terms, graph ? k : 0, filter),
    ]);
    return mergeLexicalResults(results, terms, k);
  }

  /** Found memories of either store; missing ids are left out. */
  async getMany(namespace: string, ids: readonly string[]): Promise<StoredMemory[]> {
    if (ids.length === 0) return [];
    const [episodic, graph] = await Promise.all([this.stores.episodic.getMany(namespace, ids), this.stores.graph.getMemoryNodes(namespace, ids)]);
    return [...episodic, ...graph];
  }

  /** Best effort, as each store's own `recordAccess`. */
  async recordAccess(namespace: string, updates: readonly (AccessUpdate & { kind: number })[]): Promise<void> {
    const strip = ({ kind: _kind, ...update }: AccessUpdate & { kind: number }): AccessUpdate => update;
    const episodic = updates.filter((update) => isEpisodic(update.kind)).map(strip);
    const graph = updates.filter((update) => !isEpisodic(update.kind)).map(strip);
    await Promise.all([
      episodic.length > 0 ? this.stores.episodic.recordAccess(namespace, episodic) : undefined,
      graph.length > 0 ? this.stores.graph.recordAccess(namespace, graph) : undefined,
    ]);
  }

  /** Which stores can hold a memory the filter allows (no kinds: both). */
  private storesFor(filter: StoreFilter): { episodic: boolean; graph: boolean } {
    const kinds = filter.kinds ?? [];
    if (kinds.length === 0) return { episodic: true, graph: true };
    return { episodic: kinds.some(isEpisodic), graph: kinds.some((kind) => !isEpisodic(kind)) };
  }
}
