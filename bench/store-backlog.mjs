// @ts-check
/**
 * `node bench/store-backlog.mjs` (BENCH_BACKLOG_MEMORIES=100000): what happens when callers remember
 * faster than the embedded long-term store takes rows. A pod with the default buffer (100) and
 * retention (keep: every memory beyond the buffer is promoted), fdatasync off (T4DM_WAL_SYNC_MODE=none,
 * so the store, not the WAL, is the slower side); 4 callers loop BatchRemember ×100 until N memories
 * are remembered. Prints the promotions waiting for the store (gauge ww_pending_promotions) every
 * 3 s, the fill rate, the newest checkpoint's size, then kills both processes (SIGKILL) and times a
 * restart to ready. Issue #18 item 3 (backpressure); figures for one machine, not asserted anywhere.
 */
import { mkdirSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { connectClients, startPod } from "@t4dm/testkit";
import { freshDir, rememberUntil } from "./lib/recovery-load.mjs";
import { copyDataDir, timedStart } from "./lib/recovery-start.mjs";
import { DATA_ROOT } from "./lib/report.mjs";

const MEMORIES = Number(process.env.BENCH_BACKLOG_MEMORIES ?? 100_000);
const env = { T4DM_LOG_LEVEL: "info", T4DM_WAL_SYNC_MODE: "none" };
mkdirSync(DATA_ROOT, { recursive: true });
const root = freshDir(DATA_ROOT, "store-backlog-");
const crashed = path.join(root, "crashed");
const pod = await startPod({ dataDir: crashed, env });
const clients = connectClients(pod.grpcAddr);
const pending = async () => {
  const text = await (await fetch(`${pod.httpUrl}/metrics`)).text();
  return Number(text.split("\n").find((line) => line.startsWith("ww_pending_promotions "))?.split(" ").at(-1));
};
const started = Date.now();
let filling = true;
let highest = 0;
const sampler = (async () => {
  while (filling) {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const now = await pending();
    highest = Math.max(highest, now);
    console.log(`  ${((Date.now() - started) / 1000).toFixed(0)} s: ${now} promoted memories wait for the store`);
  }
})();
const filled = await rememberUntil(clients, { seed: 3, callers: 4, batch: 100, namespaces: ["a", "b", "c", "d"], done: (_lsn, n) => n >= MEMORIES });
const fillMs = Date.now() - started;
filling = false;
await sampler;
const waiting = await pending();
const checkpoints = readdirSync(path.join(crashed, "checkpoints")).filter((name) => name.endsWith(".bin.gz")).sort();
const newest = checkpoints.at(-1);
const checkpointMiB = newest ? statSync(path.join(crashed, "checkpoints", newest)).size / 2 ** 20 : 0;
console.log(
  `filled ${filled.remembered} memories in ${(fillMs / 1000).toFixed(1)} s (${Math.round(filled.remembered / (fillMs / 1000))}/s); ` +
    `highest sampled wait ${highest}, ${waiting} waiting at the end; newest checkpoint ${newest ?? "none"} ${checkpointMiB.toFixed(1)} MiB`,
);
clients.close();
await Promise.all([pod.memory.kill("SIGKILL"), pod.sidecar.kill("SIGKILL")]);
const scratch = path.join(root, "restart");
copyDataDir(crashed, scratch);
const restart = await timedStart(scratch, env);
console.log(`restart after SIGKILL: ready in ${(restart.readyMs / 1000).toFixed(1)} s (replayed ${restart.recovery.recordsReplayed} records)`);
await restart.stop();
