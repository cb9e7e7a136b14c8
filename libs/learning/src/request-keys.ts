/**
 * Idempotency keys of admitted memories, oldest first, bounded: a retried
 * Remember with the same request id finds the memory it already created.
 */
export class RequestKeys {
  private readonly keys = new Map<string, string>();

  constructor(private readonly limit = 10_000) {}

  get(requestId: string): string | undefined {
    return this.keys.get(requestId);
  }

  add(requestId: string, memoryId: string): void {
    if (!requestId) return;
    this.keys.delete(requestId);
    this.keys.set(requestId, memoryId);
    while (this.keys.size > this.limit) this.keys.delete(this.keys.keys().next().value!);
  }

  entries(): { requestId: string; memoryId: string }[] {
    return [...this.keys].map(([requestId, memoryId]) => ({ requestId, memoryId }));
  }
}
