import { Worker } from "node:worker_threads";
import type { ModelWorkerData, WorkerReply, WorkerRequest } from "./model-worker.js";
import type { EmbeddedText } from "./embedder.js";
import { ModelFileError } from "./embedder-startup-error.js";


/** The worker died or could not embed; the caller maps it to UNAVAILABLE. */
export class ModelWorkerError extends Error {}

/**
 * One model worker thread, seen from the event loop: `start` waits until the
 * model is loaded (or throws ModelFileError naming the bad file), `embed`
 * sends one batch. If the thread dies, its batches reject and `alive` turns false.
 */
export class ModelWorkerClient {
  private nextId = 1;
  private readonly inFlight = new Map<number, { resolve(texts: EmbeddedText[]): void; reject(error: Error): void }>();
  private exited = false;

  private constructor(
    private readonly worker: Worker,
    readonly dimensions: number,
  ) {
    worker.on("message", (reply: WorkerReply) => this.onReply(reply));
    worker.on("error", (error) => this.fail(new ModelWorkerError(`the embedding model worker failed: ${error.message}`, { cause: error })));
    worker.on("exit", (code) => this.fail(new ModelWorkerError(`the embedding model worker exited (code ${code})`)));
  }

  static start(data: ModelWorkerData): Promise<ModelWorkerClient> {
    const worker = new Worker(new URL("./model-worker.js", import.meta.url), { workerData: data });
    return new Promise((resolve, reject) => {
      const onExit = (code: number) => reject(new ModelFileError(data.modelPath, `could not be loaded: the model worker exited (code ${code})`));
      worker.once("error", (error) => reject(new ModelFileError(data.modelPath, `could not be loaded: ${error.message}`, { cause: error })));
      worker.once("exit", onExit);
      worker.once("message", (reply: WorkerReply) => {
        worker.off("exit", onExit);
        worker.removeAllListeners("error");
        if (reply.type === "ready") resolve(new ModelWorkerClient(worker, reply.dimensions));
        else {
          void worker.terminate();
          reject(reply.type === "failed" ? new ModelFileError(reply.file, reply.problem) : new ModelFileError(data.modelPath, "could not be loaded"));
        }
      });
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  embed(texts: string[]): Promise<EmbeddedText[]> {
    if (this.exited) return Promise.reject(new ModelWorkerError("the embedding model worker is not running"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.inFlight.set(id, { resolve, reject });
      this.worker.postMessage({ id, texts } satisfies WorkerRequest);
    });
  }

  async close(): Promise<void> {
    this.exited = true;
    await this.worker.terminate();
  }

  /** Ends the thread without marking it closed first, as a crash would (the exit handler sees it). */
  async terminateForTest(): Promise<void> {
    await this.worker.terminate();
  }

  private onReply(reply: WorkerReply): void {
    if (reply.type !== "embedded" && reply.type !== "error") return;
    const call = this.inFlight.get(reply.id);
    if (!call) return;
    this.inFlight.delete(reply.id);
    if (reply.type === "error") call.reject(new ModelWorkerError(`the embedding model failed on a batch: ${reply.message}`));
    else call.resolve(reply.vectors.map((vector, i) => ({ vector, truncated: reply.truncated[i]! })));
  }

  private fail(error: Error): void {
    this.exited = true;
    for (const call of this.inFlight.values()) call.reject(error);
    this.inFlight.clear();
  }
}
