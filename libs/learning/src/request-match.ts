import { createHash } from "node:crypto";
import type { walV1 } from "@t4dm/proto";
import type { LearningState } from "./learning-state.js";
import { requestSlot, type RequestKey } from "./request-keys.js";

/**
 * What a Remember's request id is compared on. Only what the BUFFER_ADD
 * record holds, so a retry after a restart (keys rebuilt from the WAL) is
 * judged the same as one before. Not the embedding (a remote embedder may
 * not repeat itself), nor the expiry (derived from the time of the call).
 */
export interface RequestBody {
  content: string;
  kind: walV1.MemoryKind;
  metadata: Record<string, unknown>;
  importance: number;
}

export interface KeyedRequest extends RequestBody {
  namespace: string;
  requestId: string;
}

export type RequestMatch =
  | { kind: "new" }
  /** The same request again: answer the memory it created. */
  | { kind: "retry"; memoryId: string }
  /** The id was used in this namespace for another body. */
  | { kind: "reused"; memoryId: string };

/** SHA-256 of the body, with metadata keys sorted and importance as the float32 the record keeps. */
export function requestBodyHash(body: RequestBody): Uint8Array {
  return canonicalSha256({ content: body.content, kind: body.kind, metadata: body.metadata ?? {}, importance: Math.fround(body.importance) });
}

/** SHA-256 of a request body's canonical JSON: how every request id is compared with its earlier body. */
export function canonicalSha256(value: unknown): Uint8Array {
  return createHash("sha256").update(canonicalJson(value)).digest();
}

/** How the state knows this request's id, in its own namespace only. */
export function matchRequest(state: LearningState, request: KeyedRequest): RequestMatch {
  if (!request.requestId) return { kind: "new" };
  const key = state.requestKeys.get(request.namespace, request.requestId) ?? unscopedKey(state, request.namespace, request.requestId);
  if (!key) return { kind: "new" };
  return sameBytes(key.bodySha256, requestBodyHash(request)) ? { kind: "retry", memoryId: key.memoryId } : { kind: "reused", memoryId: key.memoryId };
}

/**
 * Indexes of batch items whose request id was already used for another body
 * in the same namespace, by the state or by an earlier item of the batch.
 * Checked before anything is sequenced, so such a batch logs nothing.
 */
export function findReusedRequestIds(state: LearningState, requests: readonly KeyedRequest[]): number[] {
  const earlier = new Map<string, Uint8Array>();
  const reused: number[] = [];
  requests.forEach((request, index) => {
    if (!request.requestId) return;
    const slot = requestSlot(request.namespace, request.requestId);
    const hash = requestBodyHash(request);
    const seen = earlier.get(slot);
    if (seen) {
      if (!sameBytes(seen, hash)) reused.push(index);
      return;
    }
    earlier.set(slot, hash);
    if (matchRequest(state, request).kind === "reused") reused.push(index);
  });
  return reused;
}

/**
 * A key restored from a checkpoint written before keys were scoped has no
 * namespace. It counts only while the memory it names is held, only in that
 * memory's namespace, judged against that memory's body.
 */
function unscopedKey(state: LearningState, namespace: string, requestId: string): RequestKey | undefined {
  const legacy = state.requestKeys.get("", requestId);
  if (!legacy) return undefined;
  const held = state.buffer.get(legacy.memoryId) ?? state.buffer.getPromoting(legacy.memoryId);
  if (held?.memory.namespace !== namespace) return undefined;
  return { ...legacy, namespace, bodySha256: requestBodyHash(held.memory) };
}

/** JSON with object keys sorted at every depth: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== "object" || Array.isArray(inner)) return inner;
    const record = inner as Record<string, unknown>;
    return Object.fromEntries(Object.keys(record).sort().map((key) => [key, record[key]]));
  });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
