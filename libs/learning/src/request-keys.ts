import type { stateV1 } from "@t4dm/proto";

/** One request id a Remember admitted a memory with. */
export interface RequestKey {
  /** Empty only for entries restored from checkpoints written before keys were scoped. */
  namespace: string;
  requestId: string;
  memoryId: string;
  /** SHA-256 of the request body (see requestBodyHash); empty for unscoped entries. */
  bodySha256: Uint8Array;
}

/**
 * Idempotency keys of admitted memories by (namespace, request id), oldest
 * first, bounded: a retried Remember finds the memory it already created, and
 * the same id in another namespace finds nothing.
 */
export class RequestKeys {
  private readonly keys = new Map<string, RequestKey>();

  constructor(private readonly limit = 10_000) {}

  /** The key in exactly this namespace; "" reaches only unscoped (restored) entries. */
  get(namespace: string, requestId: string): RequestKey | undefined {
    return this.keys.get(requestSlot(namespace, requestId));
  }

  add(key: RequestKey): void {
    if (!key.requestId) return;
    const at = requestSlot(key.namespace, key.requestId);
    this.keys.delete(at);
    this.keys.set(at, key);
    while (this.keys.size > this.limit) this.keys.delete(this.keys.keys().next().value!);
  }

  entries(): stateV1.RequestKey[] {
    return [...this.keys.values()].map(({ requestId, memoryId, namespace, bodySha256 }) => ({ requestId, memoryId, namespace, bodySha256 }));
  }
}

/** One map key per (namespace, request id); NUL cannot occur in a namespace, so pairs never collide. */
export const requestSlot = (namespace: string, requestId: string) => `${namespace}\u0000${requestId}`;
