// @ts-check
/**
 * The one result shape every bench writes, so `bench/run.mjs` can print a
 * single table and bench/results/latest.json. A bench prints figures; it never
 * fails on a number (a missed goal is reported as missed, `met: false`).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const OUT_DIR = path.join(REPO, "build", "bench");
/** Fresh data directories go here: the repository's own file system, removed after each run. */
export const DATA_ROOT = path.resolve(REPO, process.env.BENCH_DATA_ROOT ?? "build/bench/data");
/** How many times each measurement is repeated; figures are the median with min–max. */
export const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));

/**
 * @typedef {import("./stats.mjs").Summary} Summary
 * @typedef {{
 *   section: string,              // e.g. "Durable writes"
 *   metric: string,               // e.g. "BatchRemember x64, 16 callers, ops/s"
 *   unit: string,                 // "ops/s", "ms", "records/s", "s", "MiB", "" ...
 *   value: Summary,               // T4DM's figure over the runs
 *   anchor?: { name: string, value: Summary } | null,   // the same figure for the anchor, same run
 *   ratio?: Summary | null,       // T4DM / anchor, per run (say which way in `note` when lower is better)
 *   goal?: string | null,         // the issue's goal in words, e.g. ">= 1.0x Redis"
 *   met?: boolean | null,         // goal reached? null when there is no goal
 *   note?: string,                // what limits it, how it was measured
 * }} Row
 * @typedef {{ bench: string, command: string, machine: object, rows: Row[], details?: object, noise?: string }} BenchResult
 */

/** Writes build/bench/<bench>.json. @param {BenchResult} result */
export function writeResult(result) {
  mkdirSync(OUT_DIR, { recursive: true });
  const file = path.join(OUT_DIR, `${result.bench}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** @param {number} n @param {number} [digits] */
export function fmt(n, digits = 0) {
  if (!Number.isFinite(n)) return "-";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Digits that suit a figure's size: 3 below 10, 1 below 1000, else none. @param {number} n */
export function autoDigits(n) {
  const a = Math.abs(n);
  return a < 10 ? 3 : a < 1000 ? 1 : 0;
}

/** "median (min–max)" or just the median for one run. @param {Summary} s */
export function fmtSummary(s) {
  const d = autoDigits(s.median);
  return s.runs.length > 1 ? `${fmt(s.median, d)} (${fmt(s.min, d)}–${fmt(s.max, d)})` : fmt(s.median, d);
}

/** Prints rows as a table to stdout. @param {Row[]} rows */
export function printRows(rows) {
  const cells = rows.map((r) => [
    r.section,
    `${r.metric}${r.unit ? ` [${r.unit}]` : ""}`,
    fmtSummary(r.value),
    r.anchor ? `${fmtSummary(r.anchor.value)} ${r.anchor.name}` : "",
    r.ratio ? fmtSummary(r.ratio) : "",
    r.goal ? `${r.goal}: ${r.met === true ? "met" : r.met === false ? "NOT MET" : "-"}` : "",
  ]);
  const head = ["section", "metric", "T4DM median (min–max)", "anchor", "ratio", "goal"];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const line = (/** @type {string[]} */ c) => c.map((x, i) => x.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  const out = [line(head), "-".repeat(widths.reduce((a, b) => a + b + 2, -2)), ...cells.map(line)];
  console.log(out.join("\n"));
  return out;
}
