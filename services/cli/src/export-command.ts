import { once } from "node:events";
import type { AdminCalls } from "./admin-client.js";
import { endLine, headerLine, itemLine } from "./dump-lines.js";
import { ProgressLine } from "./progress.js";

/**
 * `t4dm export`: pages through ExportMemories and writes JSON Lines to
 * `out`, one section (header, items, end) per namespace: the one asked for,
 * or every namespace the key may use. One page in memory at a time
 * (awaiting the pipe when it is full).
 */
export async function runExport(
  admin: AdminCalls,
  options: { namespace?: string; pageSize: number; learningState: boolean },
  out: NodeJS.WritableStream,
  progress: ProgressLine,
): Promise<number> {
  const { namespace, pageSize } = options;
  const namespaces = namespace ? [namespace] : await admin.listNamespaces();
  const counts = { memory: 0, fact: 0, procedure: 0, retentionPolicy: 0, learnedScorer: 0 };
  let sections = 0;
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await once(out, "drain");
  };
  const say = (rate: number) => `export ${namespace ?? `${sections}/${namespaces.length} namespaces`}: ${counts.memory} memories, ${counts.fact} facts, ${counts.procedure} procedures, ${rate.toFixed(0)}/s`;
  for (const current of namespaces) {
    let pageToken = "";
    let items = 0;
    do {
      const page = await admin.exportPage({ namespace: current, pageSize, pageToken, includeLearningState: options.learningState });
      if (!pageToken) await write(headerLine({ namespace: current, embedder: page.embedder!, exportedAt: new Date().toISOString() }));
      for (const item of page.items) {
        await write(itemLine(item));
        counts[item.item!.$case]++;
      }
      items += page.items.length;
      progress.count += page.items.length;
      progress.update(say);
      pageToken = page.nextPageToken;
    } while (pageToken);
    await write(endLine(items));
    sections++;
  }
  progress.done(`${say(0).replace(/, \d+\/s$/, "")}: done`);
  return counts.memory + counts.fact + counts.procedure + counts.retentionPolicy + counts.learnedScorer;
}
