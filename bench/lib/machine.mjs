// @ts-check
/** What the machine is and how busy it is: the context every figure needs. Linux /proc. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";

/** Clock ticks per second for /proc/<pid>/stat. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Node, CPUs, kernel, memory, load and the file system that holds `dataRoot`. @param {string} dataRoot */
export function machineFacts(dataRoot) {
  let filesystem = "unknown";
  let device = "unknown";
  try {
    const [, row] = execFileSync("df", ["-T", dataRoot], { encoding: "utf8" }).trim().split("\n");
    const cols = (row ?? "").trim().split(/\s+/);
    device = cols[0] ?? device;
    filesystem = cols[1] ?? filesystem;
  } catch {
    // df missing: leave unknown
  }
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    // Other work on the machine skews every figure; the load average at the start says how much there was.
    loadAverage1m: Number(os.loadavg()[0]?.toFixed(2)),
    dataRoot,
    filesystem,
    device,
  };
}

/** One line naming the machine, for the top of a bench's output. @param {ReturnType<typeof machineFacts>} m */
export function describeMachine(m) {
  return `machine: node ${m.node}, ${m.cpus} CPU (${m.cpuModel}), ${m.memGiB} GiB, ${m.platform}, load ${m.loadAverage1m}; data dir ${m.dataRoot} on ${m.filesystem} (${m.device})`;
}

/** Busy CPU seconds of the whole machine since boot, all CPUs, or null. */
export function machineBusySeconds() {
  try {
    const [, ...ticks] = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/);
    const n = ticks.slice(0, 8).map(Number); // user nice system idle iowait irq softirq steal
    return (n.reduce((a, b) => a + b, 0) - (n[3] ?? 0) - (n[4] ?? 0)) / CLK_TCK;
  } catch {
    return null;
  }
}

/** User + system CPU seconds of a process, or null. @param {number | undefined} pid */
export function processCpuSeconds(pid) {
  if (pid === undefined) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Resident set size of a process in bytes (VmRSS), or null. @param {number | undefined} pid */
export function processRssBytes(pid) {
  if (pid === undefined) return null;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Measures how much CPU everything except the given processes used between
 * start() and stop(): the noise behind a window's figures (100 = one core).
 * @param {(number | undefined)[]} ownPids processes whose CPU is ours (this process is always ours)
 */
export function noiseMeter(ownPids) {
  const own = () => {
    const self = process.cpuUsage();
    let seconds = (self.user + self.system) / 1e6;
    for (const pid of ownPids) seconds += processCpuSeconds(pid) ?? 0;
    return seconds;
  };
  const t0 = process.hrtime.bigint();
  const machine0 = machineBusySeconds();
  const own0 = own();
  return {
    /** @returns {number | null} percent of one core used by others over the window */
    stop() {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const machine1 = machineBusySeconds();
      if (machine0 === null || machine1 === null || seconds <= 0) return null;
      return Math.max(0, ((machine1 - machine0 - (own() - own0)) / seconds) * 100);
    },
  };
}
