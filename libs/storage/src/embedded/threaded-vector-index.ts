import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { VectorIndexError } from "../errors.js";
import type { IndexReply, IndexRequest, IndexWorkerData } from "./vector-index-messages.js";
import type { HnswParams } from "./vector-index.js";

const BUILT_WORKER = new URL("./vector-index-worker.js", import.meta.url);
// Tests run this module from src/ (TypeScript, no .js beside it): the worker is then the built one.
const WORKER = existsSync(fileURLToPath(BUILT_WORKER)) ? BUILT_WORKER : new URL("../../dist/embedded/vector-index-worker.js", import.meta.url);

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };
/** Distributes `Omit` over the request union, so each operation keeps its own fields. */
type Request = IndexRequest extends infer R ? (R extends IndexRequest ? Omit<R, "id"> : never) : never;

/**
 * A VectorIndex (usearch HNSW) owned by a worker thread: inserts and searches
 * run there, so the event loop is free while an HNSW insert runs (usearch's
 * calls are synchronous). The index is never touched by two threads. Requests
 * run in the order sent, so a search sees every change sent before it, and
 * each promise resolves when its request has run: a writer that awaits its
 * change is held back by the worker (the queue holds at most one request per
 * waiting caller).
 *
 * If the worker dies, pending requests reject with VectorIndexError and the
 * next request starts an empty one: the owner rebuilds it from SQLite.
 */
export class ThreadedVectorIndex {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    readonly dimensions: number,
    private readonly params: HnswParams,
  ) {}

  /** Adds vectors (row-major; the buffer is handed to the worker, so the caller must not reuse it), replacing any under the same keys. */
  async put(keys: readonly number[], vectors: Float32Array): Promise<void> {
    if (keys.length === 0) return;
    await this.send({ op: "put", keys: [...keys], vectors }, [vectors.buffer as ArrayBuffer]);
  }

  async remove(keys: readonly number[]): Promise<void> {
    if (keys.length > 0) await this.send({ op: "remove", keys: [...keys] });
  }

  /** The `count` nearest keys by cosine distance, nearest first. */
  async nearest(query: Float32Array, count: number): Promise<number[]> {
    // A copy: the caller's array may be a view of a larger buffer, which a clone would copy whole.
    const copy = Float32Array.from(query);
    return (await this.send({ op: "nearest", query: copy, count }, [copy.buffer])) as number[];
  }

  async clear(): Promise<void> {
    await this.send({ op: "clear" });
  }

  async size(): Promise<number> {
    return (await this.send({ op: "size" })) as number;
  }

  /** See VectorIndex.saveAtomically; resolves with the SHA-256 of what was written. */
  async saveAtomically(path: string): Promise<string> {
    return (await this.send({ op: "save", path })) as string;
  }

  /** See VectorIndex.loadVerified. */
  async loadVerified(path: string, sha256: string | undefined): Promise<boolean> {
    return (await this.send({ op: "load", path, sha256 })) as boolean;
  }

  /** Stops the worker; requests still pending reject. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new VectorIndexError("the vector index was closed"));
    await worker?.terminate();
  }

  private send(request: Request, transfer: ArrayBuffer[] = []): Promise<unknown> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    const reply = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    worker.ref();
    worker.postMessage({ ...request, id } as IndexRequest, transfer);
    return reply;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const workerData: IndexWorkerData = { dimensions: this.dimensions, params: this.params };
    const worker = new Worker(WORKER, { workerData });
    worker.on("message", (reply: IndexReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(new VectorIndexError(`vector index: ${reply.message}`));
    });
    const lost = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(new VectorIndexError(`the vector index worker stopped: ${error.message}`, { cause: error }));
    };
    worker.on("error", lost);
    worker.on("exit", (code) => lost(new Error(`exit code ${code}`)));
    // Only after the listeners: adding a 'message' listener refs the worker again.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private failAll(error: VectorIndexError): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
