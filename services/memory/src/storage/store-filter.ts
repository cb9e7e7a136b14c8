import type { MemoryFilter } from "@t4dm/learning";
import type { StoreFilter } from "@t4dm/storage";

/** The learning state's filter, in the stores' terms; expired working memory is left out. */
export function toStoreFilter(filter: MemoryFilter, now: Date): StoreFilter {
  const equals: { key: string; value: unknown }[] = [];
  const ranges: { key: string; gte?: number; lte?: number }[] = [];
  for (const condition of filter.conditions ?? []) {
    if ("equals" in condition) equals.push({ key: condition.key, value: condition.equals });
    else ranges.push({ key: condition.key, ...condition.range });
  }
  return { kinds: filter.kinds, equals, ranges, createdAfter: filter.createdAfter, createdBefore: filter.createdBefore, aliveAt: now };
}
