import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "@t4dm/config";
import { walV1, type persistenceV1 } from "@t4dm/proto";
import { connectSidecar } from "@t4dm/testkit";
import { openSidecar } from "../src/open-sidecar.js";
import { startSidecarServer } from "../src/sidecar-server.js";
import { MemoryFileLayer } from "./support/memory-file-layer.js";
import { captureLogger } from "./support/wal-harness.js";
import { sidecarStatus, writeCheckpoint } from "./support/sidecar-calls.js";
import { checkpointCompleteRecord, opaqueRecord } from "./support/state-chain.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const MAX_SEGMENTS = 3;

async function start() {
  const socketDir = mkdtempSync(path.join(tmpdir(), "t4dm-sock-"));
  const config = loadConfig(
    { T4DM_DATA_DIR: "/data", T4DM_SIDECAR_ADDR: `unix:${socketDir}/s.sock`, T4DM_WAL_SYNC_MODE: "fdatasync", T4DM_WAL_SEGMENT_BYTES: "65536", T4DM_WAL_MAX_SEGMENTS: String(MAX_SEGMENTS) },
    "/",
  );
  const { logger, lines } = captureLogger();
  const opened = await openSidecar(new MemoryFileLayer(), config, logger);
  const server = await startSidecarServer(config.sidecarAddr, opened.sidecar, logger);
  const client = connectSidecar(server.address);
  cleanups.push(async () => {
    client.close();
    await server.close(0);
    await opened.close().catch(() => undefined);
    rmSync(socketDir, { recursive: true, force: true });
  });
  return { opened, client, lines };
}

/** A raw Append stream that records every response, with a way to wait for one. */
function rawStream(client: persistenceV1.PersistenceServiceClient) {
  const stream = client.append();
  const responses: persistenceV1.AppendResponse[] = [];
  const watchers: { match: (r: persistenceV1.AppendResponse) => boolean; resolve: (r: persistenceV1.AppendResponse) => void; reject: (e: Error) => void }[] = [];
  let failure: Error | undefined;
  stream.on("data", (response: persistenceV1.AppendResponse) => {
    responses.push(response);
    for (const watcher of watchers.filter((w) => w.match(response))) {
      watchers.splice(watchers.indexOf(watcher), 1);
      watcher.resolve(response);
    }
  });
  stream.on("error", (error: Error) => {
    failure = error;
    // The stream must survive the cap: a test waiting on it fails at once, not at its timeout.
    for (const watcher of watchers.splice(0)) watcher.reject(error);
  });
  cleanups.push(() => stream.cancel());
  return {
    responses,
    get failure() {
      return failure;
    },
    send: (records: persistenceV1.WalRecord[]) => stream.write({ records }),
    next: (match: (r: persistenceV1.AppendResponse) => boolean) =>
      new Promise<persistenceV1.AppendResponse>((resolve, reject) => {
        const seen = responses.find(match);
        if (seen) return resolve(seen);
        if (failure) return reject(failure);
        watchers.push({ match, resolve, reject });
      }),
  };
}

function systemRecord(lsn: number, opType: walV1.Operation): persistenceV1.WalRecord {
  return { lsn, opType, payload: Buffer.from(walV1.WalEntry.encode(walV1.WalEntry.fromPartial({})).finish()) };
}

describe("catalog 15 at the sidecar: the WAL cap answers the refused records only", () => {
  it("keeps the stream, drops what was already on its way, takes exempt records from the reserve, and says when space is freed", async () => {
    const { opened, client, lines } = await start();
    const stream = rawStream(client);
    // Fill at full speed, without waiting: many messages are in the pipe when the cap refuses one.
    let lsn = 0;
    for (let message = 0; message < 400; message++) {
      stream.send(Array.from({ length: 10 }, () => opaqueRecord(++lsn, 1000)));
    }
    const refusal = await stream.next((r) => r.refusedFromLsn > 0);
    expect(refusal.walFull).toBe(true);
    const accepted = refusal.refusedFromLsn - 1;
    await stream.next((r) => r.durableLsn >= accepted);
    // The messages after the refused one continued its sequence: dropped, not an LSN_GAP that kills the stream.
    expect(stream.failure).toBeUndefined();
    expect(lines.filter((l) => l.event === "append.wal_full")).toHaveLength(1);
    const full = await sidecarStatus(client);
    expect(full).toMatchObject({ walFull: true, checkpointRequested: true, durableLsn: accepted });
    // Ordinary records never pass the cap, and only exempt ones may use the reserve.
    expect(full.segmentCount).toBe(MAX_SEGMENTS);
    const lastIndex = opened.sidecar.writer.segmentList.at(-1)!.index;

    // The writer continues the sequence where the refusal said: ordinary records are refused again...
    stream.send([opaqueRecord(accepted + 1, 100)]);
    expect((await stream.next((r) => r.refusedFromLsn > 0 && r !== refusal)).refusedFromLsn).toBe(accepted + 1);
    // ...a start marker and a checkpoint commit go in (reserved room), without a new segment.
    stream.send([systemRecord(accepted + 1, walV1.Operation.OPERATION_SYSTEM_START)]);
    await stream.next((r) => r.durableLsn === accepted + 1);
    await writeCheckpoint(client, accepted + 1, Buffer.from("state"));
    stream.send([checkpointCompleteRecord(accepted + 2, accepted + 1)]);
    await stream.next((r) => r.durableLsn === accepted + 2);
    // Both fitted in the reserve: no segment past the cap was cut for them.
    expect(opened.sidecar.writer.segmentList.at(-1)!.index).toBe(lastIndex);
    // Retention frees the old segments, and the open stream hears it unasked.
    const freed = await stream.next((r) => r.durableLsn === accepted + 2 && !r.walFull && r.refusedFromLsn === 0);
    expect(freed.walFull).toBe(false);
    await opened.sidecar.settled();
    const after = await sidecarStatus(client);
    expect(after.segmentCount).toBeLessThan(MAX_SEGMENTS);
    expect(after.walFull).toBe(false);
    stream.send([opaqueRecord(accepted + 3, 1000)]);
    await stream.next((r) => r.durableLsn === accepted + 3);
    expect(stream.failure).toBeUndefined();
  });
});
