import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { REPO_ROOT } from "./service-process.js";

/**
 * The real grpcurl that `make tools` installs under .tools/bin. Tests fail
 * loudly without it rather than skip: an operator's tool we document must work.
 */
export function grpcurlPath(): string {
  const path = process.env.T4DM_GRPCURL ?? `${REPO_ROOT}.tools/bin/grpcurl`;
  if (!existsSync(path)) throw new Error(`grpcurl not found at ${path}; run 'make tools'`);
  return path;
}

/** Runs grpcurl and resolves with its stdout, or rejects with its stderr. */
export function grpcurl(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(grpcurlPath(), args, { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ stdout, stderr, code: error ? Number((error as { code?: number }).code ?? 1) : 0 });
    });
  });
}
