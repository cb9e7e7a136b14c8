#!/usr/bin/env node
import { once } from "node:events";
import { runCli } from "./cli/run-cli.js";

// `t4dm-wal records … | head` closes the pipe early; that is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await runCli(process.argv.slice(2), {
  out: (line) => (process.stdout.write(`${line}\n`) ? undefined : once(process.stdout, "drain").then(() => undefined)),
  err: (line) => void process.stderr.write(`${line}\n`),
});
