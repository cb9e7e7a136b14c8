// @ts-check
/**
 * Recovery (issue #9, item 3): time from process start to ready after a crash,
 * and the WAL replay rate, next to Redis loading an AOF of as many SETs of
 * the same size, in the same run on the same disk.
 *
 * Case "WAL tail": a real pod (sidecar + memory service) with checkpoints off
 * is driven with BatchRemember (client-made 384-d embeddings, 256 B content,
 * admission ALWAYS; 4 callers x 100) until the sidecar's durable LSN is BENCH_RECOVERY_RECORDS
 * past the last checkpoint (the fresh state's first checkpoint). One Remember
 * is one REMEMBER record (room made, cluster, arousal, encoding and the
 * memory in one), about 3.6 KB with its packed embedding and centroid; records
 * are counted by LSN, so "records" are WAL records, whatever they hold. Both
 * processes are then SIGKILLed: a crash, no final checkpoint (SIGTERM would
 * write one, see services/memory/src/app/shutdown.ts). The fill uses
 * T4DM_WAL_SYNC_MODE=none, importance 0 and T4DM_RETENTION_DEFAULT=learned
 * (so every memory is later evicted with a reason rather than promoted into
 * the embedded store, which would make the restart time the store's), because
 * only the WAL's bytes matter and the fill is the slow part (~4 min for 200k
 * records here, one Remember per record); the restarts use fdatasync, as a user would.
 *
 * Case "full checkpoint": a pod with T4DM_BUFFER_CAPACITY=BENCH_RECOVERY_BUFFER
 * is filled towards its capacities (buffer full, 16 clusters in each of
 * BENCH_RECOVERY_NAMESPACES namespaces, idempotency keys, eligibility traces
 * and dopamine expectations from recalls and reinforcements), checkpointed
 * with the Admin Checkpoint RPC, and crashed right after.
 *
 * Each run copies the crashed dir (a start changes it), starts the sidecar
 * and the memory service on it and times sidecar spawn → memory ready=true;
 * the memory service's recovery.done line gives its phases (checkpoint
 * decode, replay, verify) and the records replayed. Replay rate = records /
 * replay phase. Anchor: redis-server with an AOF of the same number of SETs,
 * each value as large as T4DM's average WAL record (WAL bytes / records);
 * Redis's rate = keys / the load time it logs ("DB loaded from append only
 * file"). Both logs are read from the page cache (just written or copied).
 *
 * Knobs (environment):
 *   BENCH_RECOVERY_RECORDS=1000000  WAL records after the last checkpoint
 *   BENCH_RECOVERY_BUFFER=10000     buffer capacity for the full-checkpoint case (0 skips the case)
 *   BENCH_RECOVERY_NAMESPACES=256   namespaces the full state spreads over
 *   BENCH_RECOVERY_RECALLS=1024     recalls (half reinforced) for the full state
 *   BENCH_RUNS=3                    restarts per case (median, min–max)
 *   BENCH_CPU_PROF=1                run both services with --cpu-prof; one directory per restart under
 *                                   build/bench/profiles/recovery-*, one profile per process and thread
 *                                   (summarise each with bench/cpuprofile-top.mjs)
 *   BENCH_DATA_ROOT=build/bench/data
 */
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { call, connectClients, startPod } from "@t4dm/testkit";
import { describeMachine, machineFacts } from "./lib/machine.mjs";
import { DATA_ROOT, fmt, printRows, RUNS, writeResult } from "./lib/report.mjs";
import { adminStatus, fillState, filesBytes, freshDir, MAX_BATCH, rememberUntil, sidecarStatus } from "./lib/recovery-load.mjs";
import { copyDataDir, killTracked, onInterrupt, timedStart, track } from "./lib/recovery-start.mjs";
import { loadAof, writeAof } from "./lib/recovery-redis.mjs";
import { ratioOfRuns, summarize } from "./lib/stats.mjs";

const RECORDS = Number(process.env.BENCH_RECOVERY_RECORDS ?? 1_000_000);
const FULL_BUFFER = Number(process.env.BENCH_RECOVERY_BUFFER ?? 10_000);
const NAMESPACES = Number(process.env.BENCH_RECOVERY_NAMESPACES ?? 256);
const RECALLS = Number(process.env.BENCH_RECOVERY_RECALLS ?? 1024);
const SEED = 9;
const CPU_PROF = process.env.BENCH_CPU_PROF === "1";

