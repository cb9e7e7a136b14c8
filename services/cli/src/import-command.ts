import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { adminV1 } from "@t4dm/proto";
import { describeStatus, isRefusal, type AdminCalls } from "./admin-client.js";
import { DumpLineError, parseLine, type DumpHeader } from "./dump-lines.js";
import { ProgressLine } from "./progress.js";

export interface ImportOptions {
  /** The dump's namespace must be this one. */
  namespace?: string;
  batchSize: number;
  /** Records the last line imported; a rerun skips up to it. */
  resume?: string;
}

/** The import stopped; `refused` means a rerun as it is will not help (exit 2), otherwise run it again (exit 1). */
export class ImportStopped extends Error {
  constructor(
    message: string,
    readonly refused: boolean,
  ) {
    super(message);
  }
}

interface Pending {
  items: adminV1.ExportItem[];
  lines: number[];
}

/**
 * `t4dm import`: reads JSON Lines and sends them in batches of `batchSize`
 * lines, one batch in memory at a time. Each batch is atomic on the server
 * (checked whole before anything is written). A bad line stops the import
 * with its number: every line before it is imported, nothing from it on.
 * Import is idempotent by id, so a rerun (or `--resume`) finishes a stopped one.
 */
export async function runImport(admin: AdminCalls, options: ImportOptions, input: NodeJS.ReadableStream, progress: ProgressLine): Promise<{ imported: number; skipped: number }> {
  const resumeAfter = readResume(options.resume);
  const totals = { imported: 0, skipped: 0, resumedPast: 0 };
  let header: DumpHeader | undefined;
  let items = 0;
  let ended: number | undefined;
  let lineNo = 0;
  let pending: Pending = { items: [], lines: [] };
  const say = (rate: number) =>
    `import ${header?.namespace ?? ""}: line ${lineNo}, ${totals.imported} imported, ${totals.skipped} already there${totals.resumedPast ? `, ${totals.resumedPast} skipped by --resume` : ""}, ${rate.toFixed(0)}/s`;

  const send = async () => {
    if (pending.items.length === 0) return;
    const batch = pending;
    pending = { items: [], lines: [] };
    let answer: adminV1.ImportMemoriesResponse;
    try {
      answer = await admin.importBatch({ namespace: header!.namespace, items: batch.items, embedder: header!.embedder });
    } catch (error) {
      const where = `lines ${batch.lines[0]}-${batch.lines.at(-1)}`;
      const text = describeStatus(error).replace(/items\[(\d+)\]/g, (_, i: string) => `line ${batch.lines[Number(i)]}`);
      throw new ImportStopped(`${where} were not imported: ${text}; every line before ${batch.lines[0]} was imported`, isRefusal(error));
    }
    totals.imported += answer.imported;
    totals.skipped += answer.skipped;
    progress.count += batch.items.length;
    writeResume(options.resume, batch.lines.at(-1)!);
    progress.update(say);
  };

  try {
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      lineNo++;
      if (text.trim() === "") continue;
      const line = parseLine(text, lineNo);
      if (ended !== undefined) throw new DumpLineError(lineNo, "follows the end line");
      if (!header) {
        if (line.type !== "header") throw new DumpLineError(lineNo, "the dump must start with its header line");
        if (options.namespace && line.header.namespace !== options.namespace) {
          throw new DumpLineError(lineNo, `the dump is of namespace ${JSON.stringify(line.header.namespace)}, not ${JSON.stringify(options.namespace)}`);
        }
        header = line.header;
        continue;
      }
      if (line.type === "header") throw new DumpLineError(lineNo, "a second header");
      if (line.type === "end") {
        ended = line.items;
        continue;
      }
      items++;
      if (lineNo <= resumeAfter) {
        totals.resumedPast++;
        continue;
      }
      pending.items.push(line.item);
      pending.lines.push(lineNo);
      if (pending.items.length >= options.batchSize) await send();
    }
  } catch (error) {
    if (!(error instanceof DumpLineError)) throw error;
    // Everything before the bad line goes in; nothing from it on.
    await send();
    throw new ImportStopped(`${error.message}; every line before it was imported, nothing from it on`, true);
  }
  await send();
  if (!header) throw new ImportStopped("the dump is empty (no header line)", true);
  if (ended === undefined) throw new ImportStopped(`the dump ends at line ${lineNo} without its end line (cut short?); the ${items} items before it were imported`, true);
  if (ended !== items) throw new ImportStopped(`the end line says ${ended} items but the dump holds ${items}; they were imported`, true);
  progress.done(`${say(0).replace(/, \d+\/s$/, "")}: done`);
  return totals;
}

function readResume(path: string | undefined): number {
  if (!path || !existsSync(path)) return 0;
  const text = readFileSync(path, "utf8").trim();
  const line = Number(text);
  if (!Number.isInteger(line) || line < 0) throw new ImportStopped(`--resume file ${path} holds ${JSON.stringify(text)}, not a line number`, true);
  return line;
}

/** Temp file then rename: a kill leaves the old number or the new one, never half of one. */
function writeResume(path: string | undefined, line: number): void {
  if (!path) return;
  writeFileSync(`${path}.tmp`, `${line}\n`);
  renameSync(`${path}.tmp`, path);
}
