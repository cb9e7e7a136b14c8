import type { BufferedItem } from "@t4dm/learning";
import type { StoredMemory } from "@t4dm/storage";
import { memoryV1 } from "@t4dm/proto";

/** The public view of a memory the learning state holds. */
export function toPublicMemory(item: BufferedItem, status: memoryV1.MemoryStatus, includeEmbedding: boolean): memoryV1.Memory {
  const memory = item.memory;
  return {
    id: memory.id,
    namespace: memory.namespace,
    type: memory.kind as number as memoryV1.MemoryType,
    content: memory.content,
    metadata: memory.metadata,
    importance: memory.importance,
    status,
    evictionReason: memoryV1.EvictionReason.EVICTION_REASON_UNSPECIFIED,
    createTime: memory.createTime,
    updateTime: item.lastAccessTime ?? memory.createTime,
    expireTime: memory.expireTime,
    accessCount: item.accessCount,
    lastAccessTime: item.lastAccessTime,
    evidence: item.evidence,
    embedding: includeEmbedding ? Array.from(item.embedding) : [],
  };
}

/** A stored memory in the shape the planner scores. */
export function storedItem(memory: StoredMemory): BufferedItem {
  return {
    memory: {
      id: memory.id,
      namespace: memory.namespace,
      kind: memory.kind,
      content: memory.content,
      embedding: [],
      metadata: memory.metadata,
      importance: memory.importance,
      createTime: memory.createTime,
      expireTime: memory.expireTime,
      requestId: "",
      admitProbability: 0,
      gateFeatures: [],
      clusterId: memory.clusterId,
    },
    embedding: memory.embedding,
    evidence: memory.evidence,
    accessCount: memory.accessCount,
    lastAccessTime: memory.lastAccessTime,
    rewardSum: memory.rewardSum,
    rewardCount: memory.rewardCount,
  };
}
