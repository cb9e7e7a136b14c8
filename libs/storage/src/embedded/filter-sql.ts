import type { StoreFilter } from "../episodic-store.js";
import { StoreInputError } from "../errors.js";
import { millis } from "./embedding-blob.js";

/** A parameterised SQL condition over the `memories` table, to AND into a WHERE clause. */
export interface SqlCondition {
  sql: string;
  params: unknown[];
}

/**
 * Metadata keys become JSON paths inside SQL (`'$.' || json_quote(?)`), so a
 * key is always one literal top-level key whatever characters it holds: it
 * is bound as a parameter and quoted by SQLite, never spliced into the text.
 */
const PATH = "('$.' || json_quote(?))";
const TYPE_OF = `json_type(metadata, ${PATH})`;
const VALUE_OF = `json_extract(metadata, ${PATH})`;

/**
 * Every part of the filter, as SQL. Create-time bounds are inclusive (as in
 * the learning state's filter); equality is typed, so "1" does not equal 1
 * and true does not equal 1; ranges match numbers only.
 */
export function filterSql(filter: StoreFilter): SqlCondition {
  const parts: string[] = ["1"];
  const params: unknown[] = [];
  if (filter.kinds && filter.kinds.length > 0) {
    parts.push(`kind IN (SELECT value FROM json_each(?))`);
    params.push(JSON.stringify(filter.kinds));
  }
  for (const { key, value } of filter.equals ?? []) {
    const condition = equalsSql(key, value);
    parts.push(condition.sql);
    params.push(...condition.params);
  }
  for (const { key, gte, lte } of filter.ranges ?? []) {
    parts.push(`${TYPE_OF} IN ('integer', 'real')`);
    params.push(key);
    if (gte !== undefined) {
      parts.push(`${VALUE_OF} >= ?`);
      params.push(key, gte);
    }
    if (lte !== undefined) {
      parts.push(`${VALUE_OF} <= ?`);
      params.push(key, lte);
    }
  }
  if (filter.createdAfter) {
    parts.push("create_time >= ?");
    params.push(millis(filter.createdAfter, "filter.createdAfter"));
  }
  if (filter.createdBefore) {
    parts.push("create_time <= ?");
    params.push(millis(filter.createdBefore, "filter.createdBefore"));
  }
  if (filter.aliveAt) {
    parts.push("(expire_time IS NULL OR expire_time > ?)");
    params.push(millis(filter.aliveAt, "filter.aliveAt"));
  }
  return { sql: parts.join(" AND "), params };
}

function equalsSql(key: string, value: unknown): SqlCondition {
  if (typeof key !== "string") throw new StoreInputError("a metadata filter key must be a string");
  switch (typeof value) {
    case "string":
      return { sql: `${TYPE_OF} = 'text' AND ${VALUE_OF} = ?`, params: [key, key, value] };
    case "number":
      return { sql: `${TYPE_OF} IN ('integer', 'real') AND ${VALUE_OF} = ?`, params: [key, key, value] };
    case "boolean":
      return { sql: `${TYPE_OF} = ?`, params: [key, value ? "true" : "false"] };
    case "object":
      if (value === null) return { sql: `${TYPE_OF} = 'null'`, params: [key] };
      // Structured values compare by their minified JSON text, as the learning state's filter does.
      return { sql: `${TYPE_OF} IN ('object', 'array') AND ${VALUE_OF} = json(?)`, params: [key, key, JSON.stringify(value)] };
    default:
      throw new StoreInputError(`metadata filter on "${key}" has an unsupported value type (${typeof value})`);
  }
}
