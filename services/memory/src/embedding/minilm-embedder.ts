import { CoalescingQueue } from "./coalescing-queue.js";
import { EmbeddingUnavailableError, type EmbeddedText, type Embedder, type EmbedderHealth } from "./embedder.js";
import { ModelWorkerClient } from "./model-worker-client.js";
import { checkModelFiles, type ModelFiles } from "./model-files.js";

export interface MiniLmSettings {
  /** A sentence-transformers ONNX export: model.onnx + tokenizer.json (+ sentence_bert_config.json). */
  modelDir: string;
  /** Worker threads, each with its own copy of the model. */
  workers: number;
  /** At most this many texts per model call. */
  maxBatch: number;
}

/**
 * The local sentence model (all-MiniLM-L6-v2 by default), in process, no
 * server and no key. Inference runs in worker threads; concurrent callers'
 * texts are coalesced into shared batches padded to their longest text.
 * Texts longer than the model window are cut, and `embedDetailed` says so.
 */
export class MiniLmEmbedder implements Embedder {
  readonly name: string;
  private readonly queue: CoalescingQueue<EmbeddedText>;

  private constructor(
    readonly files: ModelFiles,
    readonly dimensions: number,
    private readonly workers: (ModelWorkerClient | Promise<ModelWorkerClient> | undefined)[],
    maxBatch: number,
  ) {
    this.name = `minilm ${files.dir}`;
    this.queue = new CoalescingQueue(
      workers.map((_, slot) => (texts: string[]) => this.runOn(slot, texts)),
      maxBatch,
    );
  }

  /**
   * Checks the files, starts the workers and waits until each has loaded the
   * model. Throws ModelFileError (naming the file and the fix) when a file is
   * missing, damaged or not a usable model.
   */
  static async load(settings: MiniLmSettings): Promise<MiniLmEmbedder> {
    const files = await checkModelFiles(settings.modelDir);
    const data = { modelPath: files.modelPath, tokenizerPath: files.tokenizerPath, maxTokens: files.maxTokens };
    const started = await Promise.allSettled(Array.from({ length: settings.workers }, () => ModelWorkerClient.start(data)));
    const failed = started.find((s) => s.status === "rejected");
    if (failed) {
      await Promise.all(started.map((s) => (s.status === "fulfilled" ? s.value.close() : undefined)));
      throw failed.reason;
    }
    const workers = started.map((s) => (s as PromiseFulfilledResult<ModelWorkerClient>).value);
    return new MiniLmEmbedder(files, workers[0]!.dimensions, workers, settings.maxBatch);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return (await this.embedDetailed(texts)).map((t) => t.vector);
  }

  embedDetailed(texts: readonly string[]): Promise<EmbeddedText[]> {
    return this.queue.submit(texts);
  }

  async health(): Promise<EmbedderHealth> {
    // A dead worker is replaced on its next batch, so it is reported, not counted as a failure.
    const running = this.workers.filter((w) => w instanceof ModelWorkerClient && w.alive).length;
    return {
      healthy: true,
      detail: `local model ${this.files.dir}, ${this.dimensions} dimensions, ${running} of ${this.workers.length} worker(s) running, window ${this.files.maxTokens} tokens`,
    };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        const client = await Promise.resolve(w).catch(() => undefined);
        await client?.close();
      }),
    );
  }

  /** For tests: ends one worker thread as a crash would. */
  async killWorkerForTest(slot: number): Promise<void> {
    const worker = await this.workers[slot];
    await worker?.terminateForTest();
  }

  /** Runs a batch on one worker; a worker that died is replaced before its next batch. */
  private async runOn(slot: number, texts: string[]): Promise<EmbeddedText[]> {
    try {
      let worker = this.workers[slot];
      if (!(worker instanceof ModelWorkerClient) || !worker.alive) {
        const data = { modelPath: this.files.modelPath, tokenizerPath: this.files.tokenizerPath, maxTokens: this.files.maxTokens };
        // A replacement that fails to start leaves the slot empty, so the next batch tries again.
        worker = ModelWorkerClient.start(data);
        this.workers[slot] = worker;
        try {
          worker = await worker;
        } catch (error) {
          this.workers[slot] = undefined;
          throw error;
        }
        this.workers[slot] = worker;
      }
      return await worker.embed(texts);
    } catch (error) {
      throw new EmbeddingUnavailableError(`local model ${this.files.dir}`, (error as Error).message, { cause: error });
    }
  }
}
