import { createHash } from "node:crypto";

/**
 * The UUIDv5 namespace of T4DM memory point ids (a fixed random UUID). Never
 * change it: every point already stored in Qdrant was named under it.
 */
const T4DM_MEMORY_NAMESPACE = Buffer.from("6f1d4c52-3a8e-4b7a-9c0d-2e5f8a1b7c43".replaceAll("-", ""), "hex");

/**
 * The Qdrant point id of memory `id` in `namespace`: a UUIDv5 (RFC 9562,
 * SHA-1) of the JSON text of `[namespace, id]` under the T4DM namespace UUID.
 *
 * Qdrant accepts only UUIDs and unsigned integers as point ids, and the same
 * memory id in two namespaces is two memories, so the id is derived from both;
 * the JSON array keeps the pair unambiguous whatever characters either holds.
 * The real id and namespace are kept in the payload, and every read checks
 * them, so a point id is only ever a lookup key.
 */
export function pointId(namespace: string, id: string): string {
  const digest = createHash("sha1").update(T4DM_MEMORY_NAMESPACE).update(JSON.stringify([namespace, id]), "utf8").digest();
  digest[6] = (digest[6]! & 0x0f) | 0x50; // version 5
  digest[8] = (digest[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = digest.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
