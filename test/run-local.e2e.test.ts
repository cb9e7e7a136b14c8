import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
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

/** Runs the launcher in a pty; once it says it is up, presses Ctrl-C once. */
function runInTerminal(env: Record<string, string>): Promise<Session> {
  const command = `exec ${JSON.stringify(process.execPath)} tools/run-local.mjs`;
  const terminal = spawn("script", ["-qfec", command, "/dev/null"], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  let pressed = false;
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (!pressed && output.includes("T4DM is up")) {
        pressed = true;
        terminal.stdin.write("\x03");
      }
    };
    terminal.stdout.on("data", onData);
    terminal.stderr.on("data", onData);
    terminal.once("exit", (code) => resolve({ output, exitCode: code }));
  });
}

describe("make run in a terminal", () => {
  it("one Ctrl-C is one graceful shutdown: memory service first (final checkpoint, SYSTEM_SHUTDOWN), then the sidecar; exit 0, no socket left", async () => {
    const data = makeDataDir("t4dm-run-local-");
    try {
      const session = await runInTerminal({
        T4DM_DATA_DIR: data.dir,
        T4DM_GRPC_ADDR: "127.0.0.1:0",
        T4DM_HTTP_ADDR: "127.0.0.1:0",
        T4DM_EMBEDDING_DIM: "32",
        T4DM_LOG_LEVEL: "info",
      });
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
      const records = execFileSync(process.execPath, [path.join(REPO_ROOT, "services/persistence/dist/cli.js"), "records", data.dir, "--json"], { encoding: "utf8" })
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { op: string });
      expect(records.slice(-2).map((r) => r.op)).toEqual(["OPERATION_CHECKPOINT_COMPLETE", "OPERATION_SYSTEM_SHUTDOWN"]);
    } finally {
      data.remove();
    }
  });
});
