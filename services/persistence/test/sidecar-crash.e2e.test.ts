import { appendFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { AppendClient, connectSidecar, makeDataDir, ServiceProcess } from "@t4dm/testkit";
import { recoverAll, writeCheckpoint } from "./support/sidecar-calls.js";
import { checkpointCompleteRecord, opaqueRecord, StateChain } from "./support/state-chain.js";
import { mulberry32 } from "@t4dm/testkit";

type SyncMode = "fsync" | "fdatasync" | "none";

async function startSidecar(dataDir: string, syncMode: SyncMode, extra: Record<string, string> = {}) {
  const proc = ServiceProcess.start("persistence", { T4DM_DATA_DIR: dataDir, T4DM_WAL_SYNC_MODE: syncMode, ...extra });
  const listening = await proc.waitForEvent("grpc.listening");
  await proc.waitForEvent("sidecar.ready");
  return { proc, client: connectSidecar(String(listening.addr)) };
}


describe("the real sidecar process under SIGKILL", () => {
  for (const syncMode of ["fdatasync", "fsync", "none"] as SyncMode[]) {
    it(`randomized (${syncMode}): many writers, random SIGKILLs, restart; every acknowledged LSN comes back, gap-free`, async () => {
      const seed = Number(process.env.T4DM_TEST_SEED ?? Date.now() % 100000);
      const random = mulberry32(seed);
      const data = makeDataDir();
      // Everything ever sent, by LSN; an LSN is re-used only if its record was lost unacknowledged.
      const sent = new Map<number, ReturnType<typeof opaqueRecord>>();
      let ackedMax = 0;
      let totalAcked = 0;
      try {
        for (let round = 0; round < 6; round++) {
          const { proc, client } = await startSidecar(data.dir, syncMode);
          // Recover as the memory service does, and check it against an independent replay.
          const recovered = await recoverAll(client);
          const state = recovered.plan.checkpoint ? StateChain.restore(recovered.checkpoint) : new StateChain();
          for (const r of recovered.records) state.apply(r);
          expect(state.lsn, `seed ${seed}, round ${round}: acknowledged LSNs lost`).toBeGreaterThanOrEqual(ackedMax);
          const expected = new StateChain();
          for (let lsn = 1; lsn <= state.lsn; lsn++) expected.apply(sent.get(lsn)!);
          expect(state.hash.equals(expected.hash), `seed ${seed}, round ${round}: state differs from the records sent`).toBe(true);
          for (const lsn of [...sent.keys()]) if (lsn > state.lsn) sent.delete(lsn);
          ackedMax = state.lsn;
          let nextLsn = state.lsn + 1;

          const writer = new AppendClient(client);
          if (round % 2 === 1) {
            // Cover warm starts: checkpoint the recovered state and commit it.
            await writeCheckpoint(client, state.lsn, state.snapshot());
            const commit = checkpointCompleteRecord(nextLsn++, state.lsn);
            sent.set(commit.lsn, commit);
            ackedMax = await writer.append([commit]);
          }
          let stop = false;
          const killer = new Promise<void>((resolve) =>
            setTimeout(() => {
              stop = true;
              void proc.kill("SIGKILL").then(() => resolve());
            }, 20 + Math.floor(random() * 150)),
          );
          // 16 writers share one sequencer and one stream, as requests do in the memory service.
          await Promise.all(
            Array.from({ length: 16 }, async () => {
              while (!stop) {
                const record = opaqueRecord(nextLsn++, 32 + Math.floor(random() * 400));
                sent.set(record.lsn, record);
                try {
                  ackedMax = Math.max(ackedMax, await writer.append([record]));
                  totalAcked += 1;
                } catch {
                  return;
                }
              }
            }),
          );
          await killer;
          client.close();
        }
        expect(totalAcked).toBeGreaterThan(0);
      } finally {
        data.remove();
      }
    });
  }

  it("a torn tail left by a kill mid-write is cut on restart, kept in a .broken file, and logged", async () => {
    const data = makeDataDir();
    try {
      const { proc, client } = await startSidecar(data.dir, "fdatasync");
      const stream = new AppendClient(client);
      for (let lsn = 1; lsn <= 20; lsn++) await stream.append([opaqueRecord(lsn)]);
      client.close();
      await proc.kill("SIGKILL");
      const segment = path.join(data.dir, "wal", "segment_00000001.wal");
      appendFileSync(segment, Buffer.from([0x34, 0x74, 1, 0, 0xff, 0xff, 0, 0, 21, 0, 0, 0]));
      const again = await startSidecar(data.dir, "fdatasync");
      const repaired = await again.proc.waitForEvent("wal.tail_repaired");
      expect(repaired).toMatchObject({ file: "segment_00000001.wal", droppedBytes: 12 });
      expect(readdirSync(path.join(data.dir, "wal")).filter((n) => n.endsWith(".broken"))).toHaveLength(1);
      const recovered = await recoverAll(again.client);
      expect(recovered.complete?.lastLsn).toBe(20);
      expect(recovered.plan.repairNote).toMatch(/cut 12 bytes/);
      again.client.close();
      await again.proc.kill();
    } finally {
      data.remove();
    }
  });

  it("refuses to start on a bit flip in a sealed segment, says where, and quarantines a copy", async () => {
    const data = makeDataDir();
    try {
      const { proc, client } = await startSidecar(data.dir, "fdatasync", { T4DM_WAL_SEGMENT_BYTES: "65536" });
      const stream = new AppendClient(client);
      for (let lsn = 1; lsn <= 300; lsn += 10) await stream.append(Array.from({ length: 10 }, (_, i) => opaqueRecord(lsn + i, 500)));
      client.close();
      await proc.kill("SIGKILL");
      const segment = path.join(data.dir, "wal", "segment_00000001.wal");
      const bytes = readFileSync(segment);
      bytes[1000] = bytes[1000]! ^ 0x04;
      writeFileSync(segment, bytes);
      const again = ServiceProcess.start("persistence", { T4DM_DATA_DIR: data.dir, T4DM_WAL_SEGMENT_BYTES: "65536" });
      const exit = await again.exited;
      expect(exit.code).toBe(3);
      expect(again.stderr).toMatch(/WAL corrupt in segment_00000001\.wal at offset \d+ \(LSN \d+\): sealed segment: record checksum mismatch/);
      expect(readdirSync(path.join(data.dir, "quarantine"))[0]).toMatch(/^segment_00000001\.wal\.\d+$/);
    } finally {
      data.remove();
    }
  });
});
