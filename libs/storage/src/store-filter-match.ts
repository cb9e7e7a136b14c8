import type { StoredMemory, StoreFilter } from "./episodic-store.js";

/**
 * The StoreFilter over one memory in JS, for a store that cannot express all
 * of it in its own query language (Neo4j keeps metadata as a JSON string).
 * Same semantics as the embedded store's SQL (filter-sql.ts): typed equality
 * ("1" is not 1, true is not 1), structured values equal by their JSON text,
 * ranges on numbers only, inclusive create-time bounds, and a memory whose
 * expire time is at or before `aliveAt` is left out.
 */
export function matchesStoreFilter(memory: StoredMemory, filter: StoreFilter): boolean {
  if (filter.kinds && filter.kinds.length > 0 && !filter.kinds.includes(memory.kind)) return false;
  for (const { key, value } of filter.equals ?? []) {
    if (!Object.hasOwn(memory.metadata, key) || !sameValue(memory.metadata[key], value)) return false;
  }
  for (const { key, gte, lte } of filter.ranges ?? []) {
    const value = Object.hasOwn(memory.metadata, key) ? memory.metadata[key] : undefined;
    if (typeof value !== "number") return false;
    if (gte !== undefined && !(value >= gte)) return false;
    if (lte !== undefined && !(value <= lte)) return false;
  }
  const created = memory.createTime.getTime();
  if (filter.createdAfter && created < filter.createdAfter.getTime()) return false;
  if (filter.createdBefore && created > filter.createdBefore.getTime()) return false;
  if (filter.aliveAt && memory.expireTime && memory.expireTime.getTime() <= filter.aliveAt.getTime()) return false;
  return true;
}

function sameValue(stored: unknown, wanted: unknown): boolean {
  if (wanted !== null && typeof wanted === "object") return stored !== null && typeof stored === "object" && JSON.stringify(stored) === JSON.stringify(wanted);
  return stored === wanted;
}
