import { describe, expect, it } from "vitest";
import { adminV1, memoryV1 } from "@t4dm/proto";
import { call, connectClients, makeDataDir, ServiceProcess, type LogLine } from "@t4dm/testkit";

/**
 * The record-count trigger: small, so a few short lives each apply fewer records than it
 * (a life logs about one record per Remember since REMEMBER records; it was about five).
 */
const EVERY_RECORDS = 80;
// Enough lives for the replay to outgrow the trigger at least twice, with room for a few records more or less per life.
const CYCLES = 16;
/** Remembers per life: well under EVERY_RECORDS records, so no process reaches the trigger alone. */
const WRITES_PER_LIFE = 20;

describe("catalog 16: a crash loop does not grow the replay", () => {
  it(`SIGKILL after every short life (${CYCLES} times, sometimes both processes): the replay at each start stays bounded`, { timeout: 240_000 }, async () => {
    const data = makeDataDir();
    const env = {
      T4DM_DATA_DIR: data.dir,
      T4DM_GRPC_ADDR: "127.0.0.1:0",
      T4DM_HTTP_ADDR: "127.0.0.1:0",
      T4DM_EMBEDDING_DIM: "64",
      T4DM_CHECKPOINT_EVERY_RECORDS: String(EVERY_RECORDS),
      // Only the record count may checkpoint here (the timer never fires in this test).
      T4DM_CHECKPOINT_INTERVAL: "86400",
    };
    let sidecar = ServiceProcess.start("persistence", env);
    let memory: ServiceProcess | undefined;
    const replays: number[] = [];
    let mostPerLife = 0;
    try {
      await sidecar.waitForEvent("grpc.listening");
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        memory = ServiceProcess.start("memory", env);
        const grpcAddr = String((await memory.waitForEvent("grpc.listening")).addr);
        const recovered = await memory.waitForEvent("recovery.done");
        await memory.waitFor((l) => l.event === "readiness" && l.ready === true);
        const replayed = Number(recovered.recordsReplayed);
        replays.push(replayed);
        // Bounded whatever the restart pattern: at most one trigger's worth plus one life's records.
        expect(replayed, `replays so far: ${replays.join(", ")}`).toBeLessThanOrEqual(EVERY_RECORDS + mostPerLife + 10);
        const c = connectClients(grpcAddr);
        const status = () => call(c.admin.getStatus.bind(c.admin), adminV1.GetStatusRequest.fromPartial({}));
        const startLsn = (await status()).appliedLsn;
        for (let i = 0; i < WRITES_PER_LIFE; i++) {
          await call(c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace: "loop", content: `life ${cycle} note ${i}`, admission: 2 }));
        }
        mostPerLife = Math.max(mostPerLife, (await status()).appliedLsn - startLsn);
        expect(mostPerLife).toBeLessThan(EVERY_RECORDS);
        // A long replay is checkpointed right after start: that is what keeps the next one short.
        if (replayed >= EVERY_RECORDS) await checkpointAfterStart(memory, replays);
        c.close();
        await memory.kill("SIGKILL");
        if (cycle % 3 === 2) {
          await sidecar.kill("SIGKILL");
          sidecar = ServiceProcess.start("persistence", env);
          await sidecar.waitForEvent("grpc.listening");
        }
      }
      // The loop did outgrow the trigger more than once: without counting replayed records it grows every life.
      expect(replays.filter((r) => r >= EVERY_RECORDS).length, `replays: ${replays.join(", ")}`).toBeGreaterThanOrEqual(2);
    } finally {
      await memory?.kill("SIGKILL");
      await sidecar.kill("SIGKILL");
      data.remove();
    }
  });
});

/** The checkpoint the replay triggered; fails (rather than hangs) if none comes. */
async function checkpointAfterStart(memory: ServiceProcess, replays: number[]): Promise<LogLine> {
  let timer: NodeJS.Timeout | undefined;
  const none = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no checkpoint after a replay of ${replays.at(-1)} records (replays: ${replays.join(", ")})`)), 30_000);
  });
  try {
    return await Promise.race([memory.waitFor((l) => l.event === "checkpoint.done" && l.reason === "records"), none]);
  } finally {
    clearTimeout(timer);
  }
}
