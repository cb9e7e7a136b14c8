import { matchesFilter, type BufferedItem, type LearningState } from "@t4dm/learning";
import { memoryV1, walV1 } from "@t4dm/proto";
import { InvalidArgumentError, NotFoundError, type FieldViolation } from "@t4dm/rpc";
import type { StoredMemory } from "@t4dm/storage";
import { publicEvictionReason, storedItem, toPublicMemory } from "./convert.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import type { Stores } from "../storage/store-sync.js";
import { toStoreFilter } from "../storage/store-filter.js";
import { checkFilters, checkNamespaceValue, validateGet, Violations } from "./validation.js";

/**
 * GetMemory and ListMemories across the learning state (buffered, pending
 * promotion, recently evicted) and the long-term stores (stored). Another
 * namespace's memory is NOT_FOUND, never revealed; forgotten ones are gone
 * even while their store delete is pending.
 */
export class MemoryReads {
  constructor(
    private readonly state: () => LearningState,
    private readonly stores: Stores,
    private readonly clock: () => Date,
  ) {}

  async getMemory(request: memoryV1.GetMemoryRequest): Promise<memoryV1.GetMemoryResponse> {
    const { namespace, id } = validateGet(request);
    const state = this.state();
    const notFound = () => new NotFoundError(`memory ${id} not found in namespace ${namespace}`, "MEMORY_NOT_FOUND", { metadata: { id } });
    const held = heldItem(state, id);
    if (held) {
      if (held.item.memory.namespace !== namespace) throw notFound();
      return { memory: toPublicMemory(held.item, held.status, request.includeEmbedding) };
    }
    // An ending with a reason (retention, merge) answers as such even while its store delete is
    // pending; a Forget keeps no eviction record, so its pending delete answers NOT_FOUND.
    const eviction = state.outbox.evictions.get(id);
    if (eviction) {
      if (eviction.namespace !== namespace) throw notFound();
      return { memory: evictedMemory(eviction) };
    }
    if (state.outbox.pendingDeletes.has(id)) throw notFound();
    const stored = await this.stores.episodic.get(namespace, id);
    if (stored) return { memory: storedToPublic(stored, request.includeEmbedding) };
    // Graph-held memories carry the same statistics as stored ones (importance, access, reward).
    const node = await this.stores.graph.getMemoryNode(namespace, id);
    if (node) return { memory: storedToPublic(node, request.includeEmbedding) };
    throw notFound();
  }

