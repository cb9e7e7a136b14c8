import type { Counter, Histogram, Meter } from "@opentelemetry/api";
import type { Admission } from "../api/auth/admission.js";
import { checkpointInUse } from "../sidecar/checkpoint-in-use.js";
import type { Engine } from "./engine.js";
import type { SidecarLink } from "../sidecar/sidecar-link.js";

/**
 * The metrics the lifecycle design names (ww_wal_lsn, ww_checkpoint_lsn,
 * ww_checkpoint_age_seconds, ww_checkpoint_timestamp, ww_buffer_size, ww_pending_promotions,
 * ww_buffer_capacity, ww_in_flight_ops, ww_recovery_mode with 0 warm and
 * 1 cold), ww_learning_namespaces, ww_learning_min_trust, ww_learning_backed_off, read from
 * live state when scraped, plus RPC latency, gate
 * decisions, evictions by reason and the reward prediction error.
 */
export class ServiceMetrics {
  readonly rpcDuration: Histogram;
  readonly gateDecisions: Counter;
  readonly evictions: Counter;
  readonly rewardPredictionError: Histogram;
  readonly recordsApplied: Counter;

  constructor(meter: Meter, sources: { engine: () => Engine | undefined; admission: Admission; sidecar: SidecarLink; now: () => number }) {
    const gauge = (name: string, description: string, read: () => number | undefined, unit?: string) => {
      meter.createObservableGauge(name, { description, unit }).addCallback((result) => {
        const value = read();
        if (value !== undefined) result.observe(value);
      });
    };
    const engine = sources.engine;
    gauge("ww_wal_lsn", "Highest LSN the sidecar acknowledged as durable", () => engine()?.pipeline.durableLsn);
    gauge("ww_applied_lsn", "Highest LSN applied to the learning state", () => engine()?.pipeline.appliedLsn);
    gauge("ww_sequenced_lsn", "Highest LSN handed to the sidecar, durable or not; above ww_applied_lsn, records are in flight", () => engine()?.pipeline.lastAssignedLsn);
    gauge("ww_checkpoint_lsn", "LSN of the checkpoint a restart would start from (0: none)", () => checkpointInUse(engine(), sources.sidecar.status)?.lsn);
    gauge("ww_checkpoint_timestamp", "Unix time of the newest committed checkpoint", () => checkpointTime(sources) / 1000 || undefined, "s");
    gauge("ww_checkpoint_age_seconds", "Seconds since the newest committed checkpoint", () => {
      const time = checkpointTime(sources);
      return time ? (sources.now() - time) / 1000 : undefined;
    }, "s");
    gauge("ww_wal_full", "1 while the WAL is at its size cap and writes are refused until a checkpoint frees space", () => {
      const pipeline = engine()?.pipeline;
      return pipeline ? Number(pipeline.walFull) : undefined;
    });
    meter.createObservableCounter("ww_checkpoint_failures", { description: "Background checkpoints that failed (each is retried with backoff)" }).addCallback((result) => {
      const failed = engine()?.checkpointer.failedAttempts;
      if (failed !== undefined) result.observe(failed);
    });
    gauge("ww_buffer_size", "Memories in the buffer", () => engine()?.pipeline.durable.buffer.size);
    gauge("ww_buffer_capacity", "Buffer capacity", () => engine()?.pipeline.durable.bufferCapacity);
    gauge("ww_pending_promotions", "Promoted memories not yet written to their long-term store (the store's lag behind the WAL)", () => engine()?.pipeline.durable.buffer.promotingCount);
    gauge("ww_learning_namespaces", "Namespaces whose feedback made a ranking of their own (scorer adaptations held)", () => engine()?.pipeline.durable.adaptedNamespaces);
    gauge("ww_learning_min_trust", "Lowest trust the shadow guard gives any scorer's learned correction, in [0, 1] (1: none backed off)", () => engine()?.pipeline.durable.scorerTrust.minimum);
    gauge("ww_learning_backed_off", "Scorers (the prior and namespace adaptations) whose learned correction the shadow guard backed off (trust below 1)", () => engine()?.pipeline.durable.scorerTrust.backedOff);
    gauge("ww_in_flight_ops", "Operations in flight", () => sources.admission.inFlight);
    gauge("ww_recovery_mode", "How this process started: 0 warm (checkpoint + tail), 1 cold", () => {
      const mode = engine()?.recovery.mode;
      return mode === undefined ? undefined : mode === "warm" ? 0 : 1;
    });
    meter.createObservableGauge("ww_neuromodulator_level", { description: "Neuromodulator levels in [0, 1]" }).addCallback((result) => {
      const levels = engine()?.pipeline.durable.neuromodulators.levels();
      if (!levels) return;
      for (const [modulator, value] of Object.entries(levels)) result.observe(value, { modulator });
    });
    gauge("ww_wal_bytes", "Bytes in the sidecar's WAL segments", () => sources.sidecar.status?.walBytes, "By");
    gauge("ww_wal_segments", "WAL segment files", () => sources.sidecar.status?.segmentCount);
    meter.createObservableCounter("ww_wal_syncs", { description: "fsync/fdatasync calls the sidecar made since it started" }).addCallback((result) => {
      const status = sources.sidecar.status;
      if (status) result.observe(status.syncs);
    });
    meter
      .createObservableCounter("ww_wal_sync_seconds", { description: "Total time the sidecar spent in fsync/fdatasync; rate() of it over rate(ww_wal_syncs_total) is the mean sync latency", unit: "s" })
      .addCallback((result) => {
        const status = sources.sidecar.status;
        if (status) result.observe(status.syncSecondsTotal);
      });
    this.rpcDuration = meter.createHistogram("ww_rpc_duration_seconds", {
      description: "RPC latency by method and status code",
      unit: "s",
      advice: { explicitBucketBoundaries: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] },
    });
    this.gateDecisions = meter.createCounter("ww_gate_decisions", { description: "Gate decisions on Remember (admitted, rejected)" });
    this.evictions = meter.createCounter("ww_evictions", { description: "Memories that left the buffer without promotion, by reason" });
    this.rewardPredictionError = meter.createHistogram("ww_reward_prediction_error", {
      description: "Dopamine reward prediction errors of Reinforce",
      advice: { explicitBucketBoundaries: [-1.5, -1, -0.5, -0.25, -0.1, 0, 0.1, 0.25, 0.5, 1, 1.5] },
    });
    this.recordsApplied = meter.createCounter("ww_wal_records_applied", { description: "WAL records applied to the learning state" });
  }
}

function checkpointTime(sources: { engine: () => Engine | undefined; sidecar: SidecarLink }): number {
  return checkpointInUse(sources.engine(), sources.sidecar.status)?.time?.getTime() ?? 0;
}
