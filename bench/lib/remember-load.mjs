// @ts-check
/**
 * Load for bench/remember.mjs: pre-encoded Remember / BatchRemember requests
 * and a closed-loop driver. Pure apart from the clock; no processes here.
 */
import { mulberry32 } from "@t4dm/testkit";
import { memoryV1 } from "@t4dm/proto";

const WORDS = ["agent", "tool", "result", "user", "asked", "about", "the", "deploy", "log", "error", "fixed", "by", "retry", "with", "backoff", "memory", "note", "plan", "step", "done"];

/**
 * `count` random unit vectors of `dim` floats. Components are uniform in
 * [-1, 1], then normalised: any direction will do for a write benchmark.
 * @param {() => number} rng
 * @param {number} count
 * @param {number} dim
 */
export function unitVectors(rng, count, dim) {
  /** @type {number[][]} */
  const vectors = [];
  for (let v = 0; v < count; v++) {
    const x = Array.from({ length: dim }, () => rng() * 2 - 1);
    const norm = Math.hypot(...x);
    // Round to float32 now, so the bytes on the wire are exactly what the service keeps.
    vectors.push(x.map((c) => Math.fround(c / norm)));
  }
  return vectors;
}

/**
 * Text of exactly `bytes` ASCII bytes: a unique prefix, then random words.
 * @param {() => number} rng
 * @param {string} prefix
 * @param {number} bytes
 */
export function content(rng, prefix, bytes) {
  let text = `${prefix}:`;
  while (text.length < bytes) text += ` ${WORDS[Math.floor(rng() * WORDS.length)]}`;
  return text.slice(0, bytes);
}

/**
 * Remember requests as the issue describes them: ~256 B content, a
 * client-made embedding, admission ALWAYS. Importance is uniform in [0, 1],
 * so when the full buffer makes room, some memories are promoted to the
 * embedded store and the rest evicted: the whole write path runs.
 * @param {{ seed: number, count: number, dim: number, contentBytes: number, namespace: string, tag: string }} o
 * @returns {memoryV1.RememberRequest[]}
 */
export function rememberRequests(o) {
  const rng = mulberry32(o.seed);
  const vectors = unitVectors(rng, o.count, o.dim);
  return vectors.map((embedding, i) =>
    memoryV1.RememberRequest.fromPartial({
      namespace: o.namespace,
      content: content(rng, `${o.tag} memory ${i}`, o.contentBytes),
      type: memoryV1.MemoryType.MEMORY_TYPE_EPISODIC,
      importance: Math.fround(rng()),
      embedding,
      admission: memoryV1.AdmissionMode.ADMISSION_MODE_ALWAYS,
    }),
  );
}

/**
 * Wire bytes for unary calls (one request each) or batch calls (`batch`
 * requests each). Encoding up front keeps the load generator cheap, as
 * redis-benchmark does with its pre-formatted commands: on 2 cores, client
 * CPU is taken from the server.
 * @param {memoryV1.RememberRequest[]} requests
 * @param {number} batch 1 for unary Remember
 * @returns {Buffer[]}
 */
export function encodeCalls(requests, batch) {
  /** @type {Buffer[]} */
  const calls = [];
  if (batch === 1) {
    for (const request of requests) calls.push(Buffer.from(memoryV1.RememberRequest.encode(request).finish()));
    return calls;
  }
  for (let i = 0; i + batch <= requests.length; i += batch) {
    calls.push(Buffer.from(memoryV1.BatchRememberRequest.encode({ requests: requests.slice(i, i + batch) }).finish()));
  }
  return calls;
}

/**
 * Checks one response: every memory admitted at a durable LSN. Returns how
 * many answers came without the memory: the service leaves it out when the
 * memory already left the buffer again (evicted to make room for a
 * concurrent Remember) by the time the answer is built.
 * @param {Buffer} bytes
 * @param {number} batch 1 for unary Remember
 */
export function checkResponse(bytes, batch) {
  const responses = batch === 1 ? [memoryV1.RememberResponse.decode(bytes)] : memoryV1.BatchRememberResponse.decode(bytes).responses;
  if (responses.length !== batch) throw new Error(`expected ${batch} responses, got ${responses.length}`);
  let withoutMemory = 0;
  for (const r of responses) {
    if (r.decision !== memoryV1.AdmissionDecision.ADMISSION_DECISION_ADMITTED || !(r.lsn > 0)) {
      throw new Error(`a memory was not admitted durably: decision ${r.decision} lsn ${r.lsn} status ${r.memory?.status} ${JSON.stringify(memoryV1.RememberResponse.toJSON(r)).slice(0, 300)}`);
    }
    if (!r.memory?.id) withoutMemory++;
  }
  return withoutMemory;
}

