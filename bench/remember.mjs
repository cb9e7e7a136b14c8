// @ts-check
/**
 * `node bench/remember.mjs`: durable writes end to end (issue #9, item 1).
 *
 * T4DM: a fresh real pod (sidecar + memory service from their dist/main.js,
 * T4DM_WAL_SYNC_MODE=fdatasync, default buffer, store, checkpoints and
 * learning) per (run, callers, mode). C concurrent callers share one gRPC
 * channel and loop: Remember (unary), or BatchRemember with batches of 64,
 * each memory ~256 B of content plus a client-made 384-d unit embedding,
 * admission ALWAYS. A call is timed from send to its answer, which the
 * service gives only once the WAL records are fdatasync'ed and applied.
 * Requests are encoded up front (as redis-benchmark pre-formats its
 * commands) and every answer is decoded and checked.
 *
 * Anchor, same run, same disk, same C: a fresh redis-server with
 * --appendonly yes --appendfsync always, driven by the real
 * `redis-benchmark -t set -d 256 -r 1000000 -c C --csv`. Its warm-up is a
 * short redis-benchmark run whose rate sizes the measured run to about
 * BENCH_SECONDS. Order per (run, C): T4DM unary, Redis, T4DM batch.
 *
 * Choices: one fresh pod (and one fresh redis-server) per measurement, so
 * every figure starts from the same empty state instead of inheriting the
 * store and WAL of the one before. The pod runs as in production: an API key
 * file (the bench sends its bearer key), default buffer (100), embedded
 * store, checkpoints and learning; only the per-key rate limit (a quota, 500/s
 * by default) is off. Importance is uniform in [0, 1], so memories pushed out
 * of the full buffer are partly promoted to the store (HNSW + SQLite) and
 * partly evicted. 16,384 distinct memories are pre-encoded and reused in turn.
 *
 * Knobs (environment):
 *   BENCH_RUNS=3                   repeats; figures are median (min–max)
 *   BENCH_REMEMBER_CALLERS=1,16,64 concurrent callers (and redis-benchmark -c)
 *   BENCH_REMEMBER_MODES=unary,batch
 *   BENCH_REMEMBER_BATCH=64        memories per BatchRemember
 *   BENCH_WARMUP_S=1               warm-up seconds per measurement, not counted
 *   BENCH_SECONDS=3                measured seconds per measurement (at least: warm-up and window
 *                                  each stretch until C calls finished in them, so slow batch
 *                                  calls are measured over a whole round; capped at BENCH_MAX_S=20)
 *   BENCH_DATA_ROOT=build/bench/data
 *   BENCH_CPU_PROF=1               run the memory service with --cpu-prof; one directory per measurement
 *                                  under build/bench/profiles/, one profile per thread (summarise each
 *                                  with bench/cpuprofile-top.mjs)
 *   T4DM_*                         passed to the pod for what-if runs, except the ones set here
 *
 * Quick run: BENCH_RUNS=1 BENCH_SECONDS=1 BENCH_REMEMBER_CALLERS=16 node bench/remember.mjs
 */
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import grpc from "@grpc/grpc-js";
import { startPod } from "@t4dm/testkit";
import { describeMachine, machineBusySeconds, machineFacts, noiseMeter, processCpuSeconds } from "./lib/machine.mjs";
import { startRedis } from "./lib/redis.mjs";
import { DATA_ROOT, printRows, RUNS, writeResult } from "./lib/report.mjs";
import { latencyMs, ratioOfRuns, summarize } from "./lib/stats.mjs";
import { callPool, checkResponse, closedLoop, parseRedisBenchmarkCsv, rememberRequests } from "./lib/remember-load.mjs";

