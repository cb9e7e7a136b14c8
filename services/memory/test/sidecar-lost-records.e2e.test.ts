import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { adminV1, memoryV1 } from "@t4dm/proto";
import { decodeSegmentHeader, scanRecords, SEGMENT_HEADER_BYTES } from "@t4dm/wal-format";
import { call, connectClients, ServiceProcess, startPod } from "@t4dm/testkit";

/**
 * Under sync mode none an OS crash can take acknowledged records with it.
 * Simulated: kill the sidecar, cut the last records off the WAL at a record
 * boundary, restart it. The memory service still holds those records; it
 * must send them again and checkpoint at once (ARCHITECTURE.md, I3).
 */
describe("the sidecar comes back with fewer records than the memory service applied", () => {
  it("re-sends the lost records from memory, checkpoints, and loses nothing", async () => {
    const pod = await startPod({ env: { T4DM_WAL_SYNC_MODE: "none", T4DM_EMBEDDING_DIM: "32" } });
    const clients = connectClients(pod.grpcAddr);
    const restarted: ServiceProcess[] = [];
    try {
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const response = await call(clients.memory.remember.bind(clients.memory), memoryV1.RememberRequest.fromPartial({ namespace: "ns", content: `fact number ${i}`, admission: 2 }));
        ids.push(response.memory!.id);
      }
      const before = await call(clients.admin.getStatus.bind(clients.admin), adminV1.GetStatusRequest.fromPartial({}));
      await pod.sidecar.kill("SIGKILL");

      // Drop the last 8 records, as a lost page cache would.
      const walDir = path.join(pod.dataDir, "wal");
      const newest = readdirSync(walDir).filter((n) => n.endsWith(".wal")).sort().at(-1)!;
      const file = path.join(walDir, newest);
      const bytes = readFileSync(file);
      const header = decodeSegmentHeader(bytes);
      const offsets: number[] = [];
      scanRecords(bytes, { salt: header.salt, firstLsn: header.firstLsn, offset: SEGMENT_HEADER_BYTES }, (r) => offsets.push(r.offset));
      expect(offsets.length).toBeGreaterThan(8);
      writeFileSync(file, bytes.subarray(0, offsets[offsets.length - 8]!));

      const sidecar = ServiceProcess.start("persistence", { T4DM_DATA_DIR: pod.dataDir, T4DM_WAL_SYNC_MODE: "none" });
      restarted.push(sidecar);
      await pod.memory.waitForEvent("wal_stream.resend_lost");
      await pod.memory.waitFor((l) => l.event === "checkpoint.done" && Number(l.lsn) >= Number(before.appliedLsn));

      const after = await call(clients.memory.remember.bind(clients.memory), memoryV1.RememberRequest.fromPartial({ namespace: "ns", content: "written after the loss", admission: 2 }));
      expect(after.lsn).toBeGreaterThan(before.appliedLsn);
      for (const id of ids) {
        const found = await call(clients.memory.getMemory.bind(clients.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: "ns", id }));
        expect(found.memory?.id).toBe(id);
      }
      // A restart of the memory service from the WAL sees the same state.
      const live = await call(clients.admin.getStatus.bind(clients.admin), adminV1.GetStatusRequest.fromPartial({}));
      clients.close();
      await pod.memory.kill("SIGKILL");
      const memory = ServiceProcess.start("memory", { T4DM_DATA_DIR: pod.dataDir, T4DM_GRPC_ADDR: "127.0.0.1:0", T4DM_HTTP_ADDR: "127.0.0.1:0", T4DM_EMBEDDING_DIM: "32" });
      restarted.push(memory);
      const recovered = await memory.waitForEvent("recovery.done");
      expect(recovered.stateHash).toBeDefined();
      const grpcAddr = String((await memory.waitForEvent("grpc.listening")).addr);
      await memory.waitFor((l) => l.event === "readiness" && l.ready === true);
      const again = connectClients(grpcAddr);
      for (const id of [...ids, after.memory!.id]) {
        const found = await call(again.memory.getMemory.bind(again.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: "ns", id }));
        expect(found.memory?.id).toBe(id);
      }
      const status = await call(again.admin.getStatus.bind(again.admin), adminV1.GetStatusRequest.fromPartial({}));
      expect(status.appliedLsn).toBeGreaterThan(live.appliedLsn);
      again.close();
    } finally {
      for (const proc of restarted) await proc.kill("SIGKILL");
      await pod.stop();
    }
  });
});
