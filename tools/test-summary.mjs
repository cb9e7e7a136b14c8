#!/usr/bin/env node
// Prints "N passed, N failed" from vitest's own JSON report.
import { existsSync, readFileSync } from "node:fs";

const file = process.argv[2] ?? "build/test-results.json";
if (!existsSync(file)) {
  console.log("0 passed, 0 failed (no test report: make test stopped before the tests ran)");
  process.exit(0);
}
const report = JSON.parse(readFileSync(file, "utf8"));
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed` + (skipped ? ` (${skipped} skipped)` : ""));
