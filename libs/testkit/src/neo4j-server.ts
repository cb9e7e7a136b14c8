import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { REPO_ROOT } from "./service-process.js";

export const LAUNCHER_JAR = join(REPO_ROOT, "tools/neo4j/target/neo4j-launcher.jar");

/**
 * Builds tools/neo4j (Maven, cached in ~/.m2) unless the jar is newer than its sources;
 * the Makefile's `neo4j` target is the one rule for that, so a bare `npx vitest run` and
 * `make test` agree.
 */
export function buildLauncher(): void {
  execFileSync("make", ["-s", "--no-print-directory", "neo4j"], { cwd: REPO_ROOT, stdio: ["ignore", "inherit", "inherit"] });
  if (!existsSync(LAUNCHER_JAR)) throw new Error(`make neo4j did not produce ${LAUNCHER_JAR}`);
}

export interface Neo4jConnection {
  uri: string;
  user: string;
  password: string;
}

export interface Neo4jServerOptions {
  /** Server home (data, logs); a fresh temp dir, removed on stop, when unset. */
  home?: string;
  /** Bolt port; a free one when unset (retried on a lost race for it). */
  port?: number;
  /** Give up on READY after this long. Default 120 s: a cold JVM on a busy 2-core CI machine. */
  startTimeoutMs?: number;
}

// C1 only and a serial GC: the server runs for a test run, where start-up time and
// CPU left for the tests matter more than peak throughput.
const JVM_FLAGS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xms64m", "-Xmx512m", "-XX:MaxDirectMemorySize=256m"];

/**
 * A real Neo4j Community server (tools/neo4j) as a child process, with auth on and a
 * random password. It stops when its stdin closes, so it cannot outlive this process
 * for long even if `stop` is never called.
 */
export class Neo4jServer {
  private child: ChildProcessWithoutNullStreams | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly home: string,
    private readonly ownsHome: boolean,
    private port: number,
    readonly password: string,
    private readonly startTimeoutMs: number,
  ) {}

  static async start(options: Neo4jServerOptions = {}): Promise<Neo4jServer> {
    const home = options.home ?? (await mkdtemp(join(tmpdir(), "t4dm-neo4j-")));
    const server = new Neo4jServer(home, options.home === undefined, options.port ?? 0, randomBytes(12).toString("hex"), options.startTimeoutMs ?? 120_000);
    try {
      await server.launch(options.port === undefined);
    } catch (error) {
      if (server.ownsHome) await rm(home, { recursive: true, force: true });
      throw error;
    }
    return server;
  }

  get uri(): string {
    return `bolt://127.0.0.1:${this.port}`;
  }

  get connection(): Neo4jConnection {
    return { uri: this.uri, user: "neo4j", password: this.password };
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts it again over the same home and port, after `stop` or `kill`. */
  async restart(): Promise<void> {
    if (this.child) throw new Error("Neo4j is still running");
    await this.launch(false);
  }

  /** A clean shutdown: closes stdin, waits for the exit (SIGKILL after 30 s). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.stdin.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** A crash: SIGKILL, no checkpoint; what was committed must survive the restart. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill("SIGKILL");
    await this.exited;
  }

  /** Stops the server and removes its home if the server made it. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.ownsHome) await rm(this.home, { recursive: true, force: true });
  }

  private async launch(pickPort: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (pickPort) this.port = await freePort();
      try {
        await this.spawnOnce();
        return;
      } catch (error) {
        // Another process may take the free port between our probe and Neo4j's bind.
        const lostRace = error instanceof LaunchError && /address already in use|BindException/i.test(error.output);
        if (!(pickPort && lostRace && attempt < 3)) throw error;
      }
    }
  }

  private spawnOnce(): Promise<void> {
    const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, "bin", "java") : "java";
    const args = [...JVM_FLAGS, "-jar", LAUNCHER_JAR, "--port", String(this.port), "--home", this.home];
    const child = spawn(java, args, { env: { ...process.env, T4DM_NEO4J_LAUNCHER_PASSWORD: this.password }, stdio: "pipe" });
    this.child = child;
    this.exited = new Promise((resolveExit) => child.once("close", () => resolveExit()));
    child.once("close", () => {
      if (this.child === child) this.child = undefined;
    });

    const output: string[] = [];
    const keep = (line: string) => {
      output.push(line);
      if (output.length > 200) output.shift();
    };
    createInterface({ input: child.stderr }).on("line", keep);
    const stdout = createInterface({ input: child.stdout });

    return new Promise<void>((resolveReady, rejectReady) => {
      let settled = false;
      const fail = (reason: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        child.kill("SIGKILL");
        rejectReady(new LaunchError(`Neo4j (${java} -jar ${LAUNCHER_JAR}) did not start on 127.0.0.1:${this.port}: ${reason}`, output.join("\n")));
      };
      const timer = setTimeout(() => fail(`no READY line within ${this.startTimeoutMs} ms`), this.startTimeoutMs);
      stdout.on("line", (line) => {
        keep(line);
        if (!settled && line.startsWith("READY ")) {
          settled = true;
          clearTimeout(timer);
          resolveReady();
        }
      });
      child.once("error", (error) => fail(error.message));
      child.once("close", (code, signal) => fail(`exited with ${signal ?? `code ${code}`}`));
    });
  }
}

/** A start failure, with the launcher's last output lines (the JVM's reason) in the message. */
export class LaunchError extends Error {
  override readonly name = "LaunchError";
  constructor(
    reason: string,
    readonly output: string,
  ) {
    super(output ? `${reason}\n--- launcher output ---\n${output}` : reason);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, rejectPort) => {
    const probe = createServer();
    probe.once("error", rejectPort);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}
