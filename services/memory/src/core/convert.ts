import { initialEvidence, memoryEmbedding, type BufferedItem } from "@t4dm/learning";
import type { StoredMemory } from "@t4dm/storage";
import { memoryV1, walV1 } from "@t4dm/proto";

const EVICTION_REASONS: Record<number, memoryV1.EvictionReason> = {
  [walV1.RemovalReason.REMOVAL_REASON_CAPACITY]: memoryV1.EvictionReason.EVICTION_REASON_CAPACITY,
  [walV1.RemovalReason.REMOVAL_REASON_AGE]: memoryV1.EvictionReason.EVICTION_REASON_AGE,
  [walV1.RemovalReason.REMOVAL_REASON_TTL]: memoryV1.EvictionReason.EVICTION_REASON_TTL,
  [walV1.RemovalReason.REMOVAL_REASON_DUPLICATE]: memoryV1.EvictionReason.EVICTION_REASON_DUPLICATE,
  [walV1.RemovalReason.REMOVAL_REASON_FORGOTTEN]: memoryV1.EvictionReason.EVICTION_REASON_FORGOTTEN,
  [walV1.RemovalReason.REMOVAL_REASON_RETENTION]: memoryV1.EvictionReason.EVICTION_REASON_RETENTION,
};

/** The public eviction reason for a WAL removal reason. */
export function publicEvictionReason(reason: walV1.RemovalReason): memoryV1.EvictionReason {
  return EVICTION_REASONS[reason] ?? memoryV1.EvictionReason.EVICTION_REASON_UNSPECIFIED;
}

/** A memory as its Remember planned it, in the shape of a fresh buffer item. */
export function plannedItem(memory: walV1.MemoryRecord): BufferedItem {
  return { memory, embedding: memoryEmbedding(memory), evidence: initialEvidence(memory), accessCount: 0, rewardSum: 0, rewardCount: 0 };
}

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
    mergedIntoId: "",
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
      embeddingF32: new Uint8Array(0),
      metadata: memory.metadata,
      importance: memory.importance,
      createTime: memory.createTime,
      expireTime: memory.expireTime,
      requestId: "",
      admitProbability: 0,
      gateFeatures: [],
      gateFeaturesF32: new Uint8Array(0),
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
