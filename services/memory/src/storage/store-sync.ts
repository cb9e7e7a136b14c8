import type { BufferedItem, LearningState } from "@t4dm/learning";
import type { EpisodicStore, GraphStore } from "@t4dm/storage";
import type { Logger } from "@t4dm/telemetry";
import type { CommitPipeline } from "../pipeline/commit-pipeline.js";
import { promoteToStores } from "./promote-to-stores.js";
import { nodeTimer, type SetTimer } from "./set-timer.js";

export interface Stores {
  episodic: EpisodicStore;
  graph: GraphStore;
}

export interface StoreSyncOptions {
  backoff?: { minMs: number; maxMs: number };
  /**
   * How long pending store work may wait for more before a sync starts. A
   * sync is a store commit (with its fdatasync) and a STORE_SYNCED record
   * (another one): at one caller every Remember of a full buffer promotes
   * one memory, and syncing each alone doubled the WAL records and the disk
   * flushes per memory. The promoted memories stay readable from the buffer
   * meanwhile, and durable in the WAL's outbox.
   */
  lingerMs?: number;
  /** Pending writes that start a sync at once, linger or not. */
  batch?: number;
  /**
   * Promoted memories one sync writes at most (oldest first); the rest wait
   * for the next, which starts at once. Unbounded, a store that fell behind
   * wrote its whole backlog in one sync — tens of thousands of rows and one
   * STORE_SYNCED record naming them all — while more piled up behind it.
   */
  maxBatch?: number;
  setTimer?: SetTimer;
  /** Called after each successful sync (callers waiting on the store backlog may go on). */
  onSynced?: () => void;
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
  /** The retry after a failure (backoff) or the linger before a sync. */
  private timer: { cancel(): void } | undefined;
  /** `timer` is the linger (a full batch may cut it short), not a backoff. */
  private lingering = false;
  private backoffMs: number;
  private stopped = false;
  private readonly backoff: { minMs: number; maxMs: number };
  private readonly lingerMs: number;
  private readonly batch: number;
  private readonly maxBatch: number;
  private readonly setTimer: SetTimer;
  private readonly onSynced: () => void;
  /** The last store error, until a sync succeeds. */
  lastError: string | undefined;

  constructor(
    private readonly pipeline: CommitPipeline,
    private readonly stores: Stores,
    private readonly logger: Logger,
    private readonly clock: () => Date,
    options: StoreSyncOptions = {},
  ) {
    this.backoff = options.backoff ?? { minMs: 100, maxMs: 10_000 };
    this.lingerMs = options.lingerMs ?? 20;
    this.batch = options.batch ?? 256;
    this.maxBatch = Math.max(1, options.maxBatch ?? 1_024);
    this.setTimer = options.setTimer ?? nodeTimer;
    this.onSynced = options.onSynced ?? (() => {});
    this.backoffMs = this.backoff.minMs;
  }

  /** Something may be pending; sync soon (at once when a batch is pending, else after the linger). */
  kick(): void {
    if (this.stopped) return;
    // A sync in progress kicks again when it ends.
    if (this.running) return;
    const pending = pendingWrites(this.pipeline.durable);
    if (pending === 0) return;
    if (this.timer && !(this.lingering && pending >= this.batch)) return;
    if (pending < this.batch && this.lingerMs > 0) {
      this.lingering = true;
      this.timer = this.setTimer(() => {
        this.timer = undefined;
        this.lingering = false;
        if (!this.stopped) void this.run();
      }, this.lingerMs);
      return;
    }
    this.cancelTimer();
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer();
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.lingering = false;
  }

  private async run(): Promise<void> {
    this.running = true;
    let failed = false;
    try {
      await this.syncOnce();
      this.backoffMs = this.backoff.minMs;
      this.lastError = undefined;
    } catch (error) {
      failed = true;
      this.lastError = (error as Error).message;
      this.logger.warn("store sync failed; the writes stay pending and will be retried", {
        event: "store_sync.failed",
        error,
        retryInMs: this.backoffMs,
      });
      this.timer = this.setTimer(() => {
        this.timer = undefined;
        this.kick();
      }, this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, this.backoff.maxMs);
    } finally {
      this.running = false;
    }
    if (failed) return;
    this.onSynced();
    // What is left (over maxBatch) or arrived meanwhile goes through kick: at once if a batch is
    // waiting, else after the linger.
    this.kick();
  }

  private async syncOnce(): Promise<void> {
    const state = this.pipeline.durable;
    const promoting: BufferedItem[] = [];
    for (const item of state.buffer.promoting()) {
      if (promoting.length === this.maxBatch) break;
      promoting.push(item);
    }
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

/** Store writes the WAL has committed to and no STORE_SYNCED has released yet. */
function pendingWrites(state: LearningState): number {
  return state.buffer.promotingCount + state.outbox.pendingDeletes.size + state.outbox.pendingConcepts.size;
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
