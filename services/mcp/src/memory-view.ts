import { memoryV1 } from "@t4dm/proto";

/** The plain, agent-facing JSON of a memory: lower-case enum names, ISO times, no embedding. */
export interface MemoryView {
  id: string;
  namespace: string;
  type: string;
  content: string;
  metadata: Record<string, unknown>;
  importance: number;
  status: string;
  create_time?: string;
  update_time?: string;
  expire_time?: string;
  access_count: number;
  evidence: number;
  eviction_reason?: string;
  merged_into_id?: string;
}

export const MEMORY_TYPES = ["episodic", "working", "semantic", "procedural"] as const;
export type MemoryTypeName = (typeof MEMORY_TYPES)[number];

export function memoryTypeOf(name: MemoryTypeName): memoryV1.MemoryType {
  return memoryV1.MemoryType[`MEMORY_TYPE_${name.toUpperCase()}` as keyof typeof memoryV1.MemoryType] as memoryV1.MemoryType;
}

/** `MEMORY_STATUS_BUFFERED` → `buffered`. */
function enumName(table: Record<number, string>, prefix: string, value: number): string {
  const name = table[value];
  return name ? name.slice(prefix.length).toLowerCase() : "unspecified";
}

export function memoryView(memory: memoryV1.Memory): MemoryView {
  const view: MemoryView = {
    id: memory.id,
    namespace: memory.namespace,
    type: enumName(memoryV1.MemoryType, "MEMORY_TYPE_", memory.type),
    content: memory.content,
    metadata: memory.metadata,
    importance: memory.importance,
    status: enumName(memoryV1.MemoryStatus, "MEMORY_STATUS_", memory.status),
    access_count: memory.accessCount,
    evidence: memory.evidence,
  };
  if (memory.createTime) view.create_time = memory.createTime.toISOString();
  if (memory.updateTime) view.update_time = memory.updateTime.toISOString();
  if (memory.expireTime) view.expire_time = memory.expireTime.toISOString();
  if (memory.evictionReason) view.eviction_reason = enumName(memoryV1.EvictionReason, "EVICTION_REASON_", memory.evictionReason);
  if (memory.mergedIntoId) view.merged_into_id = memory.mergedIntoId;
  return view;
}