  async listMemories(request: memoryV1.ListMemoriesRequest): Promise<memoryV1.ListMemoriesResponse> {
    const violations: FieldViolation[] = [];
    checkNamespaceValue(request.namespace, violations);
    if (request.pageSize < 0) violations.push({ field: "page_size", description: "must not be negative" });
    request.types.forEach((type, i) => {
      if (type === memoryV1.MemoryType.UNRECOGNIZED || type < 0 || type > 4) violations.push({ field: `types[${i}]`, description: "is not a known memory type" });
    });
    request.statuses.forEach((status, i) => {
      if (status === memoryV1.MemoryStatus.UNRECOGNIZED || status < 0 || status > 5) violations.push({ field: `statuses[${i}]`, description: "is not a known memory status" });
    });
    const filterViolations = new Violations();
    const conditions = checkFilters(request.filters, "filters", filterViolations);
    violations.push(...filterViolations.list);
    const query = { types: request.types, statuses: request.statuses, filters: request.filters };
    const after = request.pageToken ? decodePageToken(request.pageToken, "memories", request.namespace, query, violations) : undefined;
    if (violations.length > 0) throw new InvalidArgumentError(violations);

    const limit = Math.min(request.pageSize || 50, 1000);
    const now = this.clock();
    const filter = { kinds: request.types.filter((t) => t !== 0), conditions };
    // No statuses: every status but EVICTED (see ListMemoriesRequest.statuses).
    const wants = (status: memoryV1.MemoryStatus) => request.statuses.length === 0 || request.statuses.includes(status);
    const afterCursor = (time: number, id: string) => !after || time > after.time || (time === after.time && id > after.id);

    const state = this.state();
    const rows: { time: number; id: string; memory: memoryV1.Memory }[] = [];
    const held = new Set<string>();
    const addHeld = (item: BufferedItem, status: memoryV1.MemoryStatus) => {
      held.add(item.memory.id);
      const time = item.memory.createTime?.getTime() ?? 0;
      if (item.memory.namespace !== request.namespace || !wants(status) || !matchesFilter(item.memory, filter) || !afterCursor(time, item.memory.id)) return;
      rows.push({ time, id: item.memory.id, memory: toPublicMemory(item, status, false) });
    };
    for (const item of state.buffer.all()) addHeld(item, memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED);
    for (const item of state.buffer.promoting()) addHeld(item, memoryV1.MemoryStatus.MEMORY_STATUS_PENDING_PROMOTION);
    // Only when asked for: an evicted or merged memory is gone, and only its id, reason and time are
    // kept (so a type or metadata filter cannot match it). Ordered by eviction time.
    const endings = [memoryV1.MemoryStatus.MEMORY_STATUS_EVICTED, memoryV1.MemoryStatus.MEMORY_STATUS_MERGED].filter((status) => request.statuses.includes(status));
    if (endings.length > 0 && filter.kinds.length === 0 && request.filters.length === 0) {
      for (const eviction of state.outbox.evictions.values()) {
        const id = eviction.memoryId;
        if (eviction.namespace !== request.namespace || held.has(id) || state.outbox.pendingDeletes.has(id)) continue;
        if (!endings.includes(evictedMemory(eviction).status)) continue;
        const time = eviction.time?.getTime() ?? 0;
        if (afterCursor(time, id)) rows.push({ time, id, memory: evictedMemory(eviction) });
      }
    }
    if (wants(memoryV1.MemoryStatus.MEMORY_STATUS_STORED)) {
      const stored = await this.stores.episodic.list(request.namespace, toStoreFilter(filter, now), {
        after: after ? { createTime: new Date(after.time), id: after.id } : undefined,
        limit: limit + 1,
      });
      for (const memory of stored) {
        if (held.has(memory.id) || state.outbox.pendingDeletes.has(memory.id)) continue;
        rows.push({ time: memory.createTime.getTime(), id: memory.id, memory: storedToPublic(memory, false) });
      }
    }
    rows.sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      memories: page.map((row) => row.memory),
      nextPageToken: rows.length > limit && last ? encodePageToken("memories", request.namespace, query, { time: last.time, id: last.id }) : "",
    };
  }
}

/** A memory the learning state holds, and how. */
export function heldItem(state: LearningState, id: string): { item: BufferedItem; status: memoryV1.MemoryStatus } | undefined {
  const buffered = state.buffer.get(id);
  if (buffered) return { item: buffered, status: memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED };
  const promoting = state.buffer.getPromoting(id);
  if (promoting) return { item: promoting, status: memoryV1.MemoryStatus.MEMORY_STATUS_PENDING_PROMOTION };
  return undefined;
}

export function storedToPublic(memory: StoredMemory, includeEmbedding: boolean): memoryV1.Memory {
  return toPublicMemory(storedItem(memory), memoryV1.MemoryStatus.MEMORY_STATUS_STORED, includeEmbedding);
}

/** An ended memory: evicted with its reason, or merged into the memory that now holds it. */
function evictedMemory(eviction: { memoryId: string; namespace: string; reason: walV1.RemovalReason; time?: Date; mergedIntoId: string }): memoryV1.Memory {
  const merged = eviction.mergedIntoId !== "";
  return {
    ...emptyMemory(),
    id: eviction.memoryId,
    namespace: eviction.namespace,
    status: merged ? memoryV1.MemoryStatus.MEMORY_STATUS_MERGED : memoryV1.MemoryStatus.MEMORY_STATUS_EVICTED,
    evictionReason: merged ? memoryV1.EvictionReason.EVICTION_REASON_UNSPECIFIED : publicEvictionReason(eviction.reason),
    mergedIntoId: eviction.mergedIntoId,
    updateTime: eviction.time,
  };
}

function emptyMemory(): memoryV1.Memory {
  return memoryV1.Memory.fromPartial({});
}
