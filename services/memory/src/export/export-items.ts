import { targetStoreOf, type BufferedItem } from "@t4dm/learning";
import { adminV1, memoryV1, walV1 } from "@t4dm/proto";
import type { StoredFact, StoredMemory, StoredProcedure } from "@t4dm/storage";

/*
 * What export writes and import reads, in both directions: every field a
 * memory, fact or procedure needs to be recreated exactly (ids, times,
 * embeddings, statistics), converted from and to the learning state's and the
 * stores' own shapes. Pure: no I/O.
 */

type Status = memoryV1.MemoryStatus;

export function heldToExport(item: BufferedItem, status: Status): adminV1.ExportItem {
  const memory = item.memory;
  return memoryItem({
    id: memory.id,
    namespace: memory.namespace,
    kind: (memory.kind || walV1.MemoryKind.MEMORY_KIND_EPISODIC) as number as memoryV1.MemoryType,
    content: memory.content,
    metadata: memory.metadata,
    importance: memory.importance,
    status,
    createTime: memory.createTime,
    expireTime: memory.expireTime,
    embedding: Array.from(item.embedding),
    evidence: item.evidence,
    accessCount: item.accessCount,
    lastAccessTime: item.lastAccessTime,
    rewardSum: item.rewardSum,
    rewardCount: item.rewardCount,
  });
}

/** A memory of the episodic store, or a graph memory node (which keeps the same statistics). */
export function storedToExport(memory: StoredMemory): adminV1.ExportItem {
  return memoryItem({
    id: memory.id,
    namespace: memory.namespace,
    kind: memory.kind as memoryV1.MemoryType,
    content: memory.content,
    metadata: memory.metadata,
    importance: memory.importance,
    status: memoryV1.MemoryStatus.MEMORY_STATUS_STORED,
    createTime: memory.createTime,
    expireTime: memory.expireTime,
    embedding: Array.from(memory.embedding),
    evidence: memory.evidence,
    accessCount: memory.accessCount,
    lastAccessTime: memory.lastAccessTime,
    rewardSum: memory.rewardSum,
    rewardCount: memory.rewardCount,
  });
}

export function factToExport(fact: StoredFact): adminV1.ExportItem {
  return { item: { $case: "fact", value: { ...fact, validEndTime: fact.validEndTime } } };
}

export function procedureToExport(procedure: StoredProcedure): adminV1.ExportItem {
  return {
    item: {
      $case: "procedure",
      value: {
        id: procedure.id,
        namespace: procedure.namespace,
        name: procedure.name,
        trigger: procedure.trigger,
        triggerEmbedding: Array.from(procedure.triggerEmbedding),
        steps: procedure.steps,
        metadata: procedure.metadata,
        successCount: procedure.successCount,
        executionCount: procedure.executionCount,
        createTime: procedure.createTime,
        updateTime: procedure.updateTime,
      },
    },
  };
}

export function policyToExport(namespace: string, policy: adminV1.RetentionPolicy): adminV1.ExportItem {
  return { item: { $case: "retentionPolicy", value: { namespace, policy } } };
}

function memoryItem(memory: adminV1.ExportedMemory): adminV1.ExportItem {
  return { item: { $case: "memory", value: memory } };
}

/**
 * The WAL records that put an exported memory back with its own id, times,
 * vector and statistics: BUFFER_ADD, BUFFER_EVIDENCE, and BUFFER_PROMOTE
 * unless it stays buffered. Existing operations only, so replay (invariant
 * I1) needs nothing new. No request id, gate features or cluster: those
 * belong to the exporting state's learning, which an import does not carry.
 */
export function importOperations(memory: adminV1.ExportedMemory, keepBuffered: boolean): NonNullable<walV1.WalEntry["operation"]>[] {
  const kind = memory.kind as number as walV1.MemoryKind;
  const record: walV1.MemoryRecord = {
    ...walV1.MemoryRecord.fromPartial({}),
    id: memory.id,
    namespace: memory.namespace,
    kind,
    content: memory.content,
    embedding: memory.embedding.map(Math.fround),
    metadata: memory.metadata,
    importance: memory.importance,
    createTime: memory.createTime,
    expireTime: memory.expireTime,
  };
  const operations: NonNullable<walV1.WalEntry["operation"]>[] = [
    { $case: "bufferAdd", value: { memory: record } },
    {
      $case: "bufferEvidence",
      value: {
        memoryId: memory.id,
        evidence: memory.evidence,
        accessCount: memory.accessCount,
        lastAccessTime: memory.lastAccessTime,
        rewardSum: memory.rewardSum,
        rewardCount: memory.rewardCount,
      },
    },
  ];
  if (!keepBuffered) operations.push({ $case: "bufferPromote", value: { memoryId: memory.id, targetStore: targetStoreOf(kind) } });
  return operations;
}

export function factFromExport(fact: memoryV1.Fact): StoredFact {
  const stored: StoredFact = {
    id: fact.id,
    namespace: fact.namespace,
    subject: fact.subject,
    predicate: fact.predicate,
    object: fact.object,
    confidence: fact.confidence,
    validStartTime: fact.validStartTime!,
    recordTime: fact.recordTime!,
    metadata: fact.metadata,
  };
  if (fact.validEndTime) stored.validEndTime = fact.validEndTime;
  return stored;
}

export function procedureFromExport(procedure: adminV1.ExportedProcedure): StoredProcedure {
  return {
    id: procedure.id,
    namespace: procedure.namespace,
    name: procedure.name,
    trigger: procedure.trigger,
    triggerEmbedding: Float32Array.from(procedure.triggerEmbedding),
    steps: procedure.steps,
    metadata: procedure.metadata,
    successCount: procedure.successCount,
    executionCount: procedure.executionCount,
    createTime: procedure.createTime!,
    updateTime: procedure.updateTime!,
  };
}
