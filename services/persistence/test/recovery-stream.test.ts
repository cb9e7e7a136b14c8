/**
 * The recovery stream reads a segment in chunks and sends records while it
 * reads on, instead of reading and checking the whole segment first; every
 * record it sends is checked again, CRC included.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { persistenceV1 } from "@t4dm/proto";
import type { FileHandle, FileLayer } from "../src/storage/file-layer.js";
import { openSidecar, type SidecarConfig } from "../src/open-sidecar.js";
import { WalCorruptError } from "../src/wal/wal-errors.js";
import { MemoryFileLayer } from "./support/memory-file-layer.js";
import { captureLogger, payloadFor, WAL_DIR } from "./support/wal-harness.js";

const config: SidecarConfig = { dataDir: "/data", walSyncMode: "fdatasync", walSegmentBytes: 64 * 1024 * 1024, walMaxSegments: 10, checkpointKeep: 2 };
const RECORDS = 8000;
const PAYLOAD = 4096;

/** Counts the WAL segment bytes handed out, by readFile and by reads on handles. */
class CountingLayer implements FileLayer {
  segmentBytesRead = 0;
  constructor(private readonly inner: MemoryFileLayer) {}
  private count(file: string, bytes: Buffer): Buffer {
    if (file.endsWith(".wal")) this.segmentBytesRead += bytes.length;
    return bytes;
  }
  async open(file: string, mode: "create" | "write" | "read"): Promise<FileHandle> {
    const handle = await this.inner.open(file, mode);
    return { ...bindAll(handle), read: async (length, position) => this.count(file, await handle.read(length, position)) };
  }
  async readFile(file: string): Promise<Buffer> {
    return this.count(file, await this.inner.readFile(file));
  }
  readdir = (dir: string) => this.inner.readdir(dir);
  mkdir = (dir: string) => this.inner.mkdir(dir);
  rename = (from: string, to: string) => this.inner.rename(from, to);
  unlink = (file: string) => this.inner.unlink(file);
  syncDir = (dir: string) => this.inner.syncDir(dir);
}

function bindAll(handle: FileHandle): FileHandle {
  return {
    writev: (buffers, position) => handle.writev(buffers, position),
    read: (length, position) => handle.read(length, position),
    datasync: () => handle.datasync(),
    sync: () => handle.sync(),
    truncate: (length) => handle.truncate(length),
    size: () => handle.size(),
    close: () => handle.close(),
  };
}

/** One ~33 MiB segment of RECORDS records, written through a real sidecar, then the sidecar closed. */
async function writtenWal(): Promise<MemoryFileLayer> {
  const layer = new MemoryFileLayer();
  const opened = await openSidecar(layer, config, captureLogger().logger);
  for (let lsn = 1; lsn <= RECORDS; lsn += 100) {
    await opened.sidecar.append(Array.from({ length: 100 }, (_, i) => ({ lsn: lsn + i, opType: 7, payload: payloadFor(lsn + i, PAYLOAD) })));
  }
  await opened.close();
  return layer;
}

describe("the recovery stream", () => {
  it("sends a segment's first records before it has read the whole segment, then every record once, in order", async () => {
    const layer = new CountingLayer(await writtenWal());
    const opened = await openSidecar(layer, config, captureLogger().logger);
    try {
      expect(opened.sidecar.writer.segmentList).toHaveLength(1);
      const segmentBytes = opened.sidecar.writer.segmentList[0]!.bytes;
      layer.segmentBytesRead = 0; // the scan at open read it all once; count only what recovery reads
      let readAtFirstBatch: number | undefined;
      const records: persistenceV1.WalRecord[] = [];
      for await (const response of opened.sidecar.recover()) {
        if (response.part?.$case !== "records") continue;
        readAtFirstBatch ??= layer.segmentBytesRead;
        records.push(...response.part.value.records);
      }
      expect(readAtFirstBatch).toBeLessThan(segmentBytes / 2);
      expect(layer.segmentBytesRead).toBeLessThanOrEqual(segmentBytes);
      expect(records.map((r) => r.lsn)).toEqual(Array.from({ length: RECORDS }, (_, i) => i + 1));
      for (const record of [records[0]!, records[5432]!, records.at(-1)!]) expect(Buffer.from(record.payload).equals(payloadFor(record.lsn, PAYLOAD))).toBe(true);
    } finally {
      await opened.close();
    }
  });

  it("checks every record it sends again: a bit flipped after open stops the stream at that record, loudly", async () => {
    const memory = await writtenWal();
    const opened = await openSidecar(memory, config, captureLogger().logger);
    try {
      // Flip a payload bit of LSN 3001 behind the open sidecar's back (bit rot after the scan at open).
      const file = path.join(WAL_DIR, opened.sidecar.writer.segmentList[0]!.fileName);
      const bytes = await memory.readFile(file);
      const handle = await memory.open(file, "write");
      const offset = 40 + 3000 * (28 + PAYLOAD) + 28 + 100;
      await handle.writev([Buffer.from([bytes[offset]! ^ 0x10])], offset);
      await handle.close();

      const lsns: number[] = [];
      const stream = async () => {
        for await (const response of opened.sidecar.recover()) {
          if (response.part?.$case === "records") lsns.push(...response.part.value.records.map((r) => r.lsn));
        }
      };
      const error = await stream().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(WalCorruptError);
      expect((error as WalCorruptError).lsn).toBe(3001);
      expect(lsns.at(-1) ?? 0).toBeLessThan(3001);
    } finally {
      await opened.close();
    }
  });
});
