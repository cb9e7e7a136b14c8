import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { makeDataDir, REPO_ROOT, type LogLine } from "@t4dm/testkit";

// `make run` (tools/run-local.mjs) under a real terminal: script(1) gives it a
// pseudo-terminal with job control, and Ctrl-C is the byte 0x03 written to the
// terminal, which the tty driver turns into one SIGINT for the whole
// foreground process group, exactly as when a user presses it.

interface Session {
  /** Everything the terminal showed, in order. */
  output: string;
  exitCode: number | null;
}

function lines(output: string): LogLine[] {
  return output
    .split(/\r?\n/)
    .filter((line) => line.startsWith("{"))
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        return { msg: line };
      }
    });
}

/** The launcher in a pty: what the terminal showed so far, Ctrl-C, and the exit. */
class Terminal {
  output = "";
  readonly exited: Promise<Session>;
  private readonly process: ChildProcess;
  private readonly waiters: { text: string; resolve: () => void }[] = [];

  constructor(env: Record<string, string>) {
    const command = `exec ${JSON.stringify(process.execPath)} tools/run-local.mjs`;
    this.process = spawn("script", ["-qfec", command, "/dev/null"], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    const onData = (chunk: Buffer) => {
      this.output += chunk.toString();
      for (const waiter of this.waiters.filter((w) => this.output.includes(w.text))) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    };
    this.process.stdout!.on("data", onData);
    this.process.stderr!.on("data", onData);
    this.exited = new Promise((resolve) => this.process.once("exit", (code) => resolve({ output: this.output, exitCode: code })));
  }

  /** Resolves once the terminal has shown `text`. */
  shows(text: string): Promise<void> {
    if (this.output.includes(text)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ text, resolve }));
  }

  /** Ctrl-C: the tty driver sends SIGINT to the foreground process group. */
  pressCtrlC(): void {
    this.process.stdin!.write("\x03");
  }

  /** Ends a session a failed test left running: the terminal hangs up, and the launcher stops on SIGHUP. */
  async close(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill("SIGKILL");
    await this.exited;
  }

  /** The pid of the launcher's child running `services/<name>/dist/main.js`. */
  servicePid(name: string): number {
    const childrenOf = (pid: number): number[] =>
      readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    const launcher = childrenOf(this.process.pid!)[0]!;
    const pid = childrenOf(launcher).find((child) => readFileSync(`/proc/${child}/cmdline`, "utf8").includes(`services/${name}/dist/main.js`));
    if (pid === undefined) throw new Error(`no ${name} process under the launcher`);
    return pid;
  }
}

/** The op of every WAL record, in LSN order, as the persistence CLI reads them. */
function walOps(dataDir: string): string[] {
  return execFileSync(process.execPath, [path.join(REPO_ROOT, "services/persistence/dist/cli.js"), "records", dataDir, "--json"], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => (JSON.parse(line) as { op: string }).op);
}

const envFor = (dataDir: string) => ({
  T4DM_DATA_DIR: dataDir,
  T4DM_GRPC_ADDR: "127.0.0.1:0",
  T4DM_HTTP_ADDR: "127.0.0.1:0",
  T4DM_EMBEDDING_DIM: "32",
  // The launcher is under test here, not the model (which has its own tests).
  T4DM_EMBEDDER: "hashing",
  T4DM_LOG_LEVEL: "info",
});

describe("make run in a terminal", () => {
  it("one Ctrl-C is one graceful shutdown: memory service first (final checkpoint, SYSTEM_SHUTDOWN), then the sidecar; exit 0, no socket left", async () => {
    const data = makeDataDir("t4dm-run-local-");
    const terminal = new Terminal(envFor(data.dir));
    try {
      await terminal.shows("T4DM is up");
      terminal.pressCtrlC();
      const session = await terminal.exited;
      const log = lines(session.output);
      const memory = log.filter((l) => l.service === "memory");
      const sidecar = log.filter((l) => l.service === "persistence");
      expect(session.exitCode, session.output).toBe(0);
      expect(memory.filter((l) => l.event === "shutdown.forced"), "no 'second signal'").toEqual([]);
      expect(memory.find((l) => l.event === "shutdown.started")?.signal).toBe("SIGTERM");
      const phases = memory.filter((l) => l.event === "shutdown.phase").map((l) => `${String(l.phase)}:${String(l.outcome)}`);
      expect(phases).toEqual(["drain:done", "checkpoint:done", "wal:done", "cleanup:done"]);
      expect(memory.some((l) => l.event === "checkpoint.done" && l.reason === "shutdown")).toBe(true);
      // The sidecar is asked to stop only once the memory service has stopped.
      const memoryStopped = log.findIndex((l) => l.event === "memory.stopped");
      const sidecarStopping = log.findIndex((l) => l.event === "sidecar.stopping");
      expect(memoryStopped).toBeGreaterThanOrEqual(0);
      expect(sidecarStopping).toBeGreaterThan(memoryStopped);
      expect(sidecar.find((l) => l.event === "sidecar.stopping")?.writers).toBe(0);
      expect(sidecar.some((l) => l.event === "sidecar.stopped")).toBe(true);
      expect(existsSync(path.join(data.dir, "sidecar.sock")), "the socket is removed").toBe(false);

      // The WAL ends in SYSTEM_SHUTDOWN, right after the final checkpoint's commit.
      expect(walOps(data.dir).slice(-2)).toEqual(["OPERATION_CHECKPOINT_COMPLETE", "OPERATION_SYSTEM_SHUTDOWN"]);
    } finally {
      await terminal.close();
      data.remove();
    }
  });

  it("a second Ctrl-C forces: the memory service exits at once, the sidecar still stops, and the launcher exits 1", async () => {
    const data = makeDataDir("t4dm-run-local-force-");
    const terminal = new Terminal(envFor(data.dir));
    let sidecar: number | undefined;
    try {
      await terminal.shows("T4DM is up");
      // A stopped sidecar holds the final checkpoint, so the graceful stop is still under way at the second press.
      sidecar = terminal.servicePid("persistence");
      process.kill(sidecar, "SIGSTOP");
      terminal.pressCtrlC();
      await terminal.shows('"phase":"drain"');
      terminal.pressCtrlC();
      await terminal.shows('"event":"shutdown.forced"');
      process.kill(sidecar, "SIGCONT");
      const session = await terminal.exited;
      const log = lines(session.output);
      expect(session.exitCode, session.output).toBe(1);
      expect(log.some((l) => l.event === "sidecar.stopped")).toBe(true);
    } finally {
      if (sidecar !== undefined) {
        try {
          process.kill(sidecar, "SIGCONT");
        } catch {
          // already gone
        }
      }
      await terminal.close();
      data.remove();
    }
  });

  it("closing the terminal (hangup) stops both gracefully too", async () => {
    const data = makeDataDir("t4dm-run-local-hup-");
    const terminal = new Terminal(envFor(data.dir));
    try {
      await terminal.shows("T4DM is up");
      const pids = ["memory", "persistence"].map((name) => terminal.servicePid(name));
      await terminal.close();
      // The launcher outlives the terminal, so poll (with a deadline) for its children to be gone.
      const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
      for (const deadline = Date.now() + 30_000; pids.some(alive) && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(pids.filter(alive)).toEqual([]);
      expect(existsSync(path.join(data.dir, "sidecar.sock")), "the socket is removed").toBe(false);
      expect(walOps(data.dir).at(-1)).toBe("OPERATION_SYSTEM_SHUTDOWN");
    } finally {
      await terminal.close();
      data.remove();
    }
  });
});
