// @ts-check
/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, or BENCH_CPU_PROF=1 in
 * bench/sidecar.mjs): the top frames by self time, and self time grouped by
 * where the code lives (a package under node_modules, a T4DM workspace, node
 * internals, or V8's own buckets such as (garbage collector) and (idle)).
 *
 *   node bench/cpuprofile-top.mjs build/bench/profiles/sidecar-w64-4096.cpuprofile [topN]
 */
import { readFileSync } from "node:fs";

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: node bench/cpuprofile-top.mjs <file.cpuprofile> [topN]");
  process.exit(2);
}
const top = Number(topArg ?? 25);

/** @type {{ nodes: { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number }[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }} */
const profile = JSON.parse(readFileSync(file, "utf8"));

/** Self time per node id, in microseconds, from the sample timeline. */
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  const dt = profile.timeDeltas[i + 1] ?? 0;
  selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

/** @param {string} url */
function place(url) {
  if (!url) return "(v8/native)";
  const nm = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (nm) return nm[1] ?? url;
  const ws = url.match(/\/(libs|services)\/([^/]+)\//);
  if (ws) return `@t4dm/${ws[2]}`;
  if (url.startsWith("node:")) return "node internals";
  return url;
}

const byFrame = new Map();
const byPlace = new Map();
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  if (us === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(/^.*\/(node_modules|libs|services)\//, "$1/")}:${lineNumber + 1}` : "";
  const key = `${functionName || "(anonymous)"} ${where}`.trim();
  byFrame.set(key, (byFrame.get(key) ?? 0) + us);
  const p = url ? place(url) : functionName.startsWith("(") ? functionName : "(v8/native)";
  byPlace.set(p, (byPlace.get(p) ?? 0) + us);
}

const idle = byPlace.get("(idle)") ?? 0;
const busy = total - idle;
const pct = (/** @type {number} */ us) =>
  `${((100 * us) / total).toFixed(1).padStart(5)}% of all ${us === idle ? "      " : `${((100 * us) / busy).toFixed(1).padStart(5)}% of busy`}`;
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled, main thread busy ${((100 * busy) / total).toFixed(1)}% (the rest is (idle))`);
console.log("\nself time by place:");
for (const [p, us] of [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(us)}  ${p}`);
console.log(`\ntop ${top} frames by self time:`);
for (const [k, us] of [...byFrame].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${k}`);