/**
 * Closed loop: `callers` loops each await `once(i)` and start the next call
 * at once. Warm-up first, not counted: at least `warmupS` and until
 * `callers` calls have finished, so slow batch calls reach a steady state.
 * Then the measured window: at least `measureS` and until `minCalls` calls
 * finished in it (both capped at `maxS` each). Calls that finish inside the
 * window count, with their whole latency. `onWindowStart/End` run at the
 * window's edges (CPU and noise readings). The first failed call ends the run.
 * @template T
 * @param {{ callers: number, warmupS: number, measureS: number, minCalls: number, maxS: number,
 *   once: (caller: number) => Promise<void>, onWindowStart?: () => void, onWindowEnd?: () => T }} o
 * @returns {Promise<{ calls: number, seconds: number, warmupSeconds: number, latenciesNs: number[], window: T | undefined }>}
 */
export async function closedLoop(o) {
  /** 0 warm-up, 1 measuring, 2 stopping */
  let phase = 0;
  let warmupCalls = 0;
  /** @type {number[]} */
  const latenciesNs = [];
  const loops = Array.from({ length: o.callers }, async (_, caller) => {
    while (phase !== 2) {
      const t0 = process.hrtime.bigint();
      await o.once(caller);
      const t1 = process.hrtime.bigint();
      if (phase === 1) latenciesNs.push(Number(t1 - t0));
      else if (phase === 0) warmupCalls++;
    }
  });
  const all = Promise.all(loops);
  // A failed call rejects `all` and ends the run at once, loudly.
  const failed = all.then(() => {
    if (phase !== 2) throw new Error("callers stopped before the run ended");
  });
  const t0 = process.hrtime.bigint();
  await Promise.race([waitUntil(o.warmupS, o.maxS, () => warmupCalls >= o.callers), failed]);
  phase = 1;
  const windowStart = process.hrtime.bigint();
  o.onWindowStart?.();
  await Promise.race([waitUntil(o.measureS, o.maxS, () => latenciesNs.length >= o.minCalls), failed]);
  const windowEnd = process.hrtime.bigint();
  phase = 2;
  const window = o.onWindowEnd?.();
  await all;
  return {
    calls: latenciesNs.length,
    seconds: Number(windowEnd - windowStart) / 1e9,
    warmupSeconds: Number(windowStart - t0) / 1e9,
    latenciesNs,
    window,
  };
}

/**
 * Resolves after `minS`, as soon as `done()` holds (checked every 5 ms), or at `maxS`.
 * @param {number} minS @param {number} maxS @param {() => boolean} done
 */
async function waitUntil(minS, maxS, done) {
  const start = Date.now();
  await sleep(minS * 1000);
  while (!done() && Date.now() - start < maxS * 1000) await sleep(5);
}

/**
 * requests/s and latency percentiles from `redis-benchmark --csv` (7.x):
 * a header row, then one row per test.
 * @param {string} csv
 */
export function parseRedisBenchmarkCsv(csv) {
  const rows = csv
    .trim()
    .split("\n")
    .map((line) => line.split(",").map((cell) => cell.replace(/^"|"$/g, "")));
  const [head, row] = rows;
  if (!head || !row) throw new Error(`unexpected redis-benchmark output: ${csv}`);
  const get = (/** @type {string} */ name) => {
    const i = head.indexOf(name);
    const value = Number(row[i]);
    if (i < 0 || !Number.isFinite(value)) throw new Error(`redis-benchmark output has no ${name}: ${csv}`);
    return value;
  };
  return { rps: get("rps"), p50Ms: get("p50_latency_ms"), p99Ms: get("p99_latency_ms"), meanMs: get("avg_latency_ms"), maxMs: get("max_latency_ms") };
}

/** @param {number} ms */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The calls a run sends, by index: the pre-encoded ones first; a call past
 * them sends the same requests with their content marked by the round
 * (" #2", " #3", …), encoded when asked for. Never the same memory twice: an
 * identical memory still in the buffer (a strong one stays there) is merged
 * into it, not admitted, and a long batch run at 64 callers goes through
 * more than the pool.
 * @param {memoryV1.RememberRequest[]} requests
 * @param {number} batch 1 for unary Remember
 * @returns {{ size: number, at: (index: number) => Buffer }}
 */
export function callPool(requests, batch) {
  const calls = encodeCalls(requests, batch);
  return {
    size: calls.length,
    at(index) {
      const round = Math.floor(index / calls.length);
      const slot = index % calls.length;
      if (round === 0) return /** @type {Buffer} */ (calls[slot]);
      /** @param {memoryV1.RememberRequest} request */
      const marked = (request) => ({ ...request, content: `${request.content} #${round + 1}` });
      if (batch === 1) return Buffer.from(memoryV1.RememberRequest.encode(marked(/** @type {memoryV1.RememberRequest} */ (requests[slot]))).finish());
      return Buffer.from(memoryV1.BatchRememberRequest.encode({ requests: requests.slice(slot * batch, (slot + 1) * batch).map(marked) }).finish());
    },
  };
}
