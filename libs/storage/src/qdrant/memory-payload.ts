import type { StoredMemory } from "../episodic-store.js";
import { StoreInputError } from "../errors.js";
import { fromBlob, millis, toBlob } from "../embedded/embedding-blob.js";
import { lexicalDocument } from "./sparse-terms.js";

/**
 * How a memory is laid out as a Qdrant point payload.
 *
 * - The plain fields use snake_case; times are integer milliseconds since the
 *   epoch, so `create_time` and `expire_time` take integer payload indexes
 *   (ranges, and `order_by` for paging). Absent optional times are left out.
 * - `metadata` is the caller's metadata as JSON text, returned as given:
 *   Qdrant never interprets it.
 * - `embedding` is the vector's float32 bytes in base64. A cosine collection
 *   normalises the vectors it stores, so the vector Qdrant hands back may
 *   differ in the last bit from the one written; reads return this copy.
 * - `meta_s`, `meta_n`, `meta_b` and `meta_j` are the filterable copies of the
 *   top-level metadata values, split by JSON type (strings, finite numbers,
 *   booleans, and null/arrays/objects as JSON text). Each key is renamed to
 *   `k` + the hex of its UTF-8 bytes, so a filter path is always
 *   `meta_x.k<hex>`: a metadata key is one literal key whatever characters it
 *   holds (Qdrant would read `.`, `[]` or `"` in a key as path syntax), and
 *   equality is typed because "1", 1 and true live in different fields
 *   (Qdrant's own match would also match an array by any element).
 * - `lexical_terms` (distinct) and `lexical_length` are the content's terms by
 *   the shared tokenizer: keyword search counts and scores by them.
 */
export interface MemoryPayload {
  [field: string]: unknown;
  namespace: string;
  id: string;
  kind: number;
  content: string;
  metadata: string;
  importance: number;
  create_time: number;
  expire_time?: number;
  evidence: number;
  access_count: number;
  last_access_time?: number;
  reward_sum: number;
  reward_count: number;
  cluster_id: number;
  embedding: string;
  meta_s: Record<string, string>;
  meta_n: Record<string, number>;
  meta_b: Record<string, boolean>;
  meta_j: Record<string, string>;
  lexical_terms: string[];
  lexical_length: number;
}

/** Payload fields the store filters, orders or indexes on. */
export const FIELD = {
  namespace: "namespace",
  id: "id",
  kind: "kind",
  createTime: "create_time",
  expireTime: "expire_time",
  lexicalTerms: "lexical_terms",
  lexicalLength: "lexical_length",
} as const;

export type MetadataFieldType = "s" | "n" | "b" | "j";

/** The payload path of metadata key `key` in the filterable copy of type `type`. */
export function metadataPath(type: MetadataFieldType, key: string): string {
  return `meta_${type}.${encodeKey(key)}`;
}

/** The JSON text a structured (or null) metadata value is matched by, as the embedded store compares it. */
export function structuredText(value: unknown): string {
  return JSON.stringify(value);
}

export function toPayload(memory: StoredMemory): MemoryPayload {
  const what = `memory ${memory.id}`;
  const metadataJson = JSON.stringify(memory.metadata ?? {});
  const lexical = lexicalDocument(memory.content);
  const payload: MemoryPayload = {
    namespace: memory.namespace,
    id: memory.id,
    kind: memory.kind,
    content: memory.content,
    metadata: metadataJson,
    importance: finite(memory.importance, `importance of ${what}`),
    create_time: millis(memory.createTime, `createTime of ${what}`),
    evidence: finite(memory.evidence, `evidence of ${what}`),
    access_count: finite(memory.accessCount, `accessCount of ${what}`),
    reward_sum: finite(memory.rewardSum, `rewardSum of ${what}`),
    reward_count: finite(memory.rewardCount, `rewardCount of ${what}`),
    cluster_id: finite(memory.clusterId, `clusterId of ${what}`),
    embedding: toBlob(memory.embedding).toString("base64"),
    meta_s: {},
    meta_n: {},
    meta_b: {},
    meta_j: {},
    lexical_terms: lexical.terms,
    lexical_length: lexical.length,
  };
  if (memory.expireTime) payload.expire_time = millis(memory.expireTime, `expireTime of ${what}`);
  if (memory.lastAccessTime) payload.last_access_time = millis(memory.lastAccessTime, `lastAccessTime of ${what}`);
  // The filterable copies come from the JSON text, so they hold exactly what the embedded store filters on
  // (undefined dropped, NaN as null, a Date as its string, toJSON applied).
  const metadata = JSON.parse(metadataJson) as Record<string, unknown>;
  for (const [key, value] of Object.entries(metadata)) {
    const field = encodeKey(key);
    if (typeof value === "string") payload.meta_s[field] = value;
    else if (typeof value === "number") payload.meta_n[field] = value;
    else if (typeof value === "boolean") payload.meta_b[field] = value;
    else payload.meta_j[field] = structuredText(value);
  }
  return payload;
}

/** The memory a point's payload holds; throws when the payload is not one this store wrote. */
export function fromPayload(payload: Record<string, unknown> | null | undefined): StoredMemory {
  if (!payload) throw new Error("a Qdrant point has no payload; it was not written by T4DM");
  const p = payload as Partial<MemoryPayload>;
  if (typeof p.namespace !== "string" || typeof p.id !== "string" || typeof p.embedding !== "string" || typeof p.metadata !== "string") {
    throw new Error("a Qdrant point's payload is not a T4DM memory");
  }
  const memory: StoredMemory = {
    id: p.id,
    namespace: p.namespace,
    kind: numberField(p.kind),
    content: typeof p.content === "string" ? p.content : "",
    embedding: fromBlob(Buffer.from(p.embedding, "base64")),
    metadata: JSON.parse(p.metadata) as Record<string, unknown>,
    importance: numberField(p.importance),
    createTime: new Date(numberField(p.create_time)),
    evidence: numberField(p.evidence),
    accessCount: numberField(p.access_count),
    rewardSum: numberField(p.reward_sum),
    rewardCount: numberField(p.reward_count),
    clusterId: numberField(p.cluster_id),
  };
  if (typeof p.expire_time === "number") memory.expireTime = new Date(p.expire_time);
  if (typeof p.last_access_time === "number") memory.lastAccessTime = new Date(p.last_access_time);
  return memory;
}

function encodeKey(key: string): string {
  if (typeof key !== "string") throw new StoreInputError("a metadata key must be a string");
  return `k${Buffer.from(key, "utf8").toString("hex")}`;
}

function finite(value: number, what: string): number {
  // JSON has no NaN or Infinity: the payload would silently hold null instead.
  if (typeof value !== "number" || !Number.isFinite(value)) throw new StoreInputError(`${what} must be a finite number`);
  return value;
}

function numberField(value: unknown): number {
  return typeof value === "number" ? value : Number.NaN;
}
