import type { walV1 } from "@t4dm/proto";

/** A metadata condition: equality, or an inclusive numeric range. */
export type MetadataCondition =
  | { key: string; equals: unknown }
  | { key: string; range: { gte?: number; lte?: number } };

export interface MemoryFilter {
  /** Memory kinds allowed; empty allows all. */
  kinds?: readonly number[];
  conditions?: readonly MetadataCondition[];
  /** Inclusive bounds on create time. */
  createdAfter?: Date;
  createdBefore?: Date;
}

/** True when the memory passes every part of the filter. */
export function matchesFilter(memory: walV1.MemoryRecord, filter: MemoryFilter): boolean {
  if (filter.kinds && filter.kinds.length > 0 && !filter.kinds.includes(memory.kind)) return false;
  const created = memory.createTime?.getTime();
  if (filter.createdAfter && (created === undefined || created < filter.createdAfter.getTime())) return false;
  if (filter.createdBefore && (created === undefined || created > filter.createdBefore.getTime())) return false;
  for (const condition of filter.conditions ?? []) {
    const value = memory.metadata[condition.key];
    if ("equals" in condition) {
      if (!sameValue(value, condition.equals)) return false;
    } else {
      if (typeof value !== "number") return false;
      if (condition.range.gte !== undefined && value < condition.range.gte) return false;
      if (condition.range.lte !== undefined && value > condition.range.lte) return false;
    }
  }
  return true;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "object" && typeof b === "object" && a !== null && b !== null) return JSON.stringify(a) === JSON.stringify(b);
  return false;
}
