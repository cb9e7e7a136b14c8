import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { persistenceV1 } from "@t4dm/proto";
import { ServiceProcess } from "@t4dm/testkit";
import { connectPersistence, type PersistenceClient } from "../src/sidecar/persistence-client.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Every record the sidecar hands back on Recover. */
function recoveredRecords(client: PersistenceClient): Promise<persistenceV1.WalRecord[]> {
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

describe("the Append stream the memory service opens (sidecar/append-stream.ts)", () => {
  it("reuses one encoder buffer per stream, yet every message arrives byte-exact at a real sidecar", { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "t4dm-append-stream-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const sidecar = ServiceProcess.start("persistence", { T4DM_DATA_DIR: dir, T4DM_SIDECAR_ADDR: `unix:${path.join(dir, "sidecar.sock")}` });
    cleanups.push(() => sidecar.kill("SIGKILL"));
    const connection = connectPersistence(String((await sidecar.waitForEvent("grpc.listening")).addr));
    cleanups.push(() => connection.close());

    const stream = connection.client.append();
    // One record per message, small after large and the 2 MB one past the size at which the encoder
    // starts a fresh buffer: any sharing between messages would show up as another record's bytes.
    const sizes = [3000, 10, 700_000, 2_000_000, 1, 50_000, 0];
    const sent = sizes.map((size, i) => ({ lsn: i + 1, opType: 10, payload: Buffer.alloc(size, i + 1) }));
    const acked = new Promise<void>((resolve) =>
      stream.on("data", (response: persistenceV1.AppendResponse) => {
        if (response.durableLsn === sent.length) resolve();
      }),
    );
    for (const record of sent) stream.write({ records: [record] });
    await acked;
    stream.end();
    const records = await recoveredRecords(connection.client);
    expect(records.map((r) => [r.lsn, Buffer.from(r.payload)])).toEqual(sent.map((r) => [r.lsn, r.payload]));
  });
});
