import type { Schemas } from "@qdrant/js-client-rest";
import type { StoreFilter } from "../episodic-store.js";
import { StoreInputError } from "../errors.js";
import { millis } from "../embedded/embedding-blob.js";
import { FIELD, metadataPath, structuredText } from "./memory-payload.js";

export type QdrantFilter = Schemas["Filter"];
export type QdrantCondition = Schemas["Condition"];

/** A condition no point meets (an empty range), for filter values nothing can equal. */
const NOTHING: QdrantCondition = { key: FIELD.createTime, range: { gt: 0, lt: 0 } };

/**
 * The Qdrant filter for `filter` within `namespace`, with the same semantics
 * as the embedded store's SQL: typed equality and numeric ranges on literal
 * top-level metadata keys (see `MemoryPayload`), inclusive create-time
 * bounds, and `aliveAt` keeping memories with no expire time or one after the
 * instant. Kinds are not here: each kind is its own collection, so the store
 * picks collections by them instead. `extra` conditions are ANDed in.
 */
export function qdrantFilter(namespace: string, filter: StoreFilter, extra: readonly QdrantCondition[] = []): QdrantFilter {
  const must: QdrantCondition[] = [{ key: FIELD.namespace, match: { value: namespace } }];
  for (const { key, value } of filter.equals ?? []) must.push(equalsCondition(key, value));
  for (const { key, gte, lte } of filter.ranges ?? []) must.push(numberRange(key, gte, lte));
  if (filter.createdAfter || filter.createdBefore) {
    const range: Schemas["Range"] = {};
    if (filter.createdAfter) range.gte = millis(filter.createdAfter, "filter.createdAfter");
    if (filter.createdBefore) range.lte = millis(filter.createdBefore, "filter.createdBefore");
    must.push({ key: FIELD.createTime, range });
  }
  if (filter.aliveAt) {
    const instant = millis(filter.aliveAt, "filter.aliveAt");
    must.push({ should: [{ is_empty: { key: FIELD.expireTime } }, { key: FIELD.expireTime, range: { gt: instant } }] });
  }
  must.push(...extra);
  return { must };
}

/** Exactly the memories of one namespace (for counting). */
export function namespaceOnly(namespace: string): QdrantFilter {
  return { must: [{ key: FIELD.namespace, match: { value: namespace } }] };
}

function equalsCondition(key: string, value: unknown): QdrantCondition {
  switch (typeof value) {
    case "string":
      return { key: metadataPath("s", key), match: { value } };
    case "number":
      // A range, not a match: Qdrant's match takes integers only, and a range compares as numbers (1 equals 1.0).
      return Number.isFinite(value) ? { key: metadataPath("n", key), range: { gte: value, lte: value } } : NOTHING;
    case "boolean":
      return { key: metadataPath("b", key), match: { value } };
    case "object":
      // null, arrays and objects compare by their JSON text, as in the embedded store.
      return { key: metadataPath("j", key), match: { value: structuredText(value) } };
    default:
      throw new StoreInputError(`metadata filter on "${key}" has an unsupported value type (${typeof value})`);
  }
}

/**
 * An inclusive range as Qdrant can carry it. JSON has no NaN or Infinity (they
 * would arrive as null, i.e. unbounded), so bounds that exclude every number
 * become NOTHING and bounds that exclude none are left out; a range with no
 * bound still requires a number.
 */
function numberRange(key: string, gte: number | undefined, lte: number | undefined): QdrantCondition {
  const path = metadataPath("n", key);
  for (const bound of [gte, lte]) {
    if (bound !== undefined && typeof bound !== "number") throw new StoreInputError(`the range on metadata key "${key}" has a bound that is not a number`);
  }
  const range: Schemas["Range"] = {};
  if (gte !== undefined) {
    if (Number.isNaN(gte) || gte === Infinity) return NOTHING;
    if (gte !== -Infinity) range.gte = gte;
  }
  if (lte !== undefined) {
    if (Number.isNaN(lte) || lte === -Infinity) return NOTHING;
    if (lte !== Infinity) range.lte = lte;
  }
  if (range.gte === undefined && range.lte === undefined) range.gte = -Number.MAX_VALUE;
  return { key: path, range };
}