/** Checkpoints only when asked: the highest interval and record count the config accepts. */
const NO_CHECKPOINTS = { T4DM_CHECKPOINT_INTERVAL: "86400", T4DM_CHECKPOINT_EVERY_RECORDS: "100000000" };
/** The restarts run as a user would: fdatasync, default checkpoint settings. */
const RESTART_ENV = { T4DM_WAL_SYNC_MODE: "fdatasync" };

/**
 * Restarts a copy of `crashed` RUNS times and collects each start's timings.
 * @param {string} crashed @param {string} scratch @param {Record<string, string>} env
 */
async function restarts(crashed, scratch, env) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    copyDataDir(crashed, scratch);
    const profileDir = CPU_PROF ? path.resolve(`build/bench/profiles/recovery-${path.basename(crashed)}-${i + 1}`) : undefined;
    if (profileDir) mkdirSync(profileDir, { recursive: true });
    const started = await timedStart(scratch, env, profileDir);
    await started.stop();
    const { recovery } = started;
    runs.push({
      readyMs: started.readyMs,
      sidecarReadyMs: started.sidecarReadyMs,
      memoryReadyMs: started.memoryReadyMs,
      mode: recovery.mode,
      recordsReplayed: recovery.recordsReplayed,
      checkpointLsn: recovery.checkpointLsn,
      bufferSize: recovery.bufferSize,
      phasesMs: recovery.phasesMs,
      recoveryTotalMs: recovery.totalMs,
      replayRate: recovery.recordsReplayed / (recovery.phasesMs.replayMs / 1000),
    });
    console.log(
      `  run ${i + 1}: ready in ${fmt(started.readyMs)} ms (sidecar ${fmt(started.sidecarReadyMs)} ms), ${recovery.mode}, ` +
        `${fmt(recovery.recordsReplayed)} records replayed in ${fmt(recovery.phasesMs.replayMs)} ms, checkpoint decode ${fmt(recovery.phasesMs.checkpointMs)} ms`,
    );
    rmSync(scratch, { recursive: true, force: true });
  }
  return runs;
}

/** Crash case 1: RECORDS records after the last checkpoint. @param {string} root */
async function walTailCase(root) {
  const crashed = path.join(root, "wal-tail");
  const env = { T4DM_LOG_LEVEL: "info", T4DM_WAL_SYNC_MODE: "none", T4DM_RETENTION_DEFAULT: "learned", ...NO_CHECKPOINTS };
  const pod = await startPod({ dataDir: crashed, env });
  track(pod.memory);
  track(pod.sidecar);
  const clients = connectClients(pod.grpcAddr);
  try {
    const before = await adminStatus(clients);
    const checkpointLsn = Number(before.checkpointLsn);
    const started = Date.now();
    const filled = await rememberUntil(clients, {
      seed: SEED,
      callers: 4,
      batch: MAX_BATCH,
      namespaces: ["agent-a", "agent-b", "agent-c", "agent-d"],
      importance: 0,
      done: (lsn) => lsn - checkpointLsn >= RECORDS,
    });
    const fillMs = Date.now() - started;
    const status = await adminStatus(clients);
    const sidecar = await sidecarStatus(pod.sidecarAddr);
    if (Number(status.checkpointLsn) !== checkpointLsn) throw new Error(`a checkpoint ran during the fill (LSN ${status.checkpointLsn})`);
    const durableLsn = Number(sidecar.durableLsn);
    const fill = {
      remembered: filled.remembered,
      fillMs,
      checkpointLsn,
      durableLsn,
      recordsAfterCheckpoint: durableLsn - checkpointLsn,
      recordsPerRemember: (durableLsn - checkpointLsn) / filled.remembered,
      walBytes: Number(sidecar.walBytes),
      walSegments: sidecar.segmentCount,
      // Every record in the WAL (from LSN 1), frames and segment headers included.
      avgRecordBytes: Number(sidecar.walBytes) / durableLsn,
    };
    console.log(
      `filled: ${fmt(fill.remembered)} Remembers → ${fmt(fill.recordsAfterCheckpoint)} records after checkpoint LSN ${checkpointLsn} in ${fmt(fillMs / 1000, 1)} s; ` +
        `WAL ${fmt(fill.walBytes / 2 ** 20, 1)} MiB, ${fmt(fill.avgRecordBytes)} B/record`,
    );
    return { crashed, fill };
  } finally {
    clients.close();
    await Promise.all([pod.memory.kill("SIGKILL"), pod.sidecar.kill("SIGKILL")]);
  }
}

