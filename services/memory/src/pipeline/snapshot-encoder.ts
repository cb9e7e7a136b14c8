import { Worker } from "node:worker_threads";
import type { stateV1 } from "@t4dm/proto";

interface Reply {
  id: number;
  body?: Uint8Array;
  hash?: Uint8Array;
  error?: string;
}

/**
 * Serialises checkpoint snapshots off the event loop: the snapshot (a
 * consistent copy taken synchronously at the applied LSN) goes to a worker
 * thread, which encodes it with the generated protobuf code and hashes it.
 * The event loop only pays for the structured clone.
 */
export class SnapshotEncoder {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: { body: Buffer; hash: Buffer }) => void; reject: (e: Error) => void }>();

  encode(snapshot: stateV1.LearningState): Promise<{ body: Buffer; hash: Buffer }> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, snapshot });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL("./snapshot-worker.js", import.meta.url));
    worker.on("message", (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.error !== undefined) waiter.reject(new Error(`snapshot encoding failed: ${reply.error}`));
      else waiter.resolve({ body: Buffer.from(reply.body!), hash: Buffer.from(reply.hash!) });
    });
    worker.on("error", (error) => {
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
      this.worker = undefined;
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }
}