const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 1);
const MEASURE_S = Number(process.env.BENCH_SECONDS ?? 3);
const CALLERS = list(process.env.BENCH_REMEMBER_CALLERS ?? "1,16,64");
const MODES = (process.env.BENCH_REMEMBER_MODES ?? "unary,batch").split(",").map((m) => m.trim());
if (MODES.length === 0 || MODES.some((m) => m !== "unary" && m !== "batch")) throw new Error(`BENCH_REMEMBER_MODES: expected unary and/or batch, got ${MODES.join(",")}`);
const BATCH = list(process.env.BENCH_REMEMBER_BATCH ?? "64")[0] ?? 64;
/** Cap on each of warm-up and window when calls are slow (see closedLoop). */
const MAX_S = Number(process.env.BENCH_MAX_S ?? 20);
const DIM = 384;
const CONTENT_BYTES = 256;
const NAMESPACE = "bench";
/** Distinct memories pre-encoded per mode; calls cycle through them. */
const POOL = 16384;
const CPU_PROF = process.env.BENCH_CPU_PROF === "1";
const PROFILE_DIR = path.resolve("build/bench/profiles");
const REDIS_ARGS = ["--appendonly", "yes", "--appendfsync", "always"];
const exec = promisify(execFile);

/** The API key the bench calls with; the pod's key file holds only its hash, as in production. */
const API_KEY = "bench-remember-key";

/** The pod's settings: what a user who wants durability sets; everything else default. */
const POD_ENV = {
  // Other T4DM_* settings pass through for what-if runs (e.g. T4DM_BUFFER_CAPACITY).
  ...Object.fromEntries(Object.entries(process.env).filter((e) => e[0].startsWith("T4DM_") && e[1] !== undefined)),
  T4DM_WAL_SYNC_MODE: "fdatasync",
  T4DM_LOG_LEVEL: "info",
  // The per-key rate limit (default 500/s) is a quota for shared servers, not a capacity: off, as testkit has it.
  T4DM_RATE_LIMIT: process.env.T4DM_RATE_LIMIT ?? "0",
};

/**
 * Writes an API key file (as a production pod has; without one the service
 * runs in development mode) and returns the pod env that points at it.
 * @param {string} dir
 */
function withApiKeys(dir) {
  const file = path.join(dir, "api-keys.json");
  const sha256 = createHash("sha256").update(API_KEY, "utf8").digest("hex");
  writeFileSync(file, JSON.stringify({ keys: [{ id: "bench", sha256, namespaces: [NAMESPACE] }] }), { mode: 0o600 });
  return { ...POD_ENV, T4DM_API_KEYS_FILE: file };
}

/**
 * What limits T4DM here, from CPU profiles of the memory service (node
 * --cpu-prof) and its metrics; see bench/README.md. Printed only next to a
 * goal that was not met.
 */
const LIMITS = {
  /** @param {number} cpuPercent memory service, 100 = one core @param {number} cpuMs its CPU ms per memory @param {number} records WAL records per memory */
  throughput: (cpuPercent, cpuMs, records) =>
    `limited by CPU per memory in the memory service, mostly its one JS thread: ${cpuMs.toFixed(2)} CPU ms per memory, so at most ~${Math.round(1000 / cpuMs)} memories/s per core ` +
    `(planning: novelty and near-duplicate scans of the namespace's buffer, gate and clusters; ${records.toFixed(1)} WAL records per memory, protobuf-encoded, applied to the projected and then the durable state; the promotion's store row; gRPC and protobuf on two hops); ` +
    `it got ${cpuPercent.toFixed(0)}% of a core in the window; fsync is amortized`,
  /** @param {number} records WAL records per memory */
  unaryLatency: (records) =>
    `each Remember crosses two Node processes and two gRPC hops with ${records.toFixed(1)} WAL records and is planned on the memory service's one JS thread (its CPU per memory is in the CPU row); a promotion adds a store write, an fdatasync of its SQLite WAL and a STORE_SYNCED record on the same disk; Redis is one write+fdatasync in one process`,
};

/** @param {string} raw */
function list(raw) {
  return raw.split(",").map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1) throw new Error(`not a positive integer list: ${raw}`);
    return n;
  });
}

/** @param {number | null} a @param {number | null} b @param {number} seconds */
function cpuPercent(a, b, seconds) {
  return a !== null && b !== null ? ((b - a) / seconds) * 100 : null;
}

