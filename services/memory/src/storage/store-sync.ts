import type { BufferedItem, LearningState } from "@t4dm/learning";
import type { EpisodicStore, GraphStore, StoredMemory } from "@t4dm/storage";
import { walV1 } from "@t4dm/proto";
import type { Logger } from "@t4dm/telemetry";
import type { CommitPipeline } from "../pipeline/commit-pipeline.js";

export interface Stores {
  episodic: EpisodicStore;
  graph: GraphStore;
}

/**
 * Carries out the store writes the WAL has committed to: promoted memories
 * are upserted, forgotten ones deleted, concepts written; then a STORE_SYNCED
 * record releases them from the state. Writes are idempotent, so redoing them
 * after a crash is safe. On a store error nothing is lost: the work stays
 * pending and is retried with backoff.
 */
export class StoreSync {
  private running = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private stopped = false;
  /** The last store error, until a sync succeeds. */
  lastError: string | undefined;

  constructor(
    private readonly pipeline: CommitPipeline,
    private readonly stores: Stores,
    private readonly logger: Logger,
    private readonly clock: () => Date,
    private readonly backoff = { minMs: 100, maxMs: 10_000 },
  ) {
    this.backoffMs = backoff.minMs;
  }

  /** Something may be pending; sync soon. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer || !hasWork(this.pipeline.durable)) return;
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      do {
        this.again = false;
        await this.syncOnce();
      } while (this.again && !this.stopped);
      this.backoffMs = this.backoff.minMs;
      this.lastError = undefined;
    } catch (error) {
      this.lastError = (error as Error).message;
      this.logger.warn("store sync failed; the writes stay pending and will be retried", {
        event: "store_sync.failed",
        error,
        retryInMs: this.backoffMs,
      });
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.kick();
      }, this.backoffMs);
      this.timer.unref();
      this.backoffMs = Math.min(this.backoffMs * 2, this.backoff.maxMs);
    } finally {
      this.running = false;
    }
  }

  private async syncOnce(): Promise<void> {
    const state = this.pipeline.durable;
    const promoting = [...state.buffer.promoting()];
    const deletes = [...state.outbox.pendingDeletes];
    const concepts = [...state.outbox.pendingConcepts.values()];
    if (promoting.length === 0 && deletes.length === 0 && concepts.length === 0) return;

    const episodic = promoting.filter((item) => isEpisodic(item.memory.kind));
    const graph = promoting.filter((item) => !isEpisodic(item.memory.kind));
    if (episodic.length > 0) await this.stores.episodic.upsert(episodic.map(toStoredMemory));
    for (const item of graph) {
      // What ranking needs comes along, so a recall scores the node as it scored the buffered memory.
      await this.stores.graph.upsertMemoryNode({
        id: item.memory.id,
        namespace: item.memory.namespace,
        kind: item.memory.kind,
        content: item.memory.content,
        embedding: item.embedding,
        metadata: item.memory.metadata,
        createTime: item.memory.createTime ?? this.clock(),
        importance: item.memory.importance,
        evidence: item.evidence,
        clusterId: item.memory.clusterId,
        expireTime: item.memory.expireTime,
      });
    }
    // Statistics earned while buffered (recall hits, rewards; an import's own) stay with the node, as toStoredMemory keeps them for the episodic store.
    const earned = graph.filter((item) => item.accessCount > 0 || item.rewardCount > 0);
    for (const [namespace, items] of groupItemsByNamespace(earned)) {
      await this.stores.graph.recordAccess(
        namespace,
        items.map((item) => ({
          id: item.memory.id,
          accessCount: item.accessCount,
          lastAccessTime: item.lastAccessTime ?? item.memory.createTime ?? this.clock(),
          rewardSum: item.rewardSum,
          rewardCount: item.rewardCount,
        })),
      );
    }
    for (const [namespace, ids] of groupByNamespace(deletes)) {
      await this.stores.episodic.delete(namespace, ids);
      await this.stores.graph.deleteMemoryNodes(namespace, ids);
    }
    for (const concept of concepts) {
      await this.stores.graph.upsertConcept({
        id: concept.conceptId,
        namespace: concept.namespace,
        label: concept.label,
        centroid: Float32Array.from(concept.centroid),
        episodeIds: concept.episodeIds,
        createTime: this.clock(),
      });
    }
    await this.pipeline.submit(
      [
        {
          $case: "storeSynced",
          value: { storedIds: promoting.map((item) => item.memory.id), deletedIds: deletes.map(([id]) => id), conceptIds: concepts.map((c) => c.conceptId) },
        },
      ],
      this.clock(),
    );
    this.logger.debug("store sync done", { event: "store_sync.done", stored: promoting.length, deleted: deletes.length, concepts: concepts.length });
  }
}

function hasWork(state: LearningState): boolean {
  return state.buffer.promoting().next().done === false || state.outbox.pendingDeletes.size > 0 || state.outbox.pendingConcepts.size > 0;
}

/** Whether memories of this kind live in the episodic store (else in the graph store, as memory nodes). */
export function isEpisodic(kind: number): boolean {
  return kind === walV1.MemoryKind.MEMORY_KIND_EPISODIC || kind === walV1.MemoryKind.MEMORY_KIND_WORKING || kind === walV1.MemoryKind.MEMORY_KIND_UNSPECIFIED;
}

export function toStoredMemory(item: BufferedItem): StoredMemory {
  const memory = item.memory;
  return {
    id: memory.id,
    namespace: memory.namespace,
    kind: memory.kind || walV1.MemoryKind.MEMORY_KIND_EPISODIC,
    content: memory.content,
    embedding: item.embedding,
    metadata: memory.metadata,
    importance: memory.importance,
    createTime: memory.createTime ?? new Date(0),
    expireTime: memory.expireTime,
    evidence: item.evidence,
    accessCount: item.accessCount,
    lastAccessTime: item.lastAccessTime,
    rewardSum: item.rewardSum,
    rewardCount: item.rewardCount,
    clusterId: memory.clusterId,
  };
}

function groupByNamespace(entries: readonly [string, string][]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const [id, namespace] of entries) {
    const ids = groups.get(namespace) ?? [];
    ids.push(id);
    groups.set(namespace, ids);
  }
  return groups;
}

function groupItemsByNamespace(items: readonly BufferedItem[]): Map<string, BufferedItem[]> {
  const groups = new Map<string, BufferedItem[]>();
  for (const item of items) {
    const group = groups.get(item.memory.namespace) ?? [];
    group.push(item);
    groups.set(item.memory.namespace, group);
  }
  return groups;
}
