#!/usr/bin/env node
// `make run`: starts the persistence sidecar, then the memory service, on the
// embedded defaults (override with the usual T4DM_* variables). Ctrl-C stops
// both gracefully, in order: the memory service first (final checkpoint,
// SYSTEM_SHUTDOWN), then the sidecar once it has exited. A second Ctrl-C
// forces both. If either dies, the other is stopped and this exits non-zero.
//
// The children run in their own process groups (detached): the terminal's
// Ctrl-C reaches only this launcher, which sends each child exactly one
// signal. Otherwise every child got the terminal's SIGINT *and* the one
// forwarded here, and took the second as "exit now".
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const children = new Map();
let stopping = false;
let forced = false;

function start(name, onLine) {
  const child = spawn(process.execPath, [`${root}services/${name}/dist/main.js`], {
    env: process.env,
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
  });
  // "close", not "exit": by then every line the child wrote has been passed on.
  const exited = new Promise((resolve) => child.once("close", (code, signal) => resolve({ code, signal })));
  createInterface({ input: child.stdout }).on("line", (line) => {
    process.stdout.write(line + "\n");
    onLine?.(line);
  });
  void exited.then(({ code, signal }) => {
    children.delete(name);
    if (!stopping) {
      process.stderr.write(`${name} exited unexpectedly (code ${code}, signal ${signal}); stopping\n`);
      process.exitCode = 1;
      void stopAll();
    } else if (code !== 0) {
      process.exitCode = 1;
    }
    if (children.size === 0) process.exit(process.exitCode ?? 0);
  });
  children.set(name, { child, exited });
}

/** Memory service first, so its final checkpoint and SYSTEM_SHUTDOWN still reach the sidecar. */
async function stopAll() {
  stopping = true;
  const memory = children.get("memory");
  if (memory) {
    memory.child.kill("SIGTERM");
    await memory.exited;
  }
  if (!forced) children.get("persistence")?.child.kill("SIGTERM");
}

function onSignal(signal) {
  if (!stopping) {
    process.stderr.write(`\n${signal}: stopping the memory service, then the sidecar (again to force)\n`);
    void stopAll();
    return;
  }
  // A second signal makes each service exit at once (the WAL holds everything acknowledged).
  process.stderr.write(`\n${signal} again: forcing both to stop\n`);
  forced = true;
  process.exitCode = 1;
  for (const { child } of children.values()) child.kill("SIGTERM");
}

// Once the terminal is gone (SIGHUP), writing to it fails; the graceful stop must go on regardless.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});

// A launcher that dies without stopping its detached children would leave them running.
process.on("exit", () => {
  for (const { child } of children.values()) child.kill("SIGKILL");
});

function event(line) {
  try {
    return JSON.parse(line);
  } catch {
    return {};
  }
}

start("persistence", (line) => {
  if (event(line).event !== "grpc.listening" || children.has("memory") || stopping) return;
  const addresses = {};
  start("memory", (memoryLine) => {
    const { event: name, addr } = event(memoryLine);
    if (name === "grpc.listening") addresses.grpc = addr;
    if (name === "http.listening") addresses.http = addr;
    if (name === "readiness" && event(memoryLine).ready) {
      process.stderr.write(
        `\nT4DM is up: gRPC ${addresses.grpc}, HTTP http://${addresses.http}\n` +
          `  grpcurl -plaintext ${addresses.grpc} list\n` +
          `  curl http://${addresses.http}/ready\n` +
          `Ctrl-C stops both processes.\n\n`,
      );
    }
  });
});

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => onSignal(signal));
