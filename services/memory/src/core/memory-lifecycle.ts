import { planConsolidation, planExpiry, planForget, type MemoryFilter, type MetadataCondition } from "@t4dm/learning";
import { adminV1, memoryV1, walV1 } from "@t4dm/proto";
import { InvalidArgumentError, type FieldViolation } from "@t4dm/rpc";
import { IdempotentCalls } from "./idempotent-calls.js";
import type { Retention } from "./retention.js";
import type { CommitPipeline } from "../pipeline/commit-pipeline.js";
import type { Stores } from "../storage/store-sync.js";
import { toStoreFilter } from "../storage/store-filter.js";
import { checkFilters, checkNamespaceValue, Violations } from "./validation.js";
import { matchesFilter } from "@t4dm/learning";

const MAX_FORGET_IDS = 1000;

/**
 * Forget, Consolidate and the expiry of working memory. Each resolves what
 * it touches first (the stores are read before planning), then logs one set
 * of records; the store writes follow through the outbox, so a crash at any
 * point leaves nothing forgotten that comes back.
 */
export class MemoryLifecycle {
  private readonly forgotten = new IdempotentCalls<memoryV1.ForgetResponse>();

  constructor(
    private readonly pipeline: CommitPipeline,
    private readonly stores: Stores,
    private readonly clock: () => Date,
    private readonly retention: Retention,
  ) {}

  async forget(request: memoryV1.ForgetRequest): Promise<memoryV1.ForgetResponse> {
    const violations: FieldViolation[] = [];
    checkNamespaceValue(request.namespace, violations);
    if (request.ids.length === 0 && request.filters.length === 0 && request.types.length === 0) {
      violations.push({ field: "ids", description: "give ids, or filters/types to select memories (refusing to forget everything)" });
    }
    if (request.requestId.length > 128) violations.push({ field: "request_id", description: "must be at most 128 characters" });
    if (request.ids.length > MAX_FORGET_IDS) violations.push({ field: "ids", description: `at most ${MAX_FORGET_IDS} ids per call` });
    request.ids.forEach((id, i) => {
      if (!id || id.length > 128) violations.push({ field: `ids[${i}]`, description: "must be 1-128 characters" });
    });
    request.types.forEach((type, i) => {
      if (type === memoryV1.MemoryType.UNRECOGNIZED || type < 1 || type > 4) violations.push({ field: `types[${i}]`, description: "is not a known memory type" });
    });
    const filterViolations = new Violations();
    const conditions = checkFilters(request.filters, "filters", filterViolations);
    violations.push(...filterViolations.list);
    if (violations.length > 0) throw new InvalidArgumentError(violations);
    const body = { ids: request.ids, filters: request.filters, types: request.types };
    return this.forgotten.run(request.namespace, request.requestId, body, () => this.forgetOnce(request, conditions));
  }

  private async forgetOnce(request: memoryV1.ForgetRequest, conditions: MetadataCondition[]): Promise<memoryV1.ForgetResponse> {
    const namespace = request.namespace;
    let ids: string[];
    if (request.ids.length > 0) {
      ids = await this.existing(namespace, request.ids);
    } else {
      const filter: MemoryFilter = { kinds: request.types, conditions };
      const state = this.pipeline.projected;
      const held = [...state.buffer.all(), ...state.buffer.promoting()].filter((item) => item.memory.namespace === namespace && matchesFilter(item.memory, filter));
      const stored = await this.stores.episodic.findIds(namespace, toStoreFilter(filter, new Date(0)));
      ids = [...held.map((item) => item.memory.id), ...stored];
    }
    const operations = planForget(this.pipeline.projected, namespace, ids);
    const lsn = await this.pipeline.submit(operations, this.clock());
    const forgotten = operations[0]?.$case === "memoryDelete" ? operations[0].value.memoryIds.length : 0;
    return { forgottenCount: forgotten, lsn };
  }

