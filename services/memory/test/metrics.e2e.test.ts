import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryV1 } from "@t4dm/proto";
import { call, connectClients, REPO_ROOT, startPod, type Pod } from "@t4dm/testkit";

/** promtool from Debian's prometheus package (installed by `make tools`). */
function promtool(args: string[], input?: string): { code: number; out: string } {
  const found = spawnSync("sh", ["-c", "command -v promtool"], { encoding: "utf8" }).stdout.trim();
  if (!found) throw new Error("promtool not found; run 'make tools' (Debian package prometheus)");
  const result = spawnSync(found, args, { input, encoding: "utf8" });
  return { code: result.status ?? 1, out: `${result.stdout}${result.stderr}` };
}

function value(text: string, name: string, labels = ""): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `) || (labels === "" && l.startsWith(`${name}{`) === false && l.startsWith(`${name} `)));
  return line ? Number(line.split(" ").at(-1)) : undefined;
}

describe("metrics", () => {
  let pod: Pod;
  let c: ReturnType<typeof connectClients>;
  const scrape = async () => (await fetch(`${pod.httpUrl}/metrics`)).text();

  beforeAll(async () => {
    pod = await startPod({ env: { T4DM_EMBEDDING_DIM: "32", T4DM_BUFFER_CAPACITY: "50" } });
    c = connectClients(pod.grpcAddr);
    // The checkpoint gauges exist once there is a checkpoint: a fresh directory gets one right after start.
    await pod.memory.waitForEvent("checkpoint.done");
  });
  afterAll(async () => {
    c?.close();
    await pod?.stop();
  });

  it("exports the lifecycle design's metrics by their exact names, and they move", async () => {
    const before = await scrape();
    for (const name of ["ww_wal_lsn", "ww_checkpoint_lsn", "ww_checkpoint_age_seconds", "ww_checkpoint_timestamp", "ww_buffer_size", "ww_buffer_capacity", "ww_pending_promotions", "ww_in_flight_ops", "ww_recovery_mode"]) {
      expect(before, name).toMatch(new RegExp(`^${name} `, "m"));
    }
    expect(value(before, "ww_recovery_mode")).toBe(1);
    expect(value(before, "ww_buffer_capacity")).toBe(50);
    const bufferBefore = value(before, "ww_buffer_size")!;
    const lsnBefore = value(before, "ww_wal_lsn")!;

    for (let i = 0; i < 3; i++) await call(c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace: "m", content: `metric note ${i}`, admission: 2 }));
    const recall = await call(c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace: "m", query: "metric note" }));
    await call(c.memory.reinforce.bind(c.memory), memoryV1.ReinforceRequest.fromPartial({ namespace: "m", recallId: recall.recallId, reward: 1 }));

    const after = await scrape();
    expect(value(after, "ww_buffer_size")).toBe(bufferBefore + 3);
    expect(value(after, "ww_wal_lsn")!).toBeGreaterThan(lsnBefore);
    expect(after).toMatch(/^ww_gate_decisions_total\{decision="admitted"\} 3$/m);
    expect(after).toMatch(/^ww_rpc_duration_seconds_count\{method="MemoryService\/Remember",code="0"\} 3$/m);
    expect(after).toMatch(/^ww_reward_prediction_error_count 1$/m);
    expect(after).toMatch(/^ww_neuromodulator_level\{modulator="dopamine"\} /m);
    // What the sidecar reports: WAL size and its sync latency (as total seconds over sync count).
    expect(value(after, "ww_wal_bytes")!).toBeGreaterThan(0);
    expect(value(after, "ww_wal_syncs_total")!).toBeGreaterThan(0);
    expect(value(after, "ww_wal_sync_seconds_total")!).toBeGreaterThan(0);
    // Consolidate promotes the three; the store's lag drains back to 0 once they are written.
    await call(c.memory.consolidate.bind(c.memory), memoryV1.ConsolidateRequest.fromPartial({ namespace: "m" }));
    const deadline = Date.now() + 20_000;
    while (value(await scrape(), "ww_pending_promotions") !== 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(value(await scrape(), "ww_pending_promotions")).toBe(0);
    expect(value(await scrape(), "ww_buffer_size")).toBe(bufferBefore);
  });

  it("passes promtool check metrics, and the alert rules pass promtool check rules", async () => {
    const metrics = promtool(["check", "metrics"], await scrape());
    expect(metrics.code, metrics.out).toBe(0);
    const file = path.join(REPO_ROOT, "deploy/prometheus/alerts.yml");
    const rules = promtool(["check", "rules", file]);
    expect(rules.code, rules.out).toBe(0);
    // promtool read every rule the file has.
    const written = readFileSync(file, "utf8").match(/^\s*- alert: /gm)!.length;
    expect(written).toBeGreaterThanOrEqual(7);
    expect(rules.out).toContain(`SUCCESS: ${written} rules found`);
    void execFileSync;
  });
});
