// @ts-check
/** Classifies timed calls by time windows, for bench/checkpoint.mjs. Pure. */

/**
 * @typedef {{ startNs: bigint, endNs: bigint }} Span
 */

/** True when the call [start, end] overlaps the window. @param {Span} call @param {Span} window */
export function overlaps(call, window) {
  return call.startNs < window.endNs && call.endNs > window.startNs;
}

/**
 * Latencies (ns) of the calls that lie wholly inside `idle`, and of those that
 * overlap any of `during` (a call that straddles a checkpoint's start or end
 * saw part of it, so it counts as during).
 * @param {Span[]} calls @param {Span} idle @param {Span[]} during
 */
export function splitByWindows(calls, idle, during) {
  /** @type {number[]} */
  const idleNs = [];
  /** @type {number[]} */
  const duringNs = [];
  for (const c of calls) {
    const latency = Number(c.endNs - c.startNs);
    if (during.some((w) => overlaps(c, w))) duringNs.push(latency);
    else if (c.startNs >= idle.startNs && c.endNs <= idle.endNs) idleNs.push(latency);
  }
  return { idle: idleNs, during: duringNs };
}
