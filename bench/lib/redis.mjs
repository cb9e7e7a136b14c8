// @ts-check
/** A real redis-server (Debian's package) on a free loopback port, for the anchors. */
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  server.close();
  await once(server, "close");
  return port;
}

/**
 * Starts redis-server in `dir` with the given config arguments (e.g.
 * ["--appendonly", "yes", "--appendfsync", "always"]) and resolves once it
 * logs "Ready to accept connections"; `loadedMs` is the time from spawn to
 * that line, which includes loading any AOF already in `dir`.
 * @param {{ dir: string, args?: string[] }} options
 */
export async function startRedis({ dir, args = [] }) {
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--daemonize", "no", "--logfile", "", ...args],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  const ready = new Promise((resolve, reject) => {
    child.stdout?.on("data", (chunk) => {
      log += String(chunk);
      if (log.includes("Ready to accept connections")) resolve(undefined);
    });
    child.stderr?.on("data", (chunk) => (log += String(chunk)));
    child.once("exit", (code) => reject(new Error(`redis-server exited (${code}) before ready:\n${log}`)));
    child.once("error", reject);
  });
  await ready;
  const loadedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return {
    port,
    pid: child.pid,
    loadedMs,
    log: () => log,
    /** SHUTDOWN NOSAVE (the AOF stays as written) and wait for exit. */
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, "exit");
      await redisCli(port, ["SHUTDOWN", "NOSAVE"]).catch(() => child.kill("SIGKILL"));
      await exited;
    },
  };
}

/** Runs redis-cli against the port and resolves with its stdout. @param {number} port @param {string[]} args */
export function redisCli(port, args) {
  return new Promise((resolve, reject) => {
    execFile("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], (error, stdout) =>
      error && !String(error.message).includes("closed") ? reject(error) : resolve(stdout),
    );
  });
}
