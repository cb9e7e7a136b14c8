// @ts-check
/**
 * Prints bench/results/latest.json (what `make bench` wrote) as a markdown
 * table, for the README's Performance section: `node bench/markdown.mjs`.
 * Pass `--goals` to print only the rows that carry a goal.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fmtSummary, REPO } from "./lib/report.mjs";

const file = path.join(REPO, "bench", "results", "latest.json");
const results = JSON.parse(readFileSync(file, "utf8"));
const goalsOnly = process.argv.includes("--goals");
/** @type {import("./lib/report.mjs").Row[]} */
const rows = results.rows.filter((/** @type {import("./lib/report.mjs").Row} */ r) => !goalsOnly || r.goal);
const cell = (/** @type {string} */ s) => s.replaceAll("|", "\\|");

const m = results.machine;
// A BENCH_ONLY run refreshes some benches and keeps the others: say when and at which commit each ran.
const when = Object.entries(results.benches).map(
  ([name, b]) => `${name} ${String(b.machine?.date ?? "?").slice(0, 16).replace("T", " ")} UTC at ${b.commit ?? results.commit}`,
);
console.log(`${m.cpus} CPU (${m.cpuModel}), ${m.memGiB} GiB, ${m.platform}, Node ${m.node}, data on ${m.filesystem} (${m.device}). Runs: ${when.join("; ")}.\n`);
console.log("| Section | Metric | T4DM median (min–max) | Anchor | Ratio | Goal |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  const goal = r.goal ? `${r.goal}: ${r.met === true ? "met" : r.met === false ? "**not met**" : "-"}` : "";
  console.log(
    `| ${cell(r.section)} | ${cell(`${r.metric}${r.unit ? ` [${r.unit}]` : ""}`)} | ${fmtSummary(r.value)} | ${r.anchor ? cell(`${fmtSummary(r.anchor.value)} ${r.anchor.name}`) : ""} | ${r.ratio ? fmtSummary(r.ratio) : ""} | ${cell(goal)} |`,
  );
}
