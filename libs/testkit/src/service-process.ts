import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

/** The repository root, from this package's dist/ folder. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export type ServiceName = "persistence" | "memory";

export interface LogLine {
  level?: string;
  msg?: string;
  event?: string;
  [key: string]: unknown;
}

/**
 * A real T4DM process started from its built `dist/main.js`, with its JSON
 * log lines collected so a test can await an event instead of sleeping.
 */
export class ServiceProcess {
  readonly lines: LogLine[] = [];
  /** Non-JSON output (start-up failures print plain text on stderr). */
  stderr = "";
  private readonly waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly name: ServiceName, readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on("line", (text) => this.onLine(text));
    child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  /** `nodeArgs` go before the script (flags such as --cpu-prof are refused in NODE_OPTIONS). */
  static start(name: ServiceName, env: Record<string, string>, nodeArgs: readonly string[] = []): ServiceProcess {
    // The hashing embedder unless a test picks one: most tests use small dimensions and no model
    // (the local model has its own tests, which set T4DM_EMBEDDER=minilm).
    const embedder = env.T4DM_EMBEDDER || env.T4DM_EMBEDDING_URL ? {} : { T4DM_EMBEDDER: "hashing" };
    const child = spawn(process.execPath, [...nodeArgs, `${REPO_ROOT}services/${name}/dist/main.js`], {
      // Tests verify state with bursts of reads; the per-key rate limit has its own tests.
      env: { PATH: process.env.PATH ?? "", T4DM_LOG_LEVEL: "debug", T4DM_RATE_LIMIT: "0", ...embedder, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new ServiceProcess(name, child);
  }

  /** Resolves with the first log line (past or future) that matches. */
  waitFor(match: (line: LogLine) => boolean): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.waiters.push({ match, resolve });
      void this.exited.then(({ code, signal }) =>
        reject(new Error(`${this.name} exited (code ${code}, signal ${signal}) before the awaited log line; stderr: ${this.stderr}`)),
      );
    });
  }

  waitForEvent(event: string): Promise<LogLine> {
    return this.waitFor((line) => line.event === event);
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  /**
   * What the kernel says each of the process's threads is doing (state, the kernel function it
   * waits in, CPU ticks so far): for a test that finds the process stuck, whether it spins, sleeps
   * in its event loop, or blocks in a write or on the disk. Linux only; empty elsewhere.
   */
  kernelState(): string {
    const pid = this.child.pid;
    try {
      return readdirSync(`/proc/${pid}/task`)
        .map((tid) => {
          const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
          // Fields after the command name: state is the 1st, utime and stime the 12th and 13th.
          const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
          const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
          const wchan = readFileSync(`/proc/${pid}/task/${tid}/wchan`, "utf8");
          return `${tid} ${name} state=${fields[0]} wchan=${wchan || "-"} cpu_ticks=${Number(fields[11]) + Number(fields[12])}`;
        })
        .join("\n");
    } catch (error) {
      return `no kernel state for pid ${pid}: ${(error as Error).message}`;
    }
  }

  private onLine(text: string): void {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { msg: text };
    }
    this.lines.push(line);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(line)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  }
}