  async consolidate(request: memoryV1.ConsolidateRequest): Promise<memoryV1.ConsolidateResponse> {
    const violations: FieldViolation[] = [];
    checkNamespaceValue(request.namespace, violations);
    if (request.mode === memoryV1.ConsolidationMode.UNRECOGNIZED || request.mode < 0 || request.mode > 2) violations.push({ field: "mode", description: "is not a known consolidation mode" });
    if (violations.length > 0) throw new InvalidArgumentError(violations);
    const deep = request.mode === memoryV1.ConsolidationMode.CONSOLIDATION_MODE_DEEP;
    const now = this.clock();
    // Stored members of each cluster, so concepts link every episode they summarise.
    const members = new Map<number, string[]>();
    if (deep) {
      for (const cluster of this.pipeline.projected.clusters.clustersOf(request.namespace)) {
        const hits = await this.stores.episodic.search(request.namespace, cluster.centroid, 50, { kinds: [walV1.MemoryKind.MEMORY_KIND_EPISODIC], aliveAt: now });
        members.set(cluster.id, hits.filter((hit) => hit.memory.clusterId === cluster.id).map((hit) => hit.memory.id));
      }
    }
    const plan = planConsolidation(this.pipeline.projected, request.namespace, deep, now, (clusterId) => members.get(clusterId) ?? []);
    const lsn = await this.pipeline.submit(plan.operations, now);
    const retention = await this.retention.enforce(request.namespace);
    return {
      promotedCount: plan.promoted,
      evictedCount: plan.evicted,
      conceptsCreated: plan.concepts,
      duplicatesMerged: plan.merged,
      lsn: Math.max(lsn, retention.lsn),
      retentionEndedCount: retention.ended,
    };
  }

  /**
   * Resets the learning state (fresh networks, no traces, baseline
   * modulators, no clusters) through a STATE_RESET record, and with
   * `delete_memories` first forgets every memory of the namespace. Refused,
   * with nothing changed, unless `confirm` is true.
   */
  async reset(request: adminV1.ResetRequest): Promise<adminV1.ResetResponse> {
    const violations: FieldViolation[] = [];
    if (!request.confirm) violations.push({ field: "confirm", description: "must be true: a reset cannot be undone" });
    if (request.deleteMemories && !request.namespace) violations.push({ field: "namespace", description: "is required with delete_memories" });
    if (request.namespace) checkNamespaceValue(request.namespace, violations);
    if (violations.length > 0) throw new InvalidArgumentError(violations);
    const operations = [];
    let forgotten = 0;
    if (request.deleteMemories) {
      const state = this.pipeline.projected;
      const held = [...state.buffer.all(), ...state.buffer.promoting()].filter((item) => item.memory.namespace === request.namespace).map((item) => item.memory.id);
      const stored = await this.stores.episodic.findIds(request.namespace, {});
      const forget = planForget(this.pipeline.projected, request.namespace, [...held, ...stored]);
      forgotten = forget[0]?.$case === "memoryDelete" ? forget[0].value.memoryIds.length : 0;
      operations.push(...forget);
    }
    operations.push({ $case: "stateReset" as const, value: { namespace: request.namespace, deleteMemories: request.deleteMemories } });
    const lsn = await this.pipeline.submit(operations, this.clock());
    return { lsn, forgottenCount: forgotten };
  }

  /** Working memory past its TTL (out of the buffer, and deleted from the store), then the retention limits. */
  async expire(): Promise<number> {
    const now = this.clock();
    const operations = planExpiry(this.pipeline.projected, now);
    if (operations.length > 0 && this.pipeline.writable) await this.pipeline.submit(operations, now);
    return operations.length + (await this.retention.enforceAll());
  }

  private async existing(namespace: string, ids: readonly string[]): Promise<string[]> {
    const state = this.pipeline.projected;
    // Held memories, and evicted ones whose eviction record would otherwise still answer GetMemory.
    const held = ids.filter((id) => {
      const item = state.buffer.get(id) ?? state.buffer.getPromoting(id);
      return item?.memory.namespace === namespace || state.outbox.evictions.get(id)?.namespace === namespace;
    });
    const rest = ids.filter((id) => !held.includes(id));
    const stored = rest.length > 0 ? (await this.stores.episodic.getMany(namespace, rest)).map((m) => m.id) : [];
    const nodes: string[] = [];
    for (const id of rest) if (!stored.includes(id) && (await this.stores.graph.getMemoryNode(namespace, id))) nodes.push(id);
    return [...held, ...stored, ...nodes];
  }
}
