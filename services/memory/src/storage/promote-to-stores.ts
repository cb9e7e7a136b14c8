import type { BufferedItem } from "@t4dm/learning";
import type { StoredMemory } from "@t4dm/storage";
import { walV1 } from "@t4dm/proto";
import type { Stores } from "./store-sync.js";

/** Promoted memories split by the store their BUFFER_PROMOTE names (kept by the buffer and its checkpoints), never decided again here. */
export function routePromotions(promoting: readonly BufferedItem[]): { episodic: BufferedItem[]; graph: BufferedItem[] } {
  const episodic: BufferedItem[] = [];
  const graph: BufferedItem[] = [];
  for (const item of promoting) {
    (item.targetStore === walV1.TargetStore.TARGET_STORE_GRAPH ? graph : episodic).push(item);
  }
  return { episodic, graph };
}

/**
 * Where a promotion reaches the long-term stores: episodic targets are
 * upserted into the episodic store (Qdrant's or the embedded one: libs/storage
 * `QdrantEpisodicStore` / `SqliteEpisodicStore`), graph targets become the
 * graph store's memory nodes (Neo4j or embedded). Idempotent by memory id, so
 * a replayed promotion upserts again.
 */
export async function promoteToStores(stores: Stores, promoting: readonly BufferedItem[], clock: () => Date): Promise<void> {
  const { episodic, graph } = routePromotions(promoting);
  if (episodic.length > 0) await stores.episodic.upsert(episodic.map(toStoredMemory));
  for (const item of graph) {
    // What ranking needs comes along, so a recall scores the node as it scored the buffered memory.
    await stores.graph.upsertMemoryNode({
      id: item.memory.id,
      namespace: item.memory.namespace,
      kind: item.memory.kind,
      content: item.memory.content,
      embedding: item.embedding,
      metadata: item.memory.metadata,
      createTime: item.memory.createTime ?? clock(),
      importance: item.memory.importance,
      evidence: item.evidence,
      clusterId: item.memory.clusterId,
      expireTime: item.memory.expireTime,
    });
  }
  // Statistics earned while buffered (recall hits, rewards; an import's own) stay with the node, as toStoredMemory keeps them for the episodic store.
  const earned = graph.filter((item) => item.accessCount > 0 || item.rewardCount > 0);
  for (const [namespace, items] of groupItemsByNamespace(earned)) {
    await stores.graph.recordAccess(
      namespace,
      items.map((item) => ({
        id: item.memory.id,
        accessCount: item.accessCount,
        lastAccessTime: item.lastAccessTime ?? item.memory.createTime ?? clock(),
        rewardSum: item.rewardSum,
        rewardCount: item.rewardCount,
      })),
    );
  }
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

function groupItemsByNamespace(items: readonly BufferedItem[]): Map<string, BufferedItem[]> {
  const groups = new Map<string, BufferedItem[]>();
  for (const item of items) {
    const group = groups.get(item.memory.namespace) ?? [];
    group.push(item);
    groups.set(item.memory.namespace, group);
  }
  return groups;
}
