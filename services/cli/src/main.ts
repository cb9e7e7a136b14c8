#!/usr/bin/env node
import { describeStatus, isRefusal, connectAdmin } from "./admin-client.js";
import { parseArgs, USAGE, UsageError } from "./cli-args.js";
import { runExport } from "./export-command.js";
import { ImportStopped, runImport } from "./import-command.js";
import { ProgressLine } from "./progress.js";

/**
 * `t4dm export` / `t4dm import`: a namespace's (or every namespace's)
 * memories, facts and procedures as JSON Lines, over the admin RPCs (an
 * admin key that allows the namespaces). Exit 0 done; 2 refused (bad usage or input, a denied key,
 * another embedder); 1 failed (run it again).
 */
async function main(): Promise<void> {
  const say = (line: string) => process.stderr.write(`t4dm: ${line}\n`);
  let options;
  try {
    options = parseArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    say(error.message);
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  const admin = connectAdmin(options);
  const progress = new ProgressLine(process.stderr);
  try {
    if (options.command === "export") await runExport(admin, { namespace: options.namespace, pageSize: options.batchSize, learningState: options.learningState }, process.stdout, progress);
    else await runImport(admin, { namespace: options.namespace, batchSize: options.batchSize, resume: options.resume }, process.stdin, progress);
    admin.close();
    process.exit(0);
  } catch (error) {
    admin.close();
    if (error instanceof ImportStopped) {
      say(error.message);
      process.exit(error.refused ? 2 : 1);
    }
    say(`${options.command} ${isRefusal(error) ? "refused" : "failed"}: ${describeStatus(error)}`);
    process.exit(isRefusal(error) ? 2 : 1);
  }
}

void main();
