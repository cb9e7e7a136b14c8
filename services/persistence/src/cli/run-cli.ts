import type { FileLayer } from "../storage/file-layer.js";
import { NodeFileLayer } from "../storage/node-file-layer.js";
import { DataDirError, UsageError } from "./cli-errors.js";
import type { CliOutput } from "./cli-output.js";
import { checkpointCommand, checkpointsCommand, recordsCommand, segmentsCommand, verifyCommand } from "./commands.js";
import { ExitCode, type ExitCodeValue } from "./exit-codes.js";
import { parseCliArgs, type CliRequest } from "./parse-args.js";
import { USAGE } from "./usage.js";

/** The whole tool behind argv: parses, runs one command, and maps every error to an exit code. */
export async function runCli(argv: readonly string[], output: CliOutput, layer: FileLayer = new NodeFileLayer()): Promise<ExitCodeValue> {
  let request: CliRequest;
  try {
    request = parseCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.err(`t4dm-wal: ${error.message}\n`);
    output.err(USAGE);
    return ExitCode.usage;
  }
  try {
    switch (request.command) {
      case "help":
        await output.out(USAGE);
        return ExitCode.clean;
      case "verify":
        return await verifyCommand(layer, request.dataDir, output);
      case "segments":
        return await segmentsCommand(layer, request.dataDir, output);
      case "checkpoints":
        return await checkpointsCommand(layer, request.dataDir, output);
      case "checkpoint":
        return await checkpointCommand(layer, request.file, output);
      case "records":
        return await recordsCommand(layer, request.dataDir, request.options, output);
    }
  } catch (error) {
    if (error instanceof DataDirError) {
      output.err(`t4dm-wal: ${error.message}`);
      return ExitCode.noInput;
    }
    // A file under the data directory vanished or cannot be read: the input's fault, not the tool's.
    if (isErrno(error)) {
      output.err(`t4dm-wal: cannot read: ${error.message}`);
      return ExitCode.noInput;
    }
    output.err(`t4dm-wal: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return ExitCode.internal;
  }
}

function isErrno(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string" && typeof (error as NodeJS.ErrnoException).syscall === "string";
}
