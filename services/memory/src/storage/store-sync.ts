import type { LearningState } from "@t4dm/learning";
import type { EpisodicStore, GraphStore } from "@t4dm/storage";
import type { Logger } from "@t4dm/telemetry";
import type { CommitPipeline } from "../pipeline/commit-pipeline.js";
import { promoteToStores } from "./promote-to-stores.js";

export interface Stores {
  episodic: EpisodicStore;
  graph: GraphStore;
}

/**
 * Carries out the store writes the WAL has committed to: promoted memories
 * are upserted (promote-to-stores.ts), forgotten ones deleted, concepts written; then a STORE_SYNCED
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

    await promoteToStores(this.stores, promoting, this.clock);
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

function groupByNamespace(entries: readonly [string, string][]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const [id, namespace] of entries) {
    const ids = groups.get(namespace) ?? [];
    ids.push(id);
    groups.set(namespace, ids);
  }
  return groups;
}
