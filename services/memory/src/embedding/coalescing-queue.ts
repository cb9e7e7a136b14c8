/** Runs one batch of texts and answers one result per text, in order. */
export type BatchRunner<R> = (texts: string[]) => Promise<R[]>;

interface Pending<R> {
  text: string;
  owner: Owner<R>;
  index: number;
}
interface Owner<R> {
  results: R[];
  remaining: number;
  settled: boolean;
  resolve(results: R[]): void;
  reject(error: unknown): void;
}

/**
 * Batches texts for a few runners (model workers). A runner that is free
 * takes up to `maxBatch` waiting texts at once, from as many callers as
 * that covers; texts that arrive while every runner is busy wait and go
 * together in the next batch. So concurrent Recalls share a model call,
 * and a large BatchRemember is split into batches of `maxBatch`.
 */
export class CoalescingQueue<R> {
  private readonly waiting: Pending<R>[] = [];
  private readonly idle: BatchRunner<R>[];

  constructor(
    runners: readonly BatchRunner<R>[],
    private readonly maxBatch: number,
  ) {
    if (runners.length === 0) throw new RangeError("at least one runner is needed");
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
    this.idle = [...runners];
  }

  /** One result per text, in order; rejects with the error of any batch that carried one of them. */
  submit(texts: readonly string[]): Promise<R[]> {
    if (texts.length === 0) return Promise.resolve([]);
    return new Promise<R[]>((resolve, reject) => {
      const owner: Owner<R> = { results: new Array<R>(texts.length), remaining: texts.length, settled: false, resolve, reject };
      texts.forEach((text, index) => this.waiting.push({ text, owner, index }));
      this.pump();
    });
  }

  /** How many texts wait for a free runner (for tests and metrics). */
  get backlog(): number {
    return this.waiting.length;
  }

  private pump(): void {
    while (this.idle.length > 0 && this.waiting.length > 0) {
      const runner = this.idle.pop()!;
      const batch = this.waiting.splice(0, this.maxBatch);
      void this.runBatch(runner, batch);
    }
  }

  private async runBatch(runner: BatchRunner<R>, batch: Pending<R>[]): Promise<void> {
    try {
      const results = await runner(batch.map((p) => p.text));
      if (results.length !== batch.length) throw new Error(`a batch of ${batch.length} texts gave ${results.length} results`);
      batch.forEach((p, i) => {
        if (p.owner.settled) return;
        p.owner.results[p.index] = results[i]!;
        if (--p.owner.remaining === 0) {
          p.owner.settled = true;
          p.owner.resolve(p.owner.results);
        }
      });
    } catch (error) {
      for (const p of batch) {
        if (p.owner.settled) continue;
        p.owner.settled = true;
        p.owner.reject(error);
      }
    } finally {
      this.idle.push(runner);
      this.pump();
    }
  }
}
