/**
 * Progress bookkeeping for the re-embed command, pure: items done of a total
 * (counting what a killed run already staged), the rate of this run, and the
 * line an operator reads.
 */
export class ReembedProgress {
  private doneNow = 0;

  constructor(
    readonly what: string,
    readonly total: number,
    /** Done before this run started (a resumed re-embed). */
    readonly doneBefore: number,
    private readonly startedMs: number,
  ) {}

  get done(): number {
    return this.doneBefore + this.doneNow;
  }

  advance(count: number): void {
    this.doneNow += count;
  }

  /** Items per second in this run; 0 until a measurable time has passed. */
  rate(nowMs: number): number {
    const seconds = (nowMs - this.startedMs) / 1000;
    return seconds > 0 ? this.doneNow / seconds : 0;
  }

  /** E.g. `re-embed episodic: 1200/5000 (24%), 81.3/s, ~47 s left (300 done before)`. */
  line(nowMs: number): string {
    const rate = this.rate(nowMs);
    const percent = this.total === 0 ? 100 : Math.floor((100 * this.done) / this.total);
    const left = this.total - this.done;
    const eta = rate > 0 && left > 0 ? `, ~${Math.ceil(left / rate)} s left` : "";
    const resumed = this.doneBefore > 0 ? ` (${this.doneBefore} done before)` : "";
    return `re-embed ${this.what}: ${this.done}/${this.total} (${percent}%), ${rate.toFixed(1)}/s${eta}${resumed}`;
  }
}
