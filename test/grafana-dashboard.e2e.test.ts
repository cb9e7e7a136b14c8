import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { parser } from "@prometheus-io/lezer-promql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryV1 } from "@t4dm/proto";
import { call, connectClients, REPO_ROOT, startPod, type Pod } from "@t4dm/testkit";

// deploy/grafana/t4dm.json against Grafana's own schema types and against what a real memory
// service exports: a panel that queries a metric nobody exports shows "No data" forever.

const DASHBOARD = path.join(REPO_ROOT, "deploy/grafana/t4dm.json");
/** Built by `make tools` from tools/grafana-check (grafana-foundation-sdk, strict). */
const CHECKER = path.join(REPO_ROOT, ".tools/bin/grafana-check");

interface Query {
  panel: string;
  expr: string;
}

/** The dashboard's queries, as the checker reads them after loading the file as a Grafana dashboard. */
function dashboardQueries(file: string): Query[] {
  if (!existsSync(CHECKER)) throw new Error(`${CHECKER} not found; run 'make tools'`);
  const out = execFileSync(CHECKER, [file], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Query);
}

/** Metric names a PromQL expression selects; throws on a syntax error. Grafana's interval variable is substituted first. */
function selectedMetrics(expr: string): string[] {
  const promql = expr.replaceAll("$__rate_interval", "5m");
  const names: string[] = [];
  parser.parse(promql).iterate({
    enter(node) {
      if (node.type.isError) throw new Error(`PromQL syntax error at ${node.from} in ${JSON.stringify(promql)}`);
      if (node.name === "Identifier" && node.node.parent?.name === "VectorSelector") names.push(promql.slice(node.from, node.to));
    },
  });
  if (names.length === 0) throw new Error(`no metric selected by ${JSON.stringify(promql)}`);
  return names;
}

/** Sample names in a Prometheus text exposition (histograms show as _bucket, _sum, _count). */
function exportedSamples(text: string): Set<string> {
  return new Set(
    text
      .split("\n")
      .filter((line) => line !== "" && !line.startsWith("#"))
      .map((line) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0]),
  );
}

describe("the Grafana dashboard", () => {
  let pod: Pod;
  let exported: Set<string>;

  beforeAll(async () => {
    pod = await startPod({ env: { T4DM_EMBEDDING_DIM: "32" } });
    // Traffic, so the histograms the dashboard reads have series.
    const c = connectClients(pod.grpcAddr);
    await call(c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace: "dash", content: "the dashboard note", admission: 2 }));
    const recall = await call(c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace: "dash", query: "dashboard note" }));
    await call(c.memory.reinforce.bind(c.memory), memoryV1.ReinforceRequest.fromPartial({ namespace: "dash", recallId: recall.recallId, reward: 1 }));
    c.close();
    // The checkpoint gauges exist once there is a checkpoint: a fresh directory gets one right after start.
    await pod.memory.waitForEvent("checkpoint.done");
    exported = exportedSamples(await (await fetch(`${pod.httpUrl}/metrics`)).text());
  });
  afterAll(async () => {
    await pod?.stop();
  });

  it("loads as a dashboard with Grafana's schema, every panel querying Prometheus", () => {
    const queries = dashboardQueries(DASHBOARD);
    expect(queries.length).toBeGreaterThan(10);
  });

  it("queries only metrics that /metrics really exports, in valid PromQL", () => {
    const unknown = dashboardQueries(DASHBOARD).flatMap(({ panel, expr }) => selectedMetrics(expr).filter((name) => !exported.has(name)).map((name) => `${panel}: ${name}`));
    expect(unknown).toEqual([]);
  });

  it("shows what an operator watches: rates and latency, WAL vs checkpoint, buffer, in-flight, recovery, neuromodulators, RPE", () => {
    const used = new Set(dashboardQueries(DASHBOARD).flatMap(({ expr }) => selectedMetrics(expr)));
    for (const name of [
      "ww_rpc_duration_seconds_count",
      "ww_rpc_duration_seconds_bucket",
      "ww_wal_lsn",
      "ww_checkpoint_lsn",
      "ww_checkpoint_age_seconds",
      "ww_buffer_size",
      "ww_buffer_capacity",
      "ww_in_flight_ops",
      "ww_recovery_mode",
      "ww_neuromodulator_level",
      "ww_reward_prediction_error_sum",
    ]) {
      expect(used.has(name), name).toBe(true);
    }
  });

  it("the checks bite: an unknown field fails to load, a misspelt metric and broken PromQL are caught", () => {
    expect(() => execFileSync(CHECKER, [path.join(import.meta.dirname, "support/grafana-unknown-field.json")], { stdio: "pipe" })).toThrow(/unexpected field 'refreshRate'/);
    expect(selectedMetrics("rate(ww_wal_lsnn[$__rate_interval])").filter((name) => !exported.has(name))).toEqual(["ww_wal_lsnn"]);
    expect(() => selectedMetrics("sum(rate(ww_wal_lsn[5m])")).toThrow(/syntax error/);
  });
});
