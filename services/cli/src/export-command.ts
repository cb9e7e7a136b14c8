import { once } from "node:events";
import type { AdminCalls } from "./admin-client.js";
import { endLine, headerLine, itemLine } from "./dump-lines.js";
import { ProgressLine } from "./progress.js";

/**
 * `t4dm export`: pages through ExportMemories and writes JSON Lines to
 * `out`, one page in memory at a time (awaiting the pipe when it is full).
 */
export async function runExport(admin: AdminCalls, namespace: string, pageSize: number, out: NodeJS.WritableStream, progress: ProgressLine): Promise<number> {
  const counts = { memory: 0, fact: 0, procedure: 0 };
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await once(out, "drain");
  };
  const say = (rate: number) => `export ${namespace}: ${counts.memory} memories, ${counts.fact} facts, ${counts.procedure} procedures, ${rate.toFixed(0)}/s`;
  let pageToken = "";
  let first = true;
  do {
    const page = await admin.exportPage({ namespace, pageSize, pageToken });
    if (first) await write(headerLine({ namespace, embedder: page.embedder!, exportedAt: new Date().toISOString() }));
    first = false;
    for (const item of page.items) {
      await write(itemLine(item));
      counts[item.item!.$case]++;
    }
    progress.count += page.items.length;
    progress.update(say);
    pageToken = page.nextPageToken;
  } while (pageToken);
  const total = counts.memory + counts.fact + counts.procedure;
  await write(endLine(total));
  progress.done(`${say(0).replace(/, \d+\/s$/, "")}: done`);
  return total;
}
