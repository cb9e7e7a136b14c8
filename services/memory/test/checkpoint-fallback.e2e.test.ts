import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { memoryV1 } from "@t4dm/proto";
import { afterEach, describe, expect, it } from "vitest";
import { call, connectClients, makeDataDir, startPod, type Pod } from "@t4dm/testkit";

const ENV = { T4DM_EMBEDDING_DIM: "32" };

describe("recovery past a corrupt newest checkpoint (DURABILITY catalog 7, real processes)", () => {
  const data = makeDataDir();
  const pods: Pod[] = [];
  afterEach(async () => {
    for (const pod of pods.splice(0)) await pod.stop();
    data.remove();
  });

  /** POST /api/v1/checkpoint after one more Remember, so each checkpoint has its own LSN. */
  async function rememberAndCheckpoint(pod: Pod, clients: ReturnType<typeof connectClients>, text: string): Promise<{ lsn: number; fileName: string }> {
    await call(clients.memory.remember.bind(clients.memory), memoryV1.RememberRequest.fromPartial({ namespace: "fallback", content: text, admission: 2 }));
    return (await (await fetch(`${pod.httpUrl}/api/v1/checkpoint`, { method: "POST" })).json()) as { lsn: number; fileName: string };
  }

  it("warns naming the rejected file and why, and /status and ww_checkpoint_lsn report the checkpoint actually used", async () => {
    const first = await startPod({ dataDir: data.dir, env: ENV });
    pods.push(first);
    const firstClients = connectClients(first.grpcAddr);
    const older = await rememberAndCheckpoint(first, firstClients, "kept in the older checkpoint");
    const newer = await rememberAndCheckpoint(first, firstClients, "kept in the newer checkpoint");
    expect(newer.lsn).toBeGreaterThan(older.lsn);
    await first.memory.waitFor((l) => l.event === "checkpoint.done" && l.lsn === newer.lsn);
    firstClients.close();
    await first.stop(); // SIGKILL both; the data directory is ours and stays

    // One flipped byte in the deflate stream: the SHA-256 no longer matches.
    const newerFile = path.join(data.dir, "checkpoints", newer.fileName);
    const bytes = readFileSync(newerFile);
    bytes[bytes.length - 12]! ^= 0x01;
    writeFileSync(newerFile, bytes);

    const second = await startPod({ dataDir: data.dir, env: ENV });
    pods.push(second);
    const rejected = await second.sidecar.waitForEvent("checkpoint.rejected");
    expect(rejected).toMatchObject({ level: "warn", file: newer.fileName, reason: "SHA-256 mismatch over the compressed body", fallbackFile: older.fileName });
    const passedOver = await second.memory.waitForEvent("recovery.checkpoint_rejected");
    expect(passedOver).toMatchObject({ level: "warn", file: newer.fileName, reason: "SHA-256 mismatch over the compressed body", usedFile: older.fileName });
    expect(await second.memory.waitForEvent("recovery.done")).toMatchObject({ mode: "warm", checkpointLsn: older.lsn });

    const status = (await (await fetch(`${second.httpUrl}/status`)).json()) as { checkpointLsn: number };
    expect(status.checkpointLsn).toBe(older.lsn);
    const metrics = await (await fetch(`${second.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^ww_checkpoint_lsn ${older.lsn}$`, "m"));

    // And nothing acknowledged was lost: the WAL was kept back to the older checkpoint.
    const clients = connectClients(second.grpcAddr);
    try {
      const listed = await call(clients.memory.listMemories.bind(clients.memory), memoryV1.ListMemoriesRequest.fromPartial({ namespace: "fallback" }));
      expect(listed.memories.map((m) => m.content).sort()).toEqual(["kept in the newer checkpoint", "kept in the older checkpoint"]);
    } finally {
      clients.close();
    }
  });
});
