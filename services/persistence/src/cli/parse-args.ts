import { parseArgs } from "node:util";
import { UsageError } from "./cli-errors.js";

export interface RecordsOptions {
  from?: number;
  to?: number;
  limit?: number;
  json: boolean;
}

export type CliRequest =
  | { command: "help" }
  | { command: "verify" | "segments" | "checkpoints"; dataDir: string }
  | { command: "checkpoint"; file: string }
  | { command: "records"; dataDir: string; options: RecordsOptions };

const COMMANDS = ["verify", "segments", "records", "checkpoints", "checkpoint"] as const;
const RECORDS_ONLY = ["from", "to", "limit", "json"] as const;

/** Reads argv (without node and the script). Throws UsageError. */
export function parseCliArgs(argv: readonly string[]): CliRequest {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: "boolean", short: "h" },
        from: { type: "string" },
        to: { type: "string" },
        limit: { type: "string" },
        json: { type: "boolean" },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: "help" };

  const [command, dataDir, ...extra] = positionals;
  if (command === undefined) throw new UsageError("missing command");
  if (!isCommand(command)) throw new UsageError(`unknown command "${command}"`);
  if (dataDir === undefined || dataDir === "") throw new UsageError(`${command} needs ${command === "checkpoint" ? "a checkpoint file" : "a data directory"}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);

  if (command !== "records") {
    const misplaced = RECORDS_ONLY.find((name) => values[name] !== undefined);
    if (misplaced) throw new UsageError(`--${misplaced} applies only to the records command`);
    return command === "checkpoint" ? { command, file: dataDir } : { command, dataDir };
  }
  const options: RecordsOptions = {
    from: lsnOption("--from", values.from, 0),
    to: lsnOption("--to", values.to, 0),
    limit: lsnOption("--limit", values.limit, 1),
    json: values.json === true,
  };
  if (options.from !== undefined && options.to !== undefined && options.from > options.to) {
    throw new UsageError(`--from ${options.from} is after --to ${options.to}`);
  }
  return { command, dataDir, options };
}

function isCommand(name: string): name is (typeof COMMANDS)[number] {
  return (COMMANDS as readonly string[]).includes(name);
}

function lsnOption(flag: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`${flag} needs an integer of at least ${min}, got "${text}"`);
  return value;
}
