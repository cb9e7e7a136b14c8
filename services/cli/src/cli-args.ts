/** What `t4dm` was asked to do; parsing is pure, so bad usage exits 2 before any connection. */
export interface CliOptions {
  command: "export" | "import";
  /** host:port of the memory service's gRPC port. */
  addr: string;
  apiKey?: string;
  /** The one tenant to export or import; unset: every namespace the key may use (export), every section of the dump (import). */
  namespace?: string;
  /** Items per export page, lines per import batch. */
  batchSize: number;
  /** Import: a file recording the last line imported; a rerun skips up to it. */
  resume?: string;
  /** TLS to the public port; with a CA file, trust that CA. */
  tls: boolean;
  tlsCa?: string;
  /** Export: also each namespace's learned scorer (what its feedback taught ranking). */
  learningState: boolean;
}

export class UsageError extends Error {}

export const USAGE = `usage:
  t4dm export [--namespace NS] [--learning-state] [--addr HOST:PORT] [--api-key KEY] [--batch-size N] [--tls [--tls-ca FILE]] > dump.jsonl
  t4dm import [--namespace NS] [--resume FILE] [--addr HOST:PORT] [--api-key KEY] [--batch-size N] [--tls [--tls-ca FILE]] < dump.jsonl
Without --namespace, export writes every namespace the key may use and import reads every one in the dump.
--learning-state also exports each namespace's learned scorer; import sets it when the dump holds it.
The key (an admin key that allows the namespaces) may come from T4DM_API_KEY instead of --api-key; --addr defaults to
T4DM_ADDR or 127.0.0.1:50051. Exit codes: 0 done, 2 refused (bad usage, bad input, a denied key; nothing more was
written), 1 failed (run it again: import is idempotent).`;

export function parseArgs(argv: readonly string[], env: Record<string, string | undefined>): CliOptions {
  const [command, ...rest] = argv;
  if (command !== "export" && command !== "import") throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : "a command is required");
  const values = new Map<string, string>();
  let tls = false;
  let learningState = false;
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!;
    if (flag === "--tls") {
      tls = true;
      continue;
    }
    if (flag === "--learning-state") {
      learningState = true;
      continue;
    }
    if (!["--addr", "--api-key", "--namespace", "--batch-size", "--resume", "--tls-ca"].includes(flag)) throw new UsageError(`unknown option ${JSON.stringify(flag)}`);
    const value = rest[++i];
    if (value === undefined || value.startsWith("--")) throw new UsageError(`${flag} needs a value`);
    values.set(flag, value);
  }
  const batchText = values.get("--batch-size") ?? "100";
  const batchSize = Number(batchText);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) throw new UsageError("--batch-size must be an integer from 1 to 1000");
  const namespace = values.get("--namespace");
  if (command === "export" && values.has("--resume")) throw new UsageError("--resume is for import");
  if (command === "import" && learningState) throw new UsageError("--learning-state is for export (import sets a learned scorer whenever the dump holds one)");
  if (values.has("--tls-ca")) tls = true;
  return {
    command,
    addr: values.get("--addr") ?? env.T4DM_ADDR ?? "127.0.0.1:50051",
    apiKey: values.get("--api-key") ?? env.T4DM_API_KEY,
    namespace,
    batchSize,
    resume: values.get("--resume"),
    tls,
    tlsCa: values.get("--tls-ca"),
    learningState,
  };
}
