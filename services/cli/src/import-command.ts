import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { adminV1 } from "@t4dm/proto";
import { describeStatus, isRefusal, type AdminCalls } from "./admin-client.js";
import { DumpLineError, parseLine, type DumpHeader } from "./dump-lines.js";
import { ProgressLine } from "./progress.js";

export interface ImportOptions {
  /** Import only this namespace's section of the dump. */
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

interface Section {
  header: DumpHeader;
  items: number;
  /** Another namespace than the one asked for. */
  skipped: boolean;
}

interface Pending {
  header?: DumpHeader;
  items: adminV1.ExportItem[];
  lines: number[];
}

/**
 * `t4dm import`: reads a dump's sections (header, items, end; one per
 * namespace) and sends the items in batches of `batchSize` lines, one batch
 * in memory at a time. Each batch is atomic on the server (checked whole
 * before anything is written). A bad line stops the import with its number:
 * every line before it is imported, nothing from it on. Import is idempotent
 * by id, so a rerun (or `--resume`) finishes a stopped one.
 */
export async function runImport(admin: AdminCalls, options: ImportOptions, input: NodeJS.ReadableStream, progress: ProgressLine): Promise<{ imported: number; skipped: number }> {
  const resumeAfter = readResume(options.resume);
  const totals = { imported: 0, skipped: 0, resumedPast: 0 };
  let section: Section | undefined;
  let sections = 0;
  let matched = 0;
  let lineNo = 0;
  let pending: Pending = { items: [], lines: [] };
  const say = (rate: number) =>
    `import ${section?.header.namespace ?? options.namespace ?? ""}: line ${lineNo}, ${totals.imported} imported, ${totals.skipped} already there${totals.resumedPast ? `, ${totals.resumedPast} skipped by --resume` : ""}, ${rate.toFixed(0)}/s`;

  const send = async () => {
    if (pending.items.length === 0) return;
    const batch = pending;
    pending = { items: [], lines: [] };
    let answer: adminV1.ImportMemoriesResponse;
    try {
      answer = await admin.importBatch({ namespace: batch.header!.namespace, items: batch.items, embedder: batch.header!.embedder });
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
      if (!section) {
        if (line.type !== "header") throw new DumpLineError(lineNo, "expected a header line (a dump is sections of header, items, end)");
        const skipped = options.namespace !== undefined && line.header.namespace !== options.namespace;
        section = { header: line.header, items: 0, skipped };
        sections++;
        if (!skipped) matched++;
        continue;
      }
      if (line.type === "header") throw new DumpLineError(lineNo, `a header inside the section of ${JSON.stringify(section.header.namespace)}, which has no end line`);
      if (line.type === "end") {
        // A batch never mixes namespaces.
        await send();
        if (line.items !== section.items) throw new DumpLineError(lineNo, `the end line says ${line.items} items, but the section of ${JSON.stringify(section.header.namespace)} holds ${section.items}`);
        section = undefined;
        continue;
      }
      section.items++;
      if (section.skipped) continue;
      if (lineNo <= resumeAfter) {
        totals.resumedPast++;
        continue;
      }
      pending.header = section.header;
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
  if (sections === 0) throw new ImportStopped("the dump is empty (no header line)", true);
  if (section) throw new ImportStopped(`the dump ends at line ${lineNo} without the end line of ${JSON.stringify(section.header.namespace)} (cut short?); the lines before it were imported`, true);
  if (options.namespace !== undefined && matched === 0) throw new ImportStopped(`the dump holds no section of namespace ${JSON.stringify(options.namespace)}; nothing was imported`, true);
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
