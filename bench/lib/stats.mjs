// @ts-check
/** Percentiles and run summaries shared by every bench. Pure. */

/**
 * The q-quantile (0..1) of an ascending array, nearest-rank; NaN when empty.
 * @param {ArrayLike<number>} sorted
 * @param {number} q
 */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/**
 * Latency figures in milliseconds from samples in nanoseconds.
 * @param {number[]} samplesNs
 */
export function latencyMs(samplesNs) {
  const sorted = Float64Array.from(samplesNs).sort();
  const mean = sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : NaN;
  return {
    count: sorted.length,
    p50Ms: quantile(sorted, 0.5) / 1e6,
    p99Ms: quantile(sorted, 0.99) / 1e6,
    p999Ms: quantile(sorted, 0.999) / 1e6,
    maxMs: (sorted.length ? (sorted[sorted.length - 1] ?? NaN) : NaN) / 1e6,
    meanMs: mean / 1e6,
  };
}

/**
 * @typedef {{ median: number, min: number, max: number, runs: number[] }} Summary
 */

/**
 * Median with min–max over repeated runs of one figure.
 * @param {number[]} runs
 * @returns {Summary}
 */
export function summarize(runs) {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length === 0 ? NaN : sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN, runs };
}

/**
 * Per-run ratios a/b (runs paired by index: run i of T4DM with run i of its anchor), summarized.
 * @param {number[]} a
 * @param {number[]} b
 */
export function ratioOfRuns(a, b) {
  return summarize(a.map((x, i) => x / (b[i] ?? NaN)));
}
