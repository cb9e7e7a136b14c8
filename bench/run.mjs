// @ts-check
/**
 * `make bench`: runs every bench one after the other (never two at once:
 * they would measure each other), then prints one table of figures and
 * ratios from their results and writes the same to bench/results/latest.json.
 *
 * Each bench is its own script (`node bench/<name>.mjs`), writes
 * build/bench/<name>.json in the shape of bench/lib/report.mjs, and can be run
 * alone. A bench that breaks (a process died, an RPC failed) is reported and
 * the others still run; the exit code is then 1. A missed goal is not a
 * failure: it is printed as NOT MET.
 *
 * Knobs: BENCH_ONLY=remember,recall runs a subset and keeps the other
 * benches' last results in latest.json; every bench's own BENCH_* knobs pass
 * through (see bench/README.md).
 */
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describeMachine, machineFacts } from "./lib/machine.mjs";
import { DATA_ROOT, OUT_DIR, printRows, REPO } from "./lib/report.mjs";

/** In the order of the issues' lists (#9 items 1–6, then #15 item 3). */
const BENCHES = ["remember", "sidecar", "recovery", "recall", "checkpoint", "learning", "retrieval"];
const RESULTS = path.join(REPO, "bench", "results", "latest.json");

/** @param {string} name */
async function runBench(name) {
  const started = Date.now();
  const child = spawn(process.execPath, [path.join(REPO, "bench", `${name}.mjs`)], { stdio: "inherit" });
  const [code, signal] = await once(child, "exit");
  return { ok: code === 0, exit: code ?? signal, seconds: (Date.now() - started) / 1000 };
}

function commit() {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO, encoding: "utf8" }).trim();
    // The results file itself changes with every run; only changes to anything else make the code dirty.
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)bench/results"], { cwd: REPO, encoding: "utf8" }).trim() !== "";
    return dirty ? `${head}+changes` : head;
  } catch {
    return "unknown";
  }
}

async function main() {
  const only = (process.env.BENCH_ONLY ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = only.filter((name) => !BENCHES.includes(name));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY names unknown benches: ${unknown.join(", ")} (known: ${BENCHES.join(", ")})`);
  const selected = only.length > 0 ? BENCHES.filter((name) => only.includes(name)) : BENCHES;

  mkdirSync(DATA_ROOT, { recursive: true });
  const machine = machineFacts(DATA_ROOT);
  const started = new Date();
  console.log(describeMachine(machine));

  // A subset run keeps the other benches' last results (each carries its own date and machine).
  /** @type {Record<string, any>} */
  const benches = only.length > 0 && existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, "utf8")).benches ?? {} : {};
  for (const name of selected) {
    console.log(`\n=== bench ${name} (node bench/${name}.mjs) ===\n`);
    const outFile = path.join(OUT_DIR, `${name}.json`);
    rmSync(outFile, { force: true }); // a stale result must never pass for this run's
    const run = await runBench(name);
    const result = run.ok && existsSync(outFile) ? JSON.parse(readFileSync(outFile, "utf8")) : null;
    benches[name] = { ...run, ok: run.ok && result !== null, commit: commit(), ...(result ?? {}) };
  }

  const rows = BENCHES.flatMap((name) => benches[name]?.rows ?? []);
  console.log(`\n=== T4DM benchmarks, ${started.toISOString()}, commit ${commit()} ===`);
  console.log(describeMachine(machine));
  console.log("figures are the median (min–max) over the runs; every anchor ran on this machine in the same run\n");
  const table = printRows(rows);
  const failed = selected.map((name) => /** @type {[string, any]} */ ([name, benches[name]])).filter(([, b]) => !b.ok);
  for (const [name, b] of failed) console.log(`bench ${name} BROKE (exit ${b.exit}): see its output above`);
  for (const [name, b] of Object.entries(benches)) if (b.noise) console.log(`noise during ${name}: ${b.noise}`);

  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(
    RESULTS,
    `${JSON.stringify({ date: started.toISOString(), commit: commit(), command: "make bench", machine, table, rows, benches }, null, 2)}\n`,
  );
  console.log(`\nresults: ${path.relative(REPO, RESULTS)}`);
  process.exitCode = failed.length > 0 ? 1 : 0;
}

main().catch((error) => {
  console.error(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