/** Crash case 2: a checkpoint of a state filled to its capacities, then a crash. @param {string} root */
async function fullCheckpointCase(root) {
  const crashed = path.join(root, "full-checkpoint");
  const env = { T4DM_LOG_LEVEL: "info", T4DM_WAL_SYNC_MODE: "none", T4DM_BUFFER_CAPACITY: String(FULL_BUFFER), ...NO_CHECKPOINTS };
  const pod = await startPod({ dataDir: crashed, env });
  track(pod.memory);
  track(pod.sidecar);
  const clients = connectClients(pod.grpcAddr);
  try {
    const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `tenant-${i}`);
    const filled = await fillState(clients, { seed: SEED + 1, memories: FULL_BUFFER, namespaces, recalls: RECALLS });
    const checkpoint = await call(clients.admin.checkpoint.bind(clients.admin), {});
    const done = await pod.memory.waitFor((line) => line.event === "checkpoint.done" && line.lsn === Number(checkpoint.lsn));
    const status = await adminStatus(clients);
    const state = {
      bufferCapacity: FULL_BUFFER,
      bufferSize: status.bufferSize,
      namespaces: NAMESPACES,
      recalls: RECALLS,
      fillMs: filled.rememberMs + filled.recallMs,
      checkpointLsn: Number(checkpoint.lsn),
      checkpointFile: checkpoint.fileName,
      checkpointBytes: Number(checkpoint.sizeBytes),
      checkpointUncompressedBytes: Number(done.bytes),
      checkpointMs: Number(done.ms),
      recordsAfterCheckpoint: Number(status.durableLsn) - Number(checkpoint.lsn),
      checkpointFilesOnDisk: filesBytes(path.join(crashed, "checkpoints"), /^checkpoint_.*\.bin\.gz$/).files,
    };
    console.log(
      `full state: buffer ${fmt(state.bufferSize)}/${fmt(FULL_BUFFER)} over ${NAMESPACES} namespaces, ${RECALLS} recalls; checkpoint ` +
        `${fmt(state.checkpointBytes / 2 ** 20, 2)} MiB gzip (${fmt(state.checkpointUncompressedBytes / 2 ** 20, 2)} MiB raw), ` +
        `${state.recordsAfterCheckpoint} records after it`,
    );
    return { crashed, state };
  } finally {
    clients.close();
    await Promise.all([pod.memory.kill("SIGKILL"), pod.sidecar.kill("SIGKILL")]);
  }
}

