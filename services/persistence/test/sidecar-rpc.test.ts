import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { status, type ServiceError } from "@grpc/grpc-js";
import { gunzipSync } from "node:zlib";
import { parseCheckpointFile, parseCheckpointFileName } from "@t4dm/wal-format";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "@t4dm/config";
import { decodeStatusDetails } from "@t4dm/rpc";
import { AppendClient, checkHealth, connectSidecar, WalFullRefusal } from "@t4dm/testkit";
import { makeGenericClientConstructor, credentials } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { openSidecar, type OpenedSidecar } from "../src/open-sidecar.js";
import { startSidecarServer, type SidecarServer } from "../src/sidecar-server.js";
import { legacyCheckpointFile } from "./support/checkpoint-files.js";
import { MemoryFileLayer } from "./support/memory-file-layer.js";
import { captureLogger } from "./support/wal-harness.js";
import { recoverAll, sidecarStatus, writeCheckpoint } from "./support/sidecar-calls.js";
import { checkpointCompleteRecord, opaqueRecord, StateChain } from "./support/state-chain.js";

interface Running {
  layer: MemoryFileLayer;
  opened: OpenedSidecar;
  server: SidecarServer;
  client: ReturnType<typeof connectSidecar>;
  lines: Record<string, unknown>[];
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The real sidecar code and gRPC server over the fault-injecting file layer. */
async function start(layer = new MemoryFileLayer(), env: Record<string, string> = {}): Promise<Running> {
  const socketDir = mkdtempSync(path.join(tmpdir(), "t4dm-sock-"));
  const config = loadConfig({ T4DM_DATA_DIR: "/data", T4DM_SIDECAR_ADDR: `unix:${socketDir}/s.sock`, T4DM_WAL_SYNC_MODE: "fdatasync", ...env }, "/");
  const { logger, lines } = captureLogger();
  const opened = await openSidecar(layer, config, logger);
  const server = await startSidecarServer(config.sidecarAddr, opened.sidecar, logger);
  const client = connectSidecar(server.address);
  const running = { layer, opened, server, client, lines };
  cleanups.push(async () => {
    client.close();
    await server.close(0);
    await opened.close().catch(() => undefined);
    rmSync(socketDir, { recursive: true, force: true });
  });
  return running;
}

describe("sidecar over gRPC", () => {
  it("acknowledges appends with the durable LSN and reports it in GetStatus", async () => {
    const { client } = await start();
    const writer = new AppendClient(client);
    expect(await writer.append([opaqueRecord(1), opaqueRecord(2)])).toBe(2);
    expect(await writer.append([opaqueRecord(3)])).toBe(3);
    const reported = await sidecarStatus(client);
    expect(reported).toMatchObject({ durableLsn: 3, segmentCount: 1, poisoned: false, syncMode: 2 });
    writer.close();
    await writer.ended;
  });

  it("catalog 12: a reconnecting writer may re-send durable LSNs; a gap ends the stream with FAILED_PRECONDITION", async () => {
    const { client } = await start();
    const first = new AppendClient(client);
    await first.append([1, 2, 3].map((lsn) => opaqueRecord(lsn)));
    first.cancel();

    const second = new AppendClient(client);
    expect(await second.append([2, 3, 4].map((lsn) => opaqueRecord(lsn)))).toBe(4);
    const gap = (await second.append([opaqueRecord(6)]).catch((e: unknown) => e)) as ServiceError;
    expect(gap.code).toBe(status.FAILED_PRECONDITION);
    expect(decodeStatusDetails(gap).errorInfo).toMatchObject({ reason: "LSN_GAP", metadata: { expected_lsn: "5", got_lsn: "6" } });

    const third = new AppendClient(client);
    const conflict = (await third.append([{ ...opaqueRecord(3), payload: Buffer.from("other") }]).catch((e: unknown) => e)) as ServiceError;
    expect(decodeStatusDetails(conflict).errorInfo?.reason).toBe("LSN_CONFLICT");
    expect((await sidecarStatus(client)).durableLsn).toBe(4);
  });

  it("catalog 12 across a restart: re-sent durable LSNs are verified against the WAL on disk", async () => {
    const first = await start();
    const writer = new AppendClient(first.client);
    await writer.append([1, 2, 3, 4, 5].map((lsn) => opaqueRecord(lsn)));
    writer.cancel();
    const restarted = await start(first.layer.afterProcessCrash());
    const again = new AppendClient(restarted.client);
    expect(await again.append([3, 4, 5, 6].map((lsn) => opaqueRecord(lsn)))).toBe(6);
    const forged = new AppendClient(restarted.client);
    const error = (await forged.append([{ ...opaqueRecord(4), payload: Buffer.from("forged") }]).catch((e: unknown) => e)) as ServiceError;
    expect(decodeStatusDetails(error).errorInfo?.reason).toBe("LSN_CONFLICT");
  });

  it("catalog 10: EIO on sync poisons the writer: UNAVAILABLE, NOT_SERVING, a log line, no retry", async () => {
    const running = await start();
    const writer = new AppendClient(running.client);
    await writer.append([opaqueRecord(1)]);
    running.layer.inject("datasync", "EIO");
    const error = (await writer.append([opaqueRecord(2)]).catch((e: unknown) => e)) as ServiceError;
    expect(error.code).toBe(status.UNAVAILABLE);
    expect(decodeStatusDetails(error).errorInfo?.reason).toBe("WAL_POISONED");
    const Health = makeGenericClientConstructor(healthService as never, "Health");
    const health = new Health(running.server.address, credentials.createInsecure(), { "grpc.default_authority": "t4dm-sidecar" });
    expect(await checkHealth(health as never)).toBe("NOT_SERVING");
    health.close();
    expect(await sidecarStatus(running.client)).toMatchObject({ poisoned: true, durableLsn: 1 });
    expect(running.lines.some((l) => l.event === "wal.poisoned" && String(l.reason).includes("EIO"))).toBe(true);
    const again = new AppendClient(running.client);
    expect(((await again.append([opaqueRecord(2)]).catch((e: unknown) => e)) as ServiceError).code).toBe(status.UNAVAILABLE);
  });

  it("at the WAL cap refuses appends (an answer on the open stream), asks for a checkpoint, and accepts again after one", async () => {
    const running = await start(new MemoryFileLayer(), { T4DM_WAL_SEGMENT_BYTES: "65536", T4DM_WAL_MAX_SEGMENTS: "3" });
    const client = running.client;
    const writer = new AppendClient(client);
    let lsn = 0;
    let refusal: unknown;
    while (!refusal) {
      const batch = Array.from({ length: 50 }, (_, i) => opaqueRecord(lsn + 1 + i, 1000));
      try {
        await writer.append(batch);
        lsn += 50;
      } catch (error) {
        refusal = error;
      }
    }
    expect(refusal).toBeInstanceOf(WalFullRefusal);
    expect((refusal as WalFullRefusal).refusedFromLsn).toBe(lsn + 1);
    expect(writer.error).toBeUndefined();
    const full = await sidecarStatus(client);
    expect(full).toMatchObject({ checkpointRequested: true, walFull: true, durableLsn: lsn, segmentCount: 3 });

    // A checkpoint at the durable LSN, committed by its record (which the cap
    // lets through), frees the old segments; appends are accepted again.
    await writeCheckpoint(client, lsn, Buffer.from("state"));
    expect(await writer.append([checkpointCompleteRecord(lsn + 1, lsn)])).toBe(lsn + 1);
    await running.opened.sidecar.settled();
    const after = await sidecarStatus(client);
    expect(after.segmentCount).toBeLessThan(3);
    expect(after).toMatchObject({ checkpointRequested: false, walFull: false });
    expect(await writer.append([opaqueRecord(lsn + 2, 1000)])).toBe(lsn + 2);
  });
});

describe("checkpoints and recovery over gRPC", () => {
  it("catalog 13: checkpoint + tail replays to the writer's exact state; only committed checkpoints count", async () => {
    const running = await start();
    const writer = new AppendClient(running.client);
    const live = new StateChain();
    const send = async (records: ReturnType<typeof opaqueRecord>[]) => {
      await writer.append(records);
      for (const r of records) live.apply(r);
    };
    await send(Array.from({ length: 30 }, (_, i) => opaqueRecord(i + 1)));
    const snapshot = live.snapshot();
    await writeCheckpoint(running.client, 30, snapshot);

    // Not committed yet: recovery ignores it and replays from LSN 1.
    const uncommitted = await recoverAll(running.client);
    expect(uncommitted.plan.checkpoint).toBeUndefined();
    expect(uncommitted.records.map((r) => r.lsn)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));

    await send([checkpointCompleteRecord(31, 30)]);
    await send(Array.from({ length: 20 }, (_, i) => opaqueRecord(32 + i)));
    await running.opened.sidecar.settled();

    const recovered = await recoverAll(running.client);
    expect(recovered.plan).toMatchObject({ checkpointFileName: "checkpoint_0000000000000030.bin.gz", durableLsn: 51 });
    expect(recovered.plan.checkpoint?.lsn).toBe(30);
    expect(recovered.complete).toEqual({ lastLsn: 51, recordsSent: 21 });
    const restored = StateChain.restore(recovered.checkpoint);
    for (const r of recovered.records) restored.apply(r);
    expect(restored.lsn).toBe(live.lsn);
    expect(restored.hash.equals(live.hash)).toBe(true);
    expect((await sidecarStatus(running.client)).newestCheckpointLsn).toBe(30);
  });

  it("refuses a checkpoint ahead of the durable LSN", async () => {
    const { client } = await start();
    const error = (await writeCheckpoint(client, 5, Buffer.from("x")).catch((e: unknown) => e)) as ServiceError;
    expect(error.code).toBe(status.FAILED_PRECONDITION);
  });

  it("refuses a checkpoint whose body length differs from its header", async () => {
    const { client } = await start();
    const writer = new AppendClient(client);
    await writer.append([opaqueRecord(1)]);
    const error = await new Promise<ServiceError>((resolve) => {
      const stream = client.writeCheckpoint((e: ServiceError | null) => resolve(e!));
      stream.write({ part: { $case: "header", value: { lsn: 1, formatVersion: 1, stateHash: Buffer.alloc(0), bodyBytes: 10 } } });
      stream.write({ part: { $case: "chunk", value: Buffer.from("abc") } });
      stream.end();
    });
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(decodeStatusDetails(error).fieldViolations[0]?.description).toMatch(/10 body bytes, got 3/);
  });

  it("catalog 7: a corrupt newest checkpoint falls back to an older one and still reaches the last durable LSN", async () => {
    const running = await start(new MemoryFileLayer(), { T4DM_WAL_SEGMENT_BYTES: "65536" });
    const writer = new AppendClient(running.client);
    const live = new StateChain();
    let lsn = 0;
    const send = async (records: ReturnType<typeof opaqueRecord>[]) => {
      await writer.append(records);
      for (const r of records) live.apply(r);
      lsn = records.at(-1)!.lsn;
    };
    for (let round = 0; round < 4; round++) {
      await send(Array.from({ length: 120 }, (_, i) => opaqueRecord(lsn + 1 + i, 700)));
      await writeCheckpoint(running.client, lsn, live.snapshot());
      await send([checkpointCompleteRecord(lsn + 1, lsn)]);
      await running.opened.sidecar.settled();
    }
    await send(Array.from({ length: 10 }, (_, i) => opaqueRecord(lsn + 1 + i)));
    const checkpointLsns = (await running.layer.readdir("/data/checkpoints")).sort();
    expect(checkpointLsns).toHaveLength(4);

    const damages: [string, (b: Buffer) => Buffer][] = [
      ["bad sha", (b) => (b[b.length - 5]! ^= 0xff, b)],
      ["truncated gzip", (b) => b.subarray(0, b.length - 20)],
      ["empty", () => Buffer.alloc(0)],
    ];
    const newest = `/data/checkpoints/${checkpointLsns.at(-1)}`;
    for (const [name, damage] of damages) {
      const disk = running.layer.afterProcessCrash();
      disk.poke(newest, damage(disk.peek(newest)));
      const again = await start(disk);
      const recovered = await recoverAll(again.client);
      expect(recovered.plan.rejectedCheckpoints.map((r) => r.fileName), name).toEqual([checkpointLsns.at(-1)]);
      expect(recovered.plan.checkpointFileName, name).toBe(checkpointLsns.at(-2));
      // Reported as what it is, and never again as the newest checkpoint.
      expect(again.lines.find((l) => l.event === "checkpoint.rejected"), name).toMatchObject({ level: "warn", file: checkpointLsns.at(-1), fallbackFile: checkpointLsns.at(-2) });
      expect((await sidecarStatus(again.client)).newestCheckpointLsn, name).toBe(parseCheckpointFileName(checkpointLsns.at(-2)!));
      const restored = StateChain.restore(recovered.checkpoint);
      for (const r of recovered.records) restored.apply(r);
      expect(restored.hash.equals(live.hash), name).toBe(true);
    }
    // Missing newest file.
    const disk = running.layer.afterProcessCrash();
    await disk.unlink(newest);
    const again = await start(disk);
    const recovered = await recoverAll(again.client);
    expect(recovered.plan.checkpointFileName).toBe(checkpointLsns.at(-2));
    expect(recovered.plan.rejectedCheckpoints[0]?.reason).toMatch(/missing/);
  });
});

