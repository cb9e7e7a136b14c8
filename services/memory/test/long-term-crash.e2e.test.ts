import { describe, expect, it } from "vitest";
import { memoryV1 } from "@t4dm/proto";
import { call, connectClients, makeDataDir, ServiceProcess } from "@t4dm/testkit";
import { mulberry32 } from "@t4dm/testkit";


const TOPICS = ["deploy pipeline", "invoice payment", "cache eviction", "database replica", "api key rotation"];

describe("crash safety of promotion, forget and deep consolidation", () => {
  it("after SIGKILLs nothing acknowledged is missing, nothing forgotten comes back, and the store agrees", async () => {
    const seed = Number(process.env.T4DM_TEST_SEED ?? Date.now() % 100000);
    const random = mulberry32(seed);
    const data = makeDataDir();
    const env = {
      T4DM_DATA_DIR: data.dir,
      T4DM_GRPC_ADDR: "127.0.0.1:0",
      T4DM_HTTP_ADDR: "127.0.0.1:0",
      T4DM_WAL_SYNC_MODE: "fdatasync",
      T4DM_EMBEDDING_DIM: "64",
      T4DM_BUFFER_CAPACITY: "6",
      T4DM_CHECKPOINT_EVERY_RECORDS: "150",
    };
    const remembered = new Map<string, string>();
    // A Remember merged into a near-duplicate (MERGED) answers the existing memory, which keeps its own content.
    const forgotten = new Set<string>();
    // A Forget cut short by a kill may or may not have become durable.
    const forgetAttempts = new Set<string>();
    let sidecar = ServiceProcess.start("persistence", env);
    let memory = ServiceProcess.start("memory", env);
    let counter = 0;
    try {
      await sidecar.waitForEvent("grpc.listening");
      for (let cycle = 0; cycle < 6; cycle++) {
        const grpcAddr = String((await memory.waitForEvent("grpc.listening")).addr);
        await memory.waitFor((l) => l.event === "readiness" && l.ready === true);
        const c = connectClients(grpcAddr);
        let stop = false;
        const worker = async () => {
          while (!stop) {
            const roll = random();
            try {
              if (roll < 0.65) {
                const topic = TOPICS[Math.floor(random() * TOPICS.length)]!;
                const content = `${topic} note ${++counter}`;
                // Half with an importance hint and ALWAYS, half with neither: both must be kept.
                const hinted = random() < 0.5;
                const request = hinted ? { importance: 0.5 + random() / 2, admission: 2 } : {};
                const r = await call(c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace: "crash", content, ...request }));
                if (r.decision !== memoryV1.AdmissionDecision.ADMISSION_DECISION_MERGED) remembered.set(r.memory!.id, content);
              } else if (roll < 0.85 && remembered.size > 0) {
                const ids = [...remembered.keys()];
                const id = ids[Math.floor(random() * ids.length)]!;
                forgetAttempts.add(id);
                await call(c.memory.forget.bind(c.memory), memoryV1.ForgetRequest.fromPartial({ namespace: "crash", ids: [id] }));
                forgotten.add(id);
              } else if (roll < 0.95) {
                await call(c.memory.consolidate.bind(c.memory), memoryV1.ConsolidateRequest.fromPartial({ namespace: "crash", mode: memoryV1.ConsolidationMode.CONSOLIDATION_MODE_DEEP }));
              } else {
                await call(c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace: "crash", query: TOPICS[0]!, topK: 5 }));
              }
            } catch {
              if (stop) return;
            }
          }
        };
        // 16 writers, as in the field report that found half of them evicted.
        const workers = Array.from({ length: 16 }, () => worker());
        await new Promise((resolve) => setTimeout(resolve, 150 + Math.floor(random() * 300)));
        const both = random() < 0.4;
        await memory.kill("SIGKILL");
        if (both) await sidecar.kill("SIGKILL");
        stop = true;
        if (both) {
          sidecar = ServiceProcess.start("persistence", env);
          await sidecar.waitForEvent("grpc.listening");
        }
        memory = ServiceProcess.start("memory", env);
        await Promise.all(workers);
        c.close();
      }

      const grpcAddr = String((await memory.waitForEvent("grpc.listening")).addr);
      await memory.waitFor((l) => l.event === "readiness" && l.ready === true);
      const c = connectClients(grpcAddr);
      const readBack = async (id: string) => {
        try {
          return (await call(c.memory.getMemory.bind(c.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: "crash", id }))).memory!;
        } catch (error) {
          if ((error as { code?: number }).code === 5) return "not found" as const;
          throw error;
        }
      };
      const statusOf = async (id: string) => {
        const memory = await readBack(id);
        return memory === "not found" ? memory : memory.status;
      };
      // Let the store catch up with every promotion the WAL committed to.
      for (;;) {
        const statuses = await Promise.all([...remembered.keys()].map(statusOf));
        if (!statuses.includes(memoryV1.MemoryStatus.MEMORY_STATUS_PENDING_PROMOTION)) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const stored = new Set<string>();
      for (const [id, content] of remembered) {
        const memory = await readBack(id);
        const status = memory === "not found" ? memory : memory.status;
        if (forgotten.has(id)) {
          expect(status, `seed ${seed}: forgotten ${id} came back`).toBe("not found");
        } else if (!forgetAttempts.has(id)) {
          // Keep by default: 100% of acknowledged memories read back with their content, never evicted.
          expect(memory === "not found" ? memory : memory.content, `seed ${seed}: acknowledged ${id} (status ${status})`).toBe(content);
        }
        if (status === memoryV1.MemoryStatus.MEMORY_STATUS_STORED) stored.add(id);
      }
      // The store agrees with the state: every stored memory is listed, none forgotten is. (It may also
      // hold memories whose Remember was cut short by a kill but became durable: those must read STORED.)
      const listed = new Set<string>();
      let token = "";
      do {
        const page = await call(c.memory.listMemories.bind(c.memory), memoryV1.ListMemoriesRequest.fromPartial({ namespace: "crash", pageSize: 200, pageToken: token, statuses: [memoryV1.MemoryStatus.MEMORY_STATUS_STORED] }));
        for (const m of page.memories) listed.add(m.id);
        token = page.nextPageToken;
      } while (token);
      expect([...listed].filter((id) => forgotten.has(id))).toEqual([]);
      expect([...stored].filter((id) => !listed.has(id))).toEqual([]);
      for (const id of [...listed].filter((id) => !remembered.has(id))) {
        expect(await statusOf(id), `seed ${seed}: unacknowledged ${id}`).toBe(memoryV1.MemoryStatus.MEMORY_STATUS_STORED);
      }
      expect(remembered.size).toBeGreaterThan(20);
      expect(forgotten.size).toBeGreaterThan(0);
      expect(stored.size).toBeGreaterThan(0);
      c.close();
    } finally {
      await memory.kill();
      await sidecar.kill();
      data.remove();
    }
  });
});
