#!/usr/bin/env node
// `make reembed`: the re-embed command for a local data directory whose services are stopped
// (after `make run`): starts the persistence sidecar on it, runs services/memory/dist/reembed.js
// against it with the same T4DM_* settings, then stops the sidecar gracefully. Exits with the
// command's code (0 done or nothing to do, 2 refused, 1 failed: run it again, it resumes).
// Where the sidecar already runs (a pod, `docker compose`), run `node services/memory/dist/reembed.js`.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const sidecar = spawn(process.execPath, [`${root}services/persistence/dist/main.js`], { env: process.env, stdio: ["ignore", "pipe", "inherit"] });
const sidecarExited = new Promise((resolve) => sidecar.once("close", (code) => resolve(code)));

const ready = await new Promise((resolve) => {
  createInterface({ input: sidecar.stdout }).on("line", (line) => {
    try {
      if (JSON.parse(line).event === "sidecar.ready") resolve(true);
    } catch {
      // not a log line
    }
  });
  void sidecarExited.then(() => resolve(false));
});
if (!ready) {
  process.stderr.write("make reembed: the persistence sidecar did not start (is the memory service or its sidecar still running on this T4DM_DATA_DIR?)\n");
  process.exit(1);
}

const command = spawn(process.execPath, [`${root}services/memory/dist/reembed.js`], { env: process.env, stdio: "inherit" });
const code = await new Promise((resolve) => command.once("close", (c) => resolve(c ?? 1)));
sidecar.kill("SIGTERM");
await sidecarExited;
process.exit(code);
