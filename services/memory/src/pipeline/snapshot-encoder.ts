import { Worker } from "node:worker_threads";
import type { stateV1 } from "@t4dm/proto";
import { SLICED_PARTS, type SlicedPart, type SnapshotMessage } from "./snapshot-messages.js";

interface Reply {
  id: number;
  body?: Uint8Array;
  hash?: Uint8Array;
  error?: string;
}

/**
 * How many entries of each large part go to the worker per event-loop turn.
 * Each slice is ~200k numbers (a buffered memory carries its embedding, a
 * namespace up to 16 centroids), which V8 clones in a few ms; the whole of a
 * 20,000-memory state cloned at once held the event loop for 150-250 ms.
 */
const SLICE_ENTRIES: Record<SlicedPart, number> = { buffer: 512, promoting: 512, clusters: 32, requestKeys: 4096, scorerAdaptations: 64 };

/**
 * Serialises checkpoint snapshots off the event loop: the snapshot (a
 * consistent copy taken synchronously at the applied LSN) goes to a worker
 * thread, which encodes it with the generated protobuf code and hashes it.
 * The event loop only pays for the structured clone, and pays it in slices:
 * everything but the large parts in the same turn as the snapshot, then the
 * large parts a slice per turn. That is safe because those parts are fresh
 * arrays of fresh entries (memory records are never mutated once buffered),
 * which nothing else holds.
 */
export class SnapshotEncoder {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: { body: Buffer; hash: Buffer }) => void; reject: (e: Error) => void }>();

  async encode(snapshot: stateV1.LearningState): Promise<{ body: Buffer; hash: Buffer }> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    const done = new Promise<{ body: Buffer; hash: Buffer }>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    worker.ref();
    const post = (message: SnapshotMessage) => worker.postMessage(message);
    const rest: stateV1.LearningState = { ...snapshot };
    for (const part of SLICED_PARTS) (rest as unknown as Record<SlicedPart, unknown[]>)[part] = [];
    post({ id, kind: "start", rest });
    for (const part of SLICED_PARTS) {
      const entries = snapshot[part] as unknown[];
      for (let from = 0; from < entries.length; from += SLICE_ENTRIES[part]) {
        // Let requests run between slices.
        await new Promise((resolve) => setImmediate(resolve));
        if (!this.pending.has(id)) return done; // the worker failed: `done` is already rejected
        if (this.worker !== worker) {
          this.pending.get(id)!.reject(new Error("snapshot encoder closed during a checkpoint"));
          this.pending.delete(id);
          return done;
        }
        post({ id, kind: "slice", part, entries: entries.slice(from, from + SLICE_ENTRIES[part]) });
      }
    }
    post({ id, kind: "end" });
    return done;
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
      // The worker transferred these buffers to us: wrap them, copying tens of MB would block the loop.
      else waiter.resolve({ body: asBuffer(reply.body!), hash: asBuffer(reply.hash!) });
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

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
