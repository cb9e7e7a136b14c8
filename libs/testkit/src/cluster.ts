import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ServiceProcess } from "./service-process.js";

/** A fresh data directory under the OS temp dir. */
export function makeDataDir(prefix = "t4dm-test-"): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Pod {
  readonly dataDir: string;
  readonly sidecar: ServiceProcess;
  readonly memory: ServiceProcess;
  /** The memory service's gRPC address, `127.0.0.1:port`. */
  readonly grpcAddr: string;
  /** The memory service's HTTP base URL. */
  readonly httpUrl: string;
  readonly sidecarAddr: string;
  stop(): Promise<void>;
}

/**
 * Starts a sidecar and a memory service on free ports over a fresh data
 * directory (or the given one), like one Kubernetes pod, and waits until both
 * listen. `memoryNodeArgs` go to the memory service's node (e.g. --cpu-prof for a bench).
 */
export async function startPod(options: { dataDir?: string; env?: Record<string, string>; memoryNodeArgs?: readonly string[] } = {}): Promise<Pod> {
  const data = options.dataDir ? { dir: options.dataDir, remove: () => {} } : makeDataDir();
  const env = { T4DM_DATA_DIR: data.dir, T4DM_GRPC_ADDR: "127.0.0.1:0", T4DM_HTTP_ADDR: "127.0.0.1:0", ...options.env };
  const sidecar = ServiceProcess.start("persistence", env);
  let memory: ServiceProcess | undefined;
  try {
    const sidecarListening = await sidecar.waitForEvent("grpc.listening");
    memory = ServiceProcess.start("memory", env, options.memoryNodeArgs);
    const [grpc, http] = await Promise.all([memory.waitForEvent("grpc.listening"), memory.waitForEvent("http.listening")]);
    // Ready means recovered and writing to the sidecar: what every test of the API needs.
    await memory.waitFor((line) => line.event === "readiness" && line.ready === true);
    // A fresh state is checkpointed right after start; let that land so tests see a settled state.
    const recovered = await memory.waitForEvent("recovery.done");
    if (recovered.mode === "cold" && recovered.recordsReplayed === 0) await memory.waitForEvent("checkpoint.done");
    return pod(data, sidecar, memory, String(grpc.addr), String(http.addr), String(sidecarListening.addr));
  } catch (error) {
    // A pod that failed to start leaves no process or temp dir behind (the caller never gets a stop()).
    await Promise.all([memory?.kill("SIGKILL"), sidecar.kill("SIGKILL")]);
    data.remove();
    throw error;
  }
}

function pod(data: { dir: string; remove: () => void }, sidecar: ServiceProcess, memory: ServiceProcess, grpcAddr: string, httpAddr: string, sidecarAddr: string): Pod {
  return {
    dataDir: data.dir,
    sidecar,
    memory,
    grpcAddr,
    httpUrl: `http://${httpAddr}`,
    sidecarAddr,
    async stop() {
      await Promise.all([memory.kill("SIGKILL"), sidecar.kill("SIGKILL")]);
      data.remove();
    },
  };
}
