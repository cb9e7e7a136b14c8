// @ts-check
/**
 * Crash and restart helpers for bench/recovery.mjs and bench/checkpoint.mjs:
 * copy a crashed data dir (every run must start from the same bytes), start
 * the real sidecar and memory service on it and time each step to ready.
 */
import { cpSync, rmSync } from "node:fs";
import { ServiceProcess } from "@t4dm/testkit";

/**
 * Copies a data dir without its unix socket (a live sidecar's leftover, which
 * cannot be copied and is recreated on start). @param {string} from @param {string} to
 */
export function copyDataDir(from, to) {
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true, filter: (src) => !src.endsWith(".sock") });
}

/** Milliseconds since `t0` (a process.hrtime.bigint()). @param {bigint} t0 */
export function msSince(t0) {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * Starts the sidecar, then the memory service, on `dataDir` (as a pod does:
 * the memory service needs the sidecar's socket) and resolves once the memory
 * service logs ready=true. Times are from the sidecar's spawn.
 * @param {string} dataDir
 * @param {Record<string, string>} env extra T4DM_* settings
 * @param {string | undefined} [profileDir] run both services with --cpu-prof into this directory;
 *   `stop` then ends them with SIGTERM (a profile is written only on a clean exit)
 */
export async function timedStart(dataDir, env, profileDir) {
  const fullEnv = { T4DM_DATA_DIR: dataDir, T4DM_GRPC_ADDR: "127.0.0.1:0", T4DM_HTTP_ADDR: "127.0.0.1:0", T4DM_LOG_LEVEL: "info", ...env };
  const t0 = process.hrtime.bigint();
  const nodeArgs = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  const sidecar = track(ServiceProcess.start("persistence", fullEnv, nodeArgs));
  /** @type {ServiceProcess | undefined} */
  let memory;
  const stop = async () => {
    // SIGKILL: these runs are crash tests; a graceful stop would checkpoint (a profiled run's dir is a copy).
    const signal = profileDir ? "SIGTERM" : "SIGKILL";
    await memory?.kill(signal);
    await sidecar.kill(signal);
  };
  try {
    await sidecar.waitForEvent("grpc.listening");
    const sidecarReadyMs = msSince(t0);
    memory = track(ServiceProcess.start("memory", fullEnv, nodeArgs));
    const memorySpawnMs = msSince(t0);
    await memory.waitFor((line) => line.event === "readiness" && line.ready === true);
    const readyMs = msSince(t0);
    const done = await memory.waitForEvent("recovery.done");
    const grpc = await memory.waitForEvent("grpc.listening");
    const sidecarListening = await sidecar.waitForEvent("grpc.listening");
    return {
      sidecar,
      memory,
      grpcAddr: String(grpc.addr),
      sidecarAddr: String(sidecarListening.addr),
      /** sidecar spawn → sidecar listening (it has scanned the WAL) */
      sidecarReadyMs,
      /** sidecar spawn → memory service ready=true */
      readyMs,
      /** memory spawn → ready */
      memoryReadyMs: readyMs - memorySpawnMs,
      /** the memory service's own recovery.done line: mode, recordsReplayed, phasesMs, totalMs */
      recovery: /** @type {{ mode: string, recordsReplayed: number, checkpointLsn: number, appliedLsn: number, bufferSize: number,
        phasesMs: { checkpointMs: number, replayMs: number, verifyMs: number }, totalMs: number }} */ (/** @type {unknown} */ (done)),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Stops what a bench started if it is interrupted (SIGINT/SIGTERM): the
 * services are separate processes and would outlive it. `cleanup` must be
 * safe to call at any point. @param {() => Promise<void> | void} cleanup
 */
export function onInterrupt(cleanup) {
  for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
    process.once(signal, () => {
      void Promise.resolve()
        .then(cleanup)
        .catch(() => undefined)
        .finally(() => process.exit(130));
    });
  }
}

/** Every service process started through `track`, so an interrupt can kill them all. */
const live = new Set();

/** @template {{ kill: (signal?: NodeJS.Signals) => Promise<unknown> }} T @param {T} service @returns {T} */
export function track(service) {
  live.add(service);
  return service;
}

/** SIGKILLs every tracked service. */
export async function killTracked() {
  await Promise.all([...live].map((s) => s.kill("SIGKILL")));
  live.clear();
}