async function main() {
  const machine = machineFacts(DATA_ROOT);
  console.log(describeMachine(machine));
  mkdirSync(DATA_ROOT, { recursive: true });
  const root = freshDir(DATA_ROOT, "recovery-");
  onInterrupt(async () => {
    await killTracked();
    rmSync(root, { recursive: true, force: true });
  });
  /** @type {import("./lib/report.mjs").Row[]} */
  const rows = [];
  const details = /** @type {Record<string, unknown>} */ ({ records: RECORDS, runs: RUNS });
  try {
    // 1. A WAL tail of RECORDS records, restarted RUNS times.
    console.log(`recovery: filling a WAL with ${fmt(RECORDS)} records after the last checkpoint …`);
    const tail = await walTailCase(root);
    details.walTailFill = tail.fill;
    const tailRuns = await restarts(tail.crashed, path.join(root, "run"), RESTART_ENV);
    details.walTailRuns = tailRuns;
    const replayed = tailRuns[0]?.recordsReplayed ?? 0;
    if (replayed < RECORDS) throw new Error(`only ${replayed} records replayed, expected at least ${RECORDS}`);
    rmSync(tail.crashed, { recursive: true, force: true });

    // 2. The anchor: Redis loading an AOF of as many SETs, values as large as an average WAL record.
    const valueBytes = Math.round(tail.fill.avgRecordBytes);
    console.log(`redis: writing an AOF of ${fmt(replayed)} SETs of ${valueBytes} B …`);
    const redisDir = path.join(root, "redis");
    mkdirSync(redisDir);
    const aof = await writeAof(redisDir, replayed, valueBytes);
    const redisRuns = [];
    for (let i = 0; i < RUNS; i++) {
      const loaded = await loadAof(redisDir, replayed);
      redisRuns.push({ ...loaded, rate: loaded.keys / (loaded.loadMs / 1000) });
      console.log(`  run ${i + 1}: ready in ${fmt(loaded.readyMs)} ms, AOF loaded in ${fmt(loaded.loadMs)} ms`);
    }
    rmSync(redisDir, { recursive: true, force: true });
    details.redis = { valueBytes, aofBytes: aof.aofBytes, aofWriteMs: aof.fillMs, runs: redisRuns };

    const t4dmRate = tailRuns.map((r) => r.replayRate);
    const redisRate = redisRuns.map((r) => r.rate);
    const rateRatio = ratioOfRuns(t4dmRate, redisRate);
    const n = fmt(replayed);
    rows.push({
      section: "Recovery",
      metric: `replay rate, ${n} WAL records after the last checkpoint`,
      unit: "records/s",
      value: summarize(t4dmRate),
      anchor: { name: `Redis AOF load (${n} SETs of ${valueBytes} B)`, value: summarize(redisRate) },
      ratio: rateRatio,
      goal: ">= 1.0x Redis",
      met: rateRatio.median >= 1,
      note:
        "T4DM: records / the memory service's replay phase (sidecar reads the segments in 4 MiB chunks, checks and streams them over gRPC, " +
        "the memory service decodes and applies each); Redis: keys / the AOF load time it logs. Both files in the page cache. " +
        "Limits (profiled, 200k REMEMBER records of ~3.6 KB): ~15 µs of CPU per record in the memory service (decode, apply; copying " +
        "vectors and the garbage collector dominate) and about as much in the sidecar while it streams (CRC check, protobuf and gRPC " +
        "framing copies, garbage collector); the two overlap only when each has a core to itself.",
    });
    rows.push({
      section: "Recovery",
      metric: `start to ready, ${n} WAL records after the last checkpoint`,
      unit: "s",
      value: summarize(tailRuns.map((r) => r.readyMs / 1000)),
      anchor: { name: "Redis spawn to ready", value: summarize(redisRuns.map((r) => r.readyMs / 1000)) },
      ratio: ratioOfRuns(
        tailRuns.map((r) => r.readyMs),
        redisRuns.map((r) => r.readyMs),
      ),
      note: "sidecar spawn → memory service ready=true (both Node processes start, the sidecar scans the WAL, the memory service replays); ratio T4DM/Redis, lower is better",
    });
    rows.push({
      section: "Recovery",
      metric: "  of which: sidecar start (spawn → listening, WAL scanned)",
      unit: "s",
      value: summarize(tailRuns.map((r) => r.sidecarReadyMs / 1000)),
    });
    rows.push({
      section: "Recovery",
      metric: "  of which: memory service replay phase",
      unit: "s",
      value: summarize(tailRuns.map((r) => r.phasesMs.replayMs / 1000)),
    });

    // 3. A checkpoint of a full state.
    if (FULL_BUFFER > 0) {
      console.log(`recovery: building a full state (buffer ${fmt(FULL_BUFFER)}, ${NAMESPACES} namespaces, ${RECALLS} recalls) and checkpointing it …`);
      const full = await fullCheckpointCase(root);
      details.fullState = full.state;
      const fullRuns = await restarts(full.crashed, path.join(root, "run"), { ...RESTART_ENV, T4DM_BUFFER_CAPACITY: String(FULL_BUFFER) });
      details.fullCheckpointRuns = fullRuns;
      rmSync(full.crashed, { recursive: true, force: true });
      const what = `checkpoint of a full state (buffer ${fmt(FULL_BUFFER)}, ${NAMESPACES} namespaces)`;
      rows.push({
        section: "Recovery",
        metric: `start to ready, ${what}`,
        unit: "s",
        value: summarize(fullRuns.map((r) => r.readyMs / 1000)),
        note: `checkpoint ${fmt(full.state.checkpointBytes / 2 ** 20, 2)} MiB gzip (${fmt(full.state.checkpointUncompressedBytes / 2 ** 20, 1)} MiB raw), ${full.state.recordsAfterCheckpoint} records after it`,
      });
      rows.push({
        section: "Recovery",
        metric: "  of which: checkpoint decode + hash check",
        unit: "s",
        value: summarize(fullRuns.map((r) => r.phasesMs.checkpointMs / 1000)),
      });
      rows.push({
        section: "Recovery",
        metric: "  checkpoint size on disk (gzip)",
        unit: "MiB",
        value: summarize([full.state.checkpointBytes / 2 ** 20]),
      });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  console.log("");
  printRows(rows);
  const file = writeResult({ bench: "recovery", command: "node bench/recovery.mjs", machine, rows, details });
  console.log(`\nwrote ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
