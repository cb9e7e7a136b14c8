/**
 * The progress line on stderr: rewritten in place on a terminal, otherwise
 * one line at most every few seconds (logs stay readable). The rate uses the
 * wall clock; it is shown, never relied on.
 */
export class ProgressLine {
  private lastShownMs = 0;
  private readonly startedMs: number;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly now: () => number = Date.now,
  ) {
    this.startedMs = now();
  }

  update(text: (ratePerSecond: number) => string, force = false): void {
    const now = this.now();
    const every = this.out.isTTY ? 200 : 5_000;
    if (!force && now - this.lastShownMs < every) return;
    this.lastShownMs = now;
    const seconds = (now - this.startedMs) / 1000;
    const line = text(seconds > 0 ? this.count / seconds : 0);
    this.out.write(this.out.isTTY ? `\r\x1b[K${line}` : `${line}\n`);
  }

  /** Items done so far (for the rate). */
  count = 0;

  done(text: string): void {
    this.out.write(this.out.isTTY ? `\r\x1b[K${text}\n` : `${text}\n`);
  }
}
