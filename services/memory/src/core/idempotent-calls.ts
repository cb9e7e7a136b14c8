import { canonicalSha256, requestSlot } from "@t4dm/learning";
import { FailedPreconditionError } from "@t4dm/rpc";

/** A request id reused in its namespace for a different request body. */
export function requestIdReused(namespace: string, requestId: string, field = "request_id"): FailedPreconditionError {
  return new FailedPreconditionError(`${field} "${requestId}" was already used in namespace ${namespace} for a different request`, "REQUEST_ID_REUSED", {
    metadata: { request_id: requestId, namespace, field },
  });
}

/**
 * Answers of calls whose effect is not keyed in the learning state
 * (Reinforce, Forget), by (namespace, request id), in memory and bounded: a
 * retry with the same body gets the first call's answer (or waits for it),
 * another body is refused. A failed call leaves no entry, so it can be retried.
 */
export class IdempotentCalls<T> {
  private readonly calls = new Map<string, { bodyHash: string; answer: Promise<T> }>();

  constructor(private readonly limit = 10_000) {}

  run(namespace: string, requestId: string, body: unknown, call: () => Promise<T>): Promise<T> {
    if (!requestId) return call();
    const slot = requestSlot(namespace, requestId);
    const bodyHash = Buffer.from(canonicalSha256(body)).toString("hex");
    const earlier = this.calls.get(slot);
    if (earlier) {
      if (earlier.bodyHash !== bodyHash) return Promise.reject(requestIdReused(namespace, requestId));
      return earlier.answer;
    }
    const answer = call();
    this.calls.set(slot, { bodyHash, answer });
    answer.catch(() => {
      if (this.calls.get(slot)?.answer === answer) this.calls.delete(slot);
    });
    while (this.calls.size > this.limit) this.calls.delete(this.calls.keys().next().value!);
    return answer;
  }
}