describe("a data directory from before the gzip layout", () => {
  it("still starts: a committed legacy-layout checkpoint (format version 1) is chosen, and new ones are gzip", async () => {
    const running = await start();
    const writer = new AppendClient(running.client);
    const live = new StateChain();
    const records = Array.from({ length: 5 }, (_, i) => opaqueRecord(i + 1));
    await writer.append(records);
    for (const r of records) live.apply(r);
    await writeCheckpoint(running.client, 5, live.snapshot());
    const commit = checkpointCompleteRecord(6, 5);
    await writer.append([commit]);
    live.apply(commit);
    await running.opened.sidecar.settled();

    // Rewrite the checkpoint as the version-1 writer would have left it.
    const disk = running.layer.afterProcessCrash();
    const file = "/data/checkpoints/checkpoint_0000000000000005.bin.gz";
    const { header } = parseCheckpointFile(disk.peek(file));
    disk.poke(file, legacyCheckpointFile({ lsn: 5, stateFormatVersion: header.stateFormatVersion, stateHash: header.stateHash, body: gunzipSync(disk.peek(file)) }));
    expect(disk.peek(file).subarray(0, 8).toString("latin1")).toBe("T4DMCKP\0");

    const again = await start(disk);
    const recovered = await recoverAll(again.client);
    expect(recovered.plan.checkpointFileName).toBe("checkpoint_0000000000000005.bin.gz");
    expect(recovered.plan.rejectedCheckpoints).toEqual([]);
    const restored = StateChain.restore(recovered.checkpoint);
    for (const r of recovered.records) restored.apply(r);
    expect(restored.hash.equals(live.hash)).toBe(true);

    const more = new AppendClient(again.client);
    await more.append([opaqueRecord(7)]);
    await writeCheckpoint(again.client, 7, Buffer.from("state at 7"));
    expect(gunzipSync(again.layer.peek("/data/checkpoints/checkpoint_0000000000000007.bin.gz")).toString()).toBe("state at 7");
    more.close();
    await more.ended;
  });
});

