#!/usr/bin/env node
// `make run`: starts the persistence sidecar, then the memory service, on the
// embedded defaults (override with the usual T4DM_* variables). Ctrl-C stops
// both; if either dies, the other is stopped and this exits non-zero.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const children = [];
let stopping = false;

function start(name, onLine) {
  const child = spawn(process.execPath, [`${root}services/${name}/dist/main.js`], {
    env: process.env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    process.stdout.write(line + "\n");
    onLine?.(line);
  });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      process.stderr.write(`${name} exited unexpectedly (code ${code}, signal ${signal}); stopping\n`);
      stopAll("SIGTERM", 1);
    }
    children.splice(children.indexOf(child), 1);
    if (children.length === 0) process.exit(process.exitCode ?? 0);
  });
  children.push(child);
  return child;
}

function stopAll(signal, exitCode = 0) {
  stopping = true;
  process.exitCode = exitCode;
  for (const child of children) child.kill(signal);
}

function event(line) {
  try {
    return JSON.parse(line);
  } catch {
    return {};
  }
}

start("persistence", (line) => {
  if (event(line).event !== "grpc.listening" || children.length > 1) return;
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

process.on("SIGINT", () => stopAll("SIGINT"));
process.on("SIGTERM", () => stopAll("SIGTERM"));