/** Bytes under a directory, by its top-level entries (wal, checkpoints, store, ...). @param {string} dir */
function diskUse(dir) {
  /** @type {Record<string, number>} */
  const out = {};
  /** @type {(p: string) => number} */
  const walk = (p) => {
    const s = statSync(p);
    if (!s.isDirectory()) return s.size;
    return readdirSync(p).reduce((sum, name) => sum + walk(path.join(p, name)), 0);
  };
  for (const name of readdirSync(dir)) {
    try {
      out[name] = walk(path.join(dir, name));
    } catch {
      // a file vanished meanwhile (retention): skip it
    }
  }
  return out;
}

/** A few counters from the memory service's Prometheus endpoint. @param {string} httpUrl */
async function scrapeMetrics(httpUrl) {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  /** @type {Record<string, number>} */
  const out = {};
  for (const line of text.split("\n")) {
    const match = /^(ww_(?:applied_lsn|wal_syncs_total|wal_sync_seconds_total|wal_bytes|checkpoint_lsn|buffer_size|evictions_total)(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (match?.[1] && match[2]) out[match[1]] = Number(match[2]);
  }
  return out;
}

/**
 * One T4DM measurement on a fresh pod.
 * @param {number} callers
 * @param {number} batch 1 = unary Remember
 * @param {ReturnType<typeof callPool>} calls the requests to send, by index
 */
async function runT4dm(callers, batch, calls) {
  const root = mkdtempSync(path.join(DATA_ROOT, `remember-c${callers}-${batch === 1 ? "unary" : `batch${batch}`}-`));
  const dir = path.join(root, "data");
  mkdirSync(dir);
  /** @type {import("@t4dm/testkit").Pod | undefined} */
  let pod;
  /** @type {grpc.Client | undefined} */
  let client;
  try {
    const startedAt = process.hrtime.bigint();
    // One directory per measurement, with V8's own file names: each thread (the main one, the
    // vector index and snapshot workers) writes its own profile, and a fixed name would overwrite.
    const profileDir = path.join(PROFILE_DIR, `memory-c${callers}-${batch === 1 ? "unary" : `batch${batch}`}-${process.hrtime.bigint()}`);
    // --cpu-prof is not allowed in NODE_OPTIONS, so it goes on the command line.
    const memoryNodeArgs = CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
    if (CPU_PROF) mkdirSync(profileDir, { recursive: true });
    pod = await startPod({ dataDir: dir, env: withApiKeys(root), memoryNodeArgs });
    const podStartMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
    const memoryPid = pod.memory.child.pid;
    const sidecarPid = pod.sidecar.child.pid;
    client = new grpc.Client(pod.grpcAddr, grpc.credentials.createInsecure(), { "grpc.max_receive_message_length": 64 * 1024 * 1024 });
    const method = batch === 1 ? "/t4dm.memory.v1.MemoryService/Remember" : "/t4dm.memory.v1.MemoryService/BatchRemember";
    const identity = (/** @type {Buffer} */ b) => b;
    const grpcClient = client;
    let next = 0;
    let answersWithoutMemory = 0;
    /** Memories answered in all phases, to relate the pod's counters to. */
    let answered = 0;
    const auth = new grpc.Metadata();
    auth.set("authorization", `Bearer ${API_KEY}`);
    const once = () =>
      new Promise((resolve, reject) => {
        const request = calls.at(next++);
        grpcClient.makeUnaryRequest(method, identity, identity, request, auth.clone(), { deadline: Date.now() + 30_000 }, (error, response) => {
          if (error || !response) return reject(error ?? new Error("empty response"));
          try {
            answersWithoutMemory += checkResponse(response, batch);
            answered += batch;
            resolve(undefined);
          } catch (e) {
            reject(e);
          }
        });
      });
    /** @type {{ memory: number | null, sidecar: number | null, bench: NodeJS.CpuUsage, noise: ReturnType<typeof noiseMeter>, checkpoints: number } | undefined} */
    let start;
    const checkpointsSoFar = () => pod?.memory.lines.filter((l) => l.event === "checkpoint.done").length ?? 0;
    const loop = await closedLoop({
      callers,
      warmupS: WARMUP_S,
      measureS: MEASURE_S,
      // Slow batch calls: at least one call per caller in the window, or it holds a fraction of a round.
      minCalls: callers,
      maxS: MAX_S,
      once,
      onWindowStart: () => {
        start = {
          memory: processCpuSeconds(memoryPid),
          sidecar: processCpuSeconds(sidecarPid),
          bench: process.cpuUsage(),
          noise: noiseMeter([memoryPid, sidecarPid]),
          checkpoints: checkpointsSoFar(),
        };
      },
      onWindowEnd: () => ({
        memory: processCpuSeconds(memoryPid),
        sidecar: processCpuSeconds(sidecarPid),
        bench: process.cpuUsage(start?.bench),
        otherCpuPercent: start?.noise.stop() ?? null,
        checkpoints: checkpointsSoFar() - (start?.checkpoints ?? 0),
      }),
    });
    const w = loop.window;
    const metrics = await scrapeMetrics(pod.httpUrl);
    // Waiting for the long-term store is designed backpressure, not a problem: it is counted instead.
    const storeStalls = pod.memory.lines.filter((line) => line.event === "store_backlog.stalled").length;
    for (const proc of [pod.memory, pod.sidecar]) {
      const problems = proc.lines.filter((line) => (line.level === "error" || line.level === "warn") && line.event !== "store_backlog.stalled");
      if (problems.length > 0) throw new Error(`${proc.name} logged problems: ${JSON.stringify(problems.slice(0, 3))}`);
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`${proc.name} died: ${proc.stderr}`);
    }
    const memories = loop.calls * batch;
    const memoryCpu = cpuPercent(start?.memory ?? null, w?.memory ?? null, loop.seconds);
    return {
      callers,
      batch,
      calls: loop.calls,
      memories,
      seconds: loop.seconds,
      warmupSeconds: loop.warmupSeconds,
      memoriesPerSec: memories / loop.seconds,
      callsPerSec: loop.calls / loop.seconds,
      latency: latencyMs(loop.latenciesNs),
      // Memory-service CPU per memory in the window: what bounds throughput once fsync is amortized.
      memoryCpuMsPerMemory: memoryCpu !== null && memories > 0 ? (memoryCpu / 100) * loop.seconds * 1000 / memories : null,
      cpuPercent: {
        memory: memoryCpu,
        sidecar: cpuPercent(start?.sidecar ?? null, w?.sidecar ?? null, loop.seconds),
        benchClient: w ? ((w.bench.user + w.bench.system) / 1e6 / loop.seconds) * 100 : null,
        other: w?.otherCpuPercent ?? null,
      },
      checkpointsInWindow: w?.checkpoints ?? null,
      // Times Remember waited for the long-term store (T4DM_STORE_BACKLOG_LIMIT): then the rate is the store's.
      storeStalls,
      // Admitted durably, but already evicted again when the answer was built (see checkResponse).
      answersWithoutMemory,
      podStartMs,
      // Totals over warm-up + window, after the callers stopped.
      metrics,
      answeredMemories: answered,
      walRecordsPerMemory: metrics.ww_applied_lsn !== undefined && answered > 0 ? metrics.ww_applied_lsn / answered : null,
      diskBytes: diskUse(dir),
      // V8 writes the profile only on a clean exit, so the memory service is stopped gracefully first (below).
      cpuProfiles: CPU_PROF ? profileDir : null,
    };
  } finally {
    client?.close();
    if (CPU_PROF) await pod?.memory.kill("SIGTERM");
    await pod?.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * One Redis measurement on a fresh redis-server with an fsync-always AOF.
 * @param {number} callers
 */
async function runRedis(callers) {
  const dir = mkdtempSync(path.join(DATA_ROOT, `remember-redis-c${callers}-`));
  /** @type {Awaited<ReturnType<typeof startRedis>> | undefined} */
  let redis;
  try {
    redis = await startRedis({ dir, args: REDIS_ARGS });
    const bench = (/** @type {number} */ n) =>
      exec("redis-benchmark", ["-h", "127.0.0.1", "-p", String(redis?.port), "-t", "set", "-d", "256", "-r", "1000000", "-c", String(callers), "-n", String(n), "--csv"], {
        maxBuffer: 1 << 20,
      }).then(({ stdout }) => parseRedisBenchmarkCsv(stdout));
    // Warm-up, not counted; its rate sizes the measured run to about MEASURE_S.
    const warm = await bench(Math.max(500, callers * 200));
    const n = Math.max(callers * 10, Math.round(warm.rps * MEASURE_S));
    const cpu0 = { redis: processCpuSeconds(redis.pid), client: childrenCpuSeconds(), machine: machineBusySeconds(), own: process.cpuUsage() };
    const t0 = process.hrtime.bigint();
    const measured = await bench(n);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const redisCpu = cpuPercent(cpu0.redis, processCpuSeconds(redis.pid), seconds);
    // redis-benchmark is our (finished, reaped) child, so its CPU shows in this process's children time.
    const clientCpu = cpuPercent(cpu0.client, childrenCpuSeconds(), seconds);
    const own = process.cpuUsage(cpu0.own);
    const machine = cpuPercent(cpu0.machine, machineBusySeconds(), seconds);
    const other = machine !== null ? Math.max(0, machine - (redisCpu ?? 0) - (clientCpu ?? 0) - ((own.user + own.system) / 1e6 / seconds) * 100) : null;
    return {
      callers,
      requests: n,
      seconds,
      opsPerSec: measured.rps,
      latency: { p50Ms: measured.p50Ms, p99Ms: measured.p99Ms, meanMs: measured.meanMs, maxMs: measured.maxMs },
      warmupOpsPerSec: warm.rps,
      cpuPercent: { redis: redisCpu, benchmarkClient: clientCpu, other },
      aofBytes: diskUse(dir),
    };
  } finally {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Clock ticks per second for /proc stat files. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds of this process's finished, waited-for children (cutime + cstime), or null. */
function childrenCpuSeconds() {
  try {
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[13]) + Number(fields[14])) / CLK_TCK;
  } catch {
    return null;
  }
}

/**
 * The memory service's CPU (user + system, all its threads, from /proc/<pid>/stat) per memory
 * remembered in the window: what bounds throughput once fsync is amortized (issue #18).
 * @param {string} what @param {Awaited<ReturnType<typeof runT4dm>>[]} xs
 * @returns {import("./lib/report.mjs").Row}
 */
function cpuPerMemoryRow(what, xs) {
  return {
    section: "Durable writes",
    metric: `${what}, memory-service CPU per remembered memory`,
    unit: "ms",
    value: summarize(xs.map((x) => x.memoryCpuMsPerMemory ?? NaN)),
    note: "utime+stime of the memory process over the window / memories; lower is better",
  };
}

/** @param {number[]} xs */
const median = (xs) => summarize(xs).median;
/** @param {number[]} xs */
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

async function main() {
  mkdirSync(DATA_ROOT, { recursive: true });
  const machine = machineFacts(DATA_ROOT);
  console.log(describeMachine(machine));
  const unary = MODES.includes("unary");
  const batched = MODES.includes("batch");
  console.log(
    `durable writes: ${RUNS} run(s) x callers ${CALLERS.join(",")} x ${[unary && "unary Remember", batched && `BatchRemember x${BATCH}`].filter(Boolean).join(" + ")}, ` +
      `fresh pod each (fdatasync), ${WARMUP_S}s warm-up + ${MEASURE_S}s measured; anchor redis-server appendfsync always + redis-benchmark -t set -d 256`,
  );
  const t0 = Date.now();
  const requests = rememberRequests({ seed: 9001, count: POOL, dim: DIM, contentBytes: CONTENT_BYTES, namespace: NAMESPACE, tag: "bench" });
  const pools = { unary: callPool(requests, 1), batch: callPool(requests, BATCH) };

  /** @type {Map<number, { unary: Awaited<ReturnType<typeof runT4dm>>[], batch: Awaited<ReturnType<typeof runT4dm>>[], redis: Awaited<ReturnType<typeof runRedis>>[] }>} */
  const results = new Map(CALLERS.map((c) => [c, { unary: [], batch: [], redis: [] }]));
  for (let run = 0; run < RUNS; run++) {
    for (const callers of CALLERS) {
      const r = /** @type {NonNullable<ReturnType<typeof results.get>>} */ (results.get(callers));
      // Interleaved, so T4DM and Redis see the same machine conditions.
      if (unary) r.unary.push(await runT4dm(callers, 1, pools.unary));
      r.redis.push(await runRedis(callers));
      if (batched) r.batch.push(await runT4dm(callers, BATCH, pools.batch));
      const last = (/** @type {any[]} */ xs) => xs[xs.length - 1];
      const redis = last(r.redis);
      console.log(
        `run ${run + 1}/${RUNS}, ${callers} caller(s): ` +
          [
            unary && `Remember ${Math.round(last(r.unary).memoriesPerSec)}/s p50 ${last(r.unary).latency.p50Ms.toFixed(3)} ms`,
            `Redis SET ${Math.round(redis.opsPerSec)}/s p50 ${redis.latency.p50Ms.toFixed(3)} ms`,
            batched && `BatchRemember ${Math.round(last(r.batch).memoriesPerSec)} memories/s`,
            [...(unary ? [last(r.unary)] : []), ...(batched ? [last(r.batch)] : [])].some((m) => m.storeStalls > 0) &&
              "(Remember waited for the long-term store's backlog: the rate includes the store's pace)",
          ]
            .filter(Boolean)
            .join("; "),
      );
    }
  }

  /** @type {import("./lib/report.mjs").Row[]} */
  const rows = [];
  const section = "Durable writes";
  for (const [callers, r] of results) {
    const redisOps = r.redis.map((x) => x.opsPerSec);
    const redisP50 = r.redis.map((x) => x.latency.p50Ms);
    const redisP99 = r.redis.map((x) => x.latency.p99Ms);
    const who = `${callers} caller${callers === 1 ? "" : "s"}`;
    if (unary) {
      const ops = r.unary.map((x) => x.memoriesPerSec);
      const p50 = r.unary.map((x) => x.latency.p50Ms);
      const p99 = r.unary.map((x) => x.latency.p99Ms);
      const p50Ratio = ratioOfRuns(p50, redisP50);
      const goalP50 = callers === 1;
      rows.push(
        { section, metric: `Remember, ${who}`, unit: "ops/s", value: summarize(ops), anchor: { name: "Redis SET", value: summarize(redisOps) }, ratio: ratioOfRuns(ops, redisOps), note: "higher is better" },
        {
          section,
          metric: `Remember, ${who}, p50`,
          unit: "ms",
          value: summarize(p50),
          anchor: { name: "Redis SET", value: summarize(redisP50) },
          ratio: p50Ratio,
          goal: goalP50 ? "<= 2x Redis" : null,
          met: goalP50 ? p50Ratio.median <= 2 : null,
          note: `ratio T4DM/Redis, lower is better${goalP50 && p50Ratio.median > 2 ? `; ${LIMITS.unaryLatency(median(r.unary.map((x) => x.walRecordsPerMemory ?? NaN)))}` : ""}`,
        },
        { section, metric: `Remember, ${who}, p99`, unit: "ms", value: summarize(p99), anchor: { name: "Redis SET", value: summarize(redisP99) }, ratio: ratioOfRuns(p99, redisP99), note: "ratio T4DM/Redis, lower is better" },
        cpuPerMemoryRow(`Remember, ${who}`, r.unary),
      );
    }
    if (batched) {
      const memories = r.batch.map((x) => x.memoriesPerSec);
      const ratio = ratioOfRuns(memories, redisOps);
      rows.push(
        {
          section,
          metric: `BatchRemember x${BATCH}, ${who}`,
          unit: "memories/s",
          value: summarize(memories),
          anchor: { name: "Redis SET", value: summarize(redisOps) },
          ratio,
          goal: ">= 1.0x Redis",
          met: ratio.median >= 1,
          note: `memories/s vs Redis SET ops/s at the same concurrency${
            ratio.median < 1
              ? `; ${LIMITS.throughput(
                  median(r.batch.map((x) => x.cpuPercent.memory ?? NaN)),
                  median(r.batch.map((x) => x.memoryCpuMsPerMemory ?? NaN)),
                  median(r.batch.map((x) => x.walRecordsPerMemory ?? NaN)),
                )}`
              : ""
          }`,
        },
        { section, metric: `BatchRemember x${BATCH}, ${who}, call p50`, unit: "ms", value: summarize(r.batch.map((x) => x.latency.p50Ms)), note: `per call of ${BATCH} memories` },
        { section, metric: `BatchRemember x${BATCH}, ${who}, call p99`, unit: "ms", value: summarize(r.batch.map((x) => x.latency.p99Ms)), note: `per call of ${BATCH} memories` },
        cpuPerMemoryRow(`BatchRemember x${BATCH}, ${who}`, r.batch),
      );
    }
  }

  console.log("");
  printRows(rows);
  const cpuLine = (/** @type {string} */ name, /** @type {Awaited<ReturnType<typeof runT4dm>>[]} */ xs) =>
    xs.length
      ? `${name}: memory service ${mean(xs.map((x) => x.cpuPercent.memory ?? NaN)).toFixed(0)}%, sidecar ${mean(xs.map((x) => x.cpuPercent.sidecar ?? NaN)).toFixed(0)}%, ` +
        `bench client ${mean(xs.map((x) => x.cpuPercent.benchClient ?? NaN)).toFixed(0)}%, others ${mean(xs.map((x) => x.cpuPercent.other ?? NaN)).toFixed(0)}%; ` +
        `memory service ${median(xs.map((x) => x.memoryCpuMsPerMemory ?? NaN)).toFixed(2)} CPU ms and ${median(xs.map((x) => x.walRecordsPerMemory ?? NaN)).toFixed(1)} WAL records per memory`
      : "";
  console.log("\nmean CPU over the measured windows (100% = one core):");
  for (const [callers, r] of results) {
    console.log(
      `  ${callers} caller(s): ` +
        [
          cpuLine("Remember", r.unary),
          cpuLine(`BatchRemember`, r.batch),
          `Redis: redis-server ${mean(r.redis.map((x) => x.cpuPercent.redis ?? NaN)).toFixed(0)}%, redis-benchmark ${mean(r.redis.map((x) => x.cpuPercent.benchmarkClient ?? NaN)).toFixed(0)}%, others ${mean(r.redis.map((x) => x.cpuPercent.other ?? NaN)).toFixed(0)}%`,
        ]
          .filter(Boolean)
          .join("; "),
    );
  }
  const others = [...results.values()].flatMap((r) => [...r.unary, ...r.batch].map((x) => x.cpuPercent.other).concat(r.redis.map((x) => x.cpuPercent.other)));
  const noiseValues = /** @type {number[]} */ (others.filter((x) => x !== null && Number.isFinite(x)));
  const noise = `other processes used ${mean(noiseValues).toFixed(0)}% CPU on average (max ${Math.max(...noiseValues).toFixed(0)}%) during the measured windows; 100% = one of ${machine.cpus} cores`;
  console.log(`noise: ${noise}`);
  const elapsedS = (Date.now() - t0) / 1000;
  const file = writeResult({
    bench: "remember",
    command: "node bench/remember.mjs",
    machine,
    rows,
    noise,
    details: {
      settings: { runs: RUNS, callers: CALLERS, modes: MODES, batch: BATCH, warmupS: WARMUP_S, measureS: MEASURE_S, maxS: MAX_S, dim: DIM, contentBytes: CONTENT_BYTES, pool: POOL, podEnv: POD_ENV, redisArgs: REDIS_ARGS },
      order: "per run and caller count: T4DM unary (fresh pod), Redis (fresh server), T4DM batch (fresh pod)",
      elapsedS,
      results: Object.fromEntries([...results].map(([c, r]) => [String(c), r])),
    },
  });
  console.log(`results: ${path.relative(process.cwd(), file)} (${elapsedS.toFixed(0)} s)`);
  try {
    rmdirSync(DATA_ROOT); // only if empty: every run removed its own directory
  } catch {
    // not empty (another bench's data) or not ours to remove
  }
}

main().catch((error) => {
  console.error(`bench remember failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