describe("sidecar on loopback TCP", () => {
  it("refuses calls without the shared token and accepts them with it", async () => {
    const { logger } = captureLogger();
    const config = loadConfig({ T4DM_DATA_DIR: "/data", T4DM_SIDECAR_ADDR: "127.0.0.1:0", T4DM_SIDECAR_TOKEN: "s3cret-token" }, "/");
    const opened = await openSidecar(new MemoryFileLayer(), config, logger);
    const server = await startSidecarServer(config.sidecarAddr, opened.sidecar, logger, config.sidecarToken);
    const anonymous = connectSidecar(server.address);
    const trusted = connectSidecar(server.address, "s3cret-token");
    try {
      const refused = (await sidecarStatus(anonymous).catch((e: unknown) => e)) as ServiceError;
      expect(refused.code).toBe(status.UNAUTHENTICATED);
      const denied = (await new AppendClient(anonymous).append([opaqueRecord(1)]).catch((e: unknown) => e)) as ServiceError;
      expect(denied.code).toBe(status.UNAUTHENTICATED);
      expect((await sidecarStatus(trusted)).durableLsn).toBe(0);
      expect(await new AppendClient(trusted).append([opaqueRecord(1)])).toBe(1);
    } finally {
      anonymous.close();
      trusted.close();
      await server.close(0);
      await opened.close();
    }
  });
});
