/**
 * A data directory whose WAL the code before REMEMBER records and packed
 * vectors wrote (the old-format golden payloads, appended through the real
 * sidecar) starts the current memory service, which replays it to the state
 * the old code computed: its state after replay plus the SYSTEM_START it logs
 * equals that old state plus the same SYSTEM_START.
 */
import { readFileSync } from "node:fs";
import { LearningState, operationType } from "@t4dm/learning";
import { walV1, type persistenceV1 } from "@t4dm/proto";
import { AppendClient, connectSidecar, makeDataDir, ServiceProcess } from "@t4dm/testkit";
import { describe, expect, it } from "vitest";

const golden = JSON.parse(readFileSync(new URL("../../../libs/learning/test/golden/old-wal.json", import.meta.url), "utf8")) as { payloads: string[]; stateHash: string };

/** Every WAL record the sidecar's recovery stream returns (no checkpoint here: a cold data directory). */
function recoveredRecords(client: persistenceV1.PersistenceServiceClient): Promise<persistenceV1.WalRecord[]> {
  return new Promise((resolve, reject) => {
    const records: persistenceV1.WalRecord[] = [];
    const stream = client.recover({});
    stream.on("data", (response: persistenceV1.RecoverResponse) => {
      if (response.part?.$case === "records") records.push(...response.part.value.records);
    });
    stream.on("error", reject);
    stream.on("end", () => resolve(records));
  });
}

describe("a data directory in the old WAL format", () => {
  it("starts and replays to the state hash the old code computed", { timeout: 60_000 }, async () => {
    const data = makeDataDir();
    const env = { T4DM_DATA_DIR: data.dir, T4DM_GRPC_ADDR: "127.0.0.1:0", T4DM_HTTP_ADDR: "127.0.0.1:0", T4DM_EMBEDDING_DIM: "32" };
    const sidecar = ServiceProcess.start("persistence", env);
    let memory: ServiceProcess | undefined;
    try {
      const client = connectSidecar(String((await sidecar.waitForEvent("grpc.listening")).addr));
      const payloads = golden.payloads.map((hex) => Buffer.from(hex, "hex"));
      const writer = new AppendClient(client);
      await writer.append(payloads.map((payload, i) => ({ lsn: i + 1, opType: operationType(walV1.WalEntry.decode(payload).operation!), payload })));
      writer.close();

      memory = ServiceProcess.start("memory", env);
      const recovered = await memory.waitForEvent("recovery.done");
      expect(recovered.recordsReplayed).toBe(payloads.length);

      const old = new LearningState();
      payloads.forEach((payload, i) => old.apply(i + 1, walV1.WalEntry.decode(payload)));
      expect(old.hash().toString("hex")).toBe(golden.stateHash);
      // What the new service logged after the old records (its SYSTEM_START first), applied to the old state.
      const logged = (await recoveredRecords(client)).filter((record) => record.lsn > payloads.length && record.lsn <= Number(recovered.appliedLsn));
      expect(walV1.WalEntry.decode(logged[0]!.payload).operation?.$case).toBe("systemStart");
      for (const record of logged) old.apply(record.lsn, walV1.WalEntry.decode(record.payload));
      expect(old.appliedLsn).toBe(recovered.appliedLsn);
      expect(recovered.stateHash).toBe(old.hash().toString("hex"));
      client.close();
    } finally {
      await memory?.kill("SIGKILL");
      await sidecar.kill("SIGKILL");
      data.remove();
    }
  });
});
