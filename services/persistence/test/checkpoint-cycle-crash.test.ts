import { describe, expect, it } from "vitest";
import type { persistenceV1 } from "@t4dm/proto";
import { openSidecar, type SidecarConfig } from "../src/open-sidecar.js";
import type { Sidecar } from "../src/sidecar.js";
import { MemoryFileLayer } from "./support/memory-file-layer.js";
import { captureLogger } from "./support/wal-harness.js";
import { checkpointCompleteRecord, opaqueRecord, StateChain } from "./support/state-chain.js";

const config: SidecarConfig = {
  dataDir: "/data",
  walSyncMode: "fdatasync",
  walSegmentBytes: 1200,
  walMaxSegments: 1000,
  checkpointKeep: 2,
};

/** Replays the recovery stream into a fresh chain, as the memory service would. */
async function recoverState(sidecar: Sidecar): Promise<{ state: StateChain; plan: persistenceV1.RecoveryPlan }> {
  let plan: persistenceV1.RecoveryPlan | undefined;
  const chunks: Uint8Array[] = [];
  const records: persistenceV1.WalRecord[] = [];
  for await (const response of sidecar.recover()) {
    const part = response.part;
    if (part?.$case === "plan") plan = part.value;
    if (part?.$case === "checkpointChunk") chunks.push(part.value);
    if (part?.$case === "records") records.push(...part.value.records);
  }
  const state = plan?.checkpoint ? StateChain.restore(Buffer.concat(chunks)) : new StateChain();
  for (const record of records) state.apply(record);
  return { state, plan: plan! };
}

/**
 * Three rounds of: records, checkpoint file, commit record, retention (which
 * deletes checkpoints and WAL segments). Returns the highest acked LSN and
 * the chain of every record sent.
 */
async function workload(layer: MemoryFileLayer, sent: Map<number, persistenceV1.WalRecord>, progress: { acked: number }): Promise<void> {
  const { logger } = captureLogger();
  const opened = await openSidecar(layer, config, logger);
  const { sidecar } = opened;
  const live = new StateChain();
  let lsn = 0;
  const send = async (record: persistenceV1.WalRecord) => {
    sent.set(record.lsn, record);
    progress.acked = Math.max(progress.acked, await sidecar.append([record]));
    live.apply(record);
  };
  try {
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) await send(opaqueRecord(++lsn, 90));
      await sidecar.writeCheckpoint({ lsn, stateFormatVersion: 1, stateHash: Buffer.alloc(0), body: live.snapshot() });
      await send(checkpointCompleteRecord(lsn + 1, lsn));
      lsn += 1;
      await sidecar.settled();
    }
  } finally {
    await opened.close().catch(() => undefined);
  }
}

describe("crash at every step of a checkpoint cycle (catalog 6)", () => {
  it("recovers the newest valid checkpoint plus a contiguous tail that reaches every acknowledged LSN", async () => {
    const probe = new MemoryFileLayer();
    await workload(probe, new Map(), { acked: 0 });
    const steps = probe.opCount;
    expect(probe.trace.some((t) => t.startsWith("unlink checkpoint_"))).toBe(true);
    expect(probe.trace.some((t) => t.startsWith("unlink segment_"))).toBe(true);

    for (let op = 1; op <= steps; op++) {
      const layer = new MemoryFileLayer();
      layer.crashBeforeOp(op);
      const sent = new Map<number, persistenceV1.WalRecord>();
      const progress = { acked: 0 };
      await workload(layer, sent, progress).catch(() => undefined);
      const acked = progress.acked;
      for (const disk of [layer.afterProcessCrash(), layer.afterPowerLoss("drop")]) {
        const { logger } = captureLogger();
        const opened = await openSidecar(disk, config, logger);
        const { state } = await recoverState(opened.sidecar);
        expect(state.lsn, `crash before op ${op}`).toBeGreaterThanOrEqual(acked);
        const expected = new StateChain();
        for (let lsn = 1; lsn <= state.lsn; lsn++) expected.apply(sent.get(lsn)!);
        expect(state.hash.equals(expected.hash), `crash before op ${op}`).toBe(true);
        await opened.close();
      }
    }
  });
});
