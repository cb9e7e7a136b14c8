/**
 * ImportMemories writes memories through the WAL like any acknowledged write:
 * the live state equals an independent replay of the WAL (invariant I1), and
 * a SIGKILL of both processes right after the answer loses nothing.
 */
import { Metadata } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { adminV1, memoryV1 } from "@t4dm/proto";
import { call, connectClients, connectSidecar, makeDataDir, startPod, type Pod } from "@t4dm/testkit";
import { independentReplay } from "./support/independent-replay.js";

const NS = "imported";
const DIM = 16;
const EMBEDDER = { embedder: "hashing", model: "", dimensions: DIM };

/** A unit vector of its own per memory. */
function vector(seed: number): number[] {
  const v = Array.from({ length: DIM }, (_, i) => Math.sin(seed * 7.1 + i * 1.3));
  const norm = Math.hypot(...v);
  return v.map((x) => Math.fround(x / norm));
}

function exported(i: number, status: memoryV1.MemoryStatus, kind = memoryV1.MemoryType.MEMORY_TYPE_EPISODIC): adminV1.ExportItem {
  return {
    item: {
      $case: "memory",
      value: adminV1.ExportedMemory.fromPartial({
        id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
        namespace: NS,
        kind,
        content: `imported memory number ${i}`,
        metadata: { n: i, team: i % 2 ? "odd" : "even" },
        importance: 0.25,
        status,
        createTime: new Date(Date.UTC(2025, 0, 1, 0, i)),
        embedding: vector(i),
        evidence: Math.fround(0.125 * i),
        accessCount: i,
        lastAccessTime: new Date(Date.UTC(2025, 1, 1, 0, i)),
        rewardSum: Math.fround(0.5 * i),
        rewardCount: i,
      }),
    },
  };
}

describe("imported memories are durable like any write", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("the live state equals a replay of the WAL, and a SIGKILL of both processes right after the answer loses nothing", async () => {
    const data = makeDataDir();
    cleanups.push(() => data.remove());
    const env = { T4DM_EMBEDDING_DIM: String(DIM), T4DM_BUFFER_CAPACITY: "4", T4DM_RATE_LIMIT: "0" };
    let pod: Pod = await startPod({ dataDir: data.dir, env });
    cleanups.push(() => pod.stop());
    let c = connectClients(pod.grpcAddr);
    const identity = (await call(c.admin.exportMemories.bind(c.admin), adminV1.ExportMemoriesRequest.fromPartial({ namespace: NS, pageSize: 1 }))).embedder!;
    expect(identity).toMatchObject({ embedder: EMBEDDER.embedder, dimensions: DIM });
    const items = [
      ...[1, 2].map((i) => exported(i, memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED)),
      ...[3, 4, 5].map((i) => exported(i, memoryV1.MemoryStatus.MEMORY_STATUS_STORED)),
      exported(6, memoryV1.MemoryStatus.MEMORY_STATUS_STORED, memoryV1.MemoryType.MEMORY_TYPE_SEMANTIC),
    ];
    const answer = await call(c.admin.importMemories.bind(c.admin), { namespace: NS, items, embedder: identity }, new Metadata());
    expect(answer).toMatchObject({ imported: 6, skipped: 0 });
    expect(answer.lsn).toBeGreaterThan(0);

    // Invariant I1 over the import's records: what the service applied is what the WAL replays to.
    const sidecar = connectSidecar(pod.sidecarAddr);
    cleanups.push(() => sidecar.close());
    for (;;) {
      const live = await call(c.admin.getStatus.bind(c.admin), {});
      const replayed = await independentReplay(sidecar);
      if (replayed.appliedLsn !== live.appliedLsn) continue;
      expect(replayed.hash().toString("hex")).toBe(Buffer.from(live.stateHash).toString("hex"));
      break;
    }

    // Killed at once: the promotions may not have reached the store yet; recovery redoes them.
    c.close();
    await Promise.all([pod.memory.kill("SIGKILL"), pod.sidecar.kill("SIGKILL")]);
    pod = await startPod({ dataDir: data.dir, env });
    c = connectClients(pod.grpcAddr);
    cleanups.push(() => c.close());
    for (const entry of items) {
      const want = entry.item!.value as adminV1.ExportedMemory;
      const { memory } = await call(c.memory.getMemory.bind(c.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: NS, id: want.id, includeEmbedding: true }));
      expect(memory, want.id).toMatchObject({ id: want.id, content: want.content, metadata: want.metadata, type: want.kind, createTime: want.createTime, embedding: want.embedding });
      if (want.status === memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED) expect(memory!.status).toBe(memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED);
      if (want.kind === memoryV1.MemoryType.MEMORY_TYPE_EPISODIC) expect(memory).toMatchObject({ evidence: want.evidence, accessCount: want.accessCount, lastAccessTime: want.lastAccessTime });
    }
  });
});
