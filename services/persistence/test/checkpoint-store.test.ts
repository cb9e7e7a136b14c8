import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { threadId } from "node:worker_threads";
import { crc32, deflateRawSync, gunzipSync, gzipSync, inflateRawSync } from "node:zlib";
import {
  CHECKPOINT_GZIP_PREFIX_BYTES,
  CHECKPOINT_HEADER_BYTES,
  checkpointFileName,
  encodeCheckpointPrefix,
  encodeGzipTrailer,
  parseCheckpointFile,
  type CheckpointFileHeader,
} from "@t4dm/wal-format";
import ts from "typescript";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CheckpointCodec } from "../src/checkpoints/checkpoint-codec.js";
import {
  CheckpointInvalidError,
  CheckpointWriteError,
  CodecDataError,
  CodecUnavailableError,
} from "../src/checkpoints/checkpoint-errors.js";
import { CheckpointStore, NOT_COMMITTED, checkpointDirectory } from "../src/checkpoints/checkpoint-store.js";
import { NodeFileLayer } from "../src/storage/node-file-layer.js";
import { legacyCheckpointFile } from "./support/checkpoint-files.js";
import { MemoryFileLayer, SimulatedCrash } from "./support/memory-file-layer.js";

const DATA_DIR = "/data";
const DIR = checkpointDirectory(DATA_DIR);

let codec: CheckpointCodec;
beforeAll(() => {
  codec = new CheckpointCodec();
});
afterAll(async () => {
  await codec.close();
});

/** A body that differs per LSN and compresses like real state (repetitive, not trivially). */
function bodyFor(lsn: number): Buffer {
  const memories = Array.from({ length: 300 }, (_, i) => ({
    id: `m-${lsn}-${i}`,
    text: `memory ${i} written before lsn ${lsn}`,
    weight: (i * 7919) % 1000,
  }));
  return Buffer.from(JSON.stringify({ lsn, memories }));
}

function stateHashFor(lsn: number): Buffer {
  return createHash("sha256").update(`state@${lsn}`).digest().subarray(0, 28);
}

function writeAt(store: CheckpointStore, lsn: number) {
  return store.write({ lsn, stateFormatVersion: 3, stateHash: stateHashFor(lsn), body: bodyFor(lsn) });
}

function fileAt(lsn: number): string {
  return path.join(DIR, checkpointFileName(lsn));
}

async function freshStore(keep = 3): Promise<{ layer: MemoryFileLayer; store: CheckpointStore }> {
  const layer = new MemoryFileLayer();
  await layer.mkdir(DATA_DIR);
  const store = new CheckpointStore(layer, DIR, codec, keep);
  await store.open();
  return { layer, store };
}

async function storeWith(lsns: number[], keep = 3) {
  const fresh = await freshStore(keep);
  for (const lsn of lsns) await writeAt(fresh.store, lsn);
  return fresh;
}

/** A bare gzip member header (no FEXTRA): with it, what compress() returns is a gzip stream. */
const PLAIN_GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
const asGzip = (compressed: Buffer) => Buffer.concat([PLAIN_GZIP_HEADER, compressed]);

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("CheckpointCodec", () => {
  it("runs in one long-lived worker thread, not on the caller's", async () => {
    const id = codec.workerThreadId;
    expect(id).toBeGreaterThan(0);
    expect(id).not.toBe(threadId);
    await codec.compress(bodyFor(1));
    await codec.decompress(gzipSync(bodyFor(2)));
    expect(codec.workerThreadId).toBe(id);
  });

  it("deflates with a gzip trailer and hashes those bytes, leaving the caller's buffer intact", async () => {
    const backing = randomBytes(64 * 1024);
    const before = Buffer.from(backing);
    // A view into a larger buffer, as a slice of a read would be.
    const body = backing.subarray(1000, 1000 + 20_000);
    const { compressed, sha256 } = await codec.compress(body);
    expect(inflateRawSync(compressed.subarray(0, -8)).equals(body)).toBe(true);
    expect(compressed.readUInt32LE(compressed.length - 8)).toBe(crc32(body));
    expect(compressed.readUInt32LE(compressed.length - 4)).toBe(body.length);
    expect(sha256.equals(createHash("sha256").update(compressed).digest())).toBe(true);
    expect(backing.equals(before)).toBe(true);
    expect(body.length).toBe(20_000);
  });

  it("decompresses what zlib compressed, including an empty body", async () => {
    const body = bodyFor(7);
    expect((await codec.decompress(gzipSync(body))).equals(body)).toBe(true);
    const empty = await codec.compress(Buffer.alloc(0));
    const header = { lsn: 1, stateFormatVersion: 1, compressedBytes: empty.compressed.length, bodyBytes: 0, sha256: empty.sha256, stateHash: Buffer.alloc(0) };
    expect((await codec.decompress(Buffer.concat([encodeCheckpointPrefix(header), empty.compressed]))).length).toBe(0);
  });

  it.each([
    ["garbage", Buffer.from("definitely not gzip at all")],
    ["truncated gzip", gzipSync(bodyFor(3)).subarray(0, 40)],
    ["empty input", Buffer.alloc(0)],
  ])("rejects %s with zlib's own error", async (_, input) => {
    let expected: NodeJS.ErrnoException | undefined;
    try {
      gunzipSync(input);
    } catch (error) {
      expected = error as NodeJS.ErrnoException;
    }
    expect(expected).toBeDefined();
    const error = await rejectionOf(codec.decompress(input));
    expect(error).toBeInstanceOf(CodecDataError);
    expect((error as CodecDataError).message).toBe(expected?.message);
    expect((error as CodecDataError).code).toBe(expected?.code);
  });

  it("refuses to inflate past maxBytes", async () => {
    const error = await rejectionOf(codec.decompress(gzipSync(Buffer.alloc(10_000)), { maxBytes: 100 }));
    expect(error).toBeInstanceOf(CodecDataError);
    expect((error as CodecDataError).code).toBe("ERR_BUFFER_TOO_LARGE");
  });

  it("answers concurrent requests each with its own result", async () => {
    const bodies = Array.from({ length: 25 }, (_, i) => bodyFor(100 + i));
    const results = await Promise.all(bodies.map((body) => codec.compress(body)));
    const inflated = await Promise.all(results.map((r) => codec.decompress(asGzip(r.compressed))));
    inflated.forEach((body, i) => expect(body.equals(bodies[i]!)).toBe(true));
  });

  it("rejects outstanding and later requests once closed", async () => {
    const own = new CheckpointCodec();
    const outstanding = rejectionOf(own.compress(randomBytes(1 << 20)));
    await own.close();
    expect(await outstanding).toBeInstanceOf(CodecUnavailableError);
    expect(await rejectionOf(own.compress(Buffer.from("x")))).toBeInstanceOf(CodecUnavailableError);
    await own.close();
  });

  it("rejects what a dying worker held and starts a new one for the next request", async () => {
    const own = new CheckpointCodec();
    try {
      const first = own.workerThreadId;
      // White-box: kill the worker as an OOM or a native crash would.
      const worker = (own as unknown as { worker: { terminate(): Promise<number> } }).worker;
      const outstanding = rejectionOf(own.compress(randomBytes(1 << 20)));
      await worker.terminate();
      expect(await outstanding).toBeInstanceOf(CodecUnavailableError);
      const { compressed } = await own.compress(Buffer.from("again"));
      expect(gunzipSync(asGzip(compressed)).toString()).toBe("again");
      expect(own.workerThreadId).not.toBe(first);
      expect(own.workerThreadId).not.toBe(threadId);
    } finally {
      await own.close();
    }
  });

  it("lets an idle process exit, but not one awaiting a result", async () => {
    // Node cannot run our .ts sources, so transpile the codec for a child process.
    const dir = await mkdtemp(path.join(tmpdir(), "t4dm-codec-"));
    try {
      for (const name of ["checkpoint-codec", "checkpoint-errors"]) {
        const source = await readFile(new URL(`../src/checkpoints/${name}.ts`, import.meta.url), "utf8");
        const { outputText } = ts.transpileModule(source, {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
        });
        await writeFile(path.join(dir, `${name}.js`), outputText);
      }
      await writeFile(path.join(dir, "package.json"), '{ "type": "module" }');
      // No close(): the idle worker alone must not hold the process open, and
      // the top-level awaits must not be abandoned while the worker works.
      await writeFile(
        path.join(dir, "main.js"),
        [
          'import { CheckpointCodec } from "./checkpoint-codec.js";',
          "const codec = new CheckpointCodec();",
          'const { compressed } = await codec.compress(Buffer.from("hello from the worker"));',
          `console.log((await codec.decompress(Buffer.concat([Buffer.from(${JSON.stringify([...PLAIN_GZIP_HEADER])}), compressed]))).toString());`,
        ].join("\n"),
      );
      await writeFile(
        path.join(dir, "idle.js"),
        ['import { CheckpointCodec } from "./checkpoint-codec.js";', "new CheckpointCodec();", 'console.log("idle");'].join("\n"),
      );
      // A hung child is killed by the timeout, which fails the test.
      const run = (script: string) => promisify(execFile)(process.execPath, [path.join(dir, script)], { timeout: 30_000 });
      expect((await run("main.js")).stdout).toBe("hello from the worker\n");
      expect((await run("idle.js")).stdout).toBe("idle\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("CheckpointStore", () => {
  it("round-trips body, header fields and SHA-256", async () => {
    const { layer, store } = await freshStore();
    const written = await writeAt(store, 42);
    expect(written.fileName).toBe("checkpoint_0000000000000042.bin.gz");
    expect(await store.list()).toEqual([42]);

    const raw = layer.peek(fileAt(42));
    const compressed = raw.subarray(CHECKPOINT_GZIP_PREFIX_BYTES);
    expect(raw.length).toBe(written.sizeBytes);
    // The whole file is one gzip member; the SHA-256 covers what follows the header in its FEXTRA.
    expect(gunzipSync(raw).equals(bodyFor(42))).toBe(true);
    expect(written.sha256.equals(createHash("sha256").update(compressed).digest())).toBe(true);

    const { header, body } = await store.load(42);
    expect(body.equals(bodyFor(42))).toBe(true);
    expect(header.lsn).toBe(42);
    expect(header.stateFormatVersion).toBe(3);
    expect(header.bodyBytes).toBe(bodyFor(42).length);
    expect(header.formatVersion).toBe(2);
    expect(header.compressedBytes).toBe(written.sizeBytes - CHECKPOINT_GZIP_PREFIX_BYTES);
    expect(header.sha256.equals(written.sha256)).toBe(true);
    expect(header.stateHash.equals(stateHashFor(42))).toBe(true);
  });

  it("pads a short state hash with zeros and refuses a long one", async () => {
    const { store } = await freshStore();
    await store.write({ lsn: 5, stateFormatVersion: 1, stateHash: Buffer.from([1, 2, 3]), body: Buffer.from("b") });
    expect((await store.load(5)).header.stateHash).toEqual(Buffer.concat([Buffer.from([1, 2, 3]), Buffer.alloc(25)]));
    await expect(store.write({ lsn: 6, stateFormatVersion: 1, stateHash: Buffer.alloc(29), body: Buffer.from("b") })).rejects.toThrow(RangeError);
  });

  it("writes temp, syncs, renames, then syncs the directory", async () => {
    const { layer, store } = await freshStore();
    const from = layer.trace.length;
    await writeAt(store, 20);
    const tmp = `${checkpointFileName(20)}.tmp`;
    expect(layer.trace.slice(from)).toEqual([
      `create ${tmp}`,
      `writev ${tmp}`,
      `sync ${tmp}`,
      `rename ${tmp}`,
      "syncDir checkpoints",
    ]);
  });

  // DURABILITY.md catalog 6, at the store level.
  it("leaves the whole new checkpoint or nothing new, whatever step a crash hits", async () => {
    const probe = await storeWith([10]);
    const before = probe.layer.opCount;
    await writeAt(probe.store, 20);
    const steps = probe.layer.opCount - before;
    expect(steps).toBe(5);
    const RENAME = 4;
    const SYNC_DIR = 5;
    const tmp = `${fileAt(20)}.tmp`;

    const FATES = { "power loss: drop": "drop", "power loss: prefix": "prefix", "power loss: zeros": "zeros" } as const;
    const restarts = ["process crash", ...(Object.keys(FATES) as (keyof typeof FATES)[])] as const;
    let checked = 0;
    for (let n = 1; n <= steps + 1; n++) {
      for (const restart of restarts) {
        const where = `crash before op ${n}, then ${restart}`;
        const { layer, store } = await storeWith([10]);
        layer.crashBeforeOp(layer.opCount + n);
        const attempt = writeAt(store, 20);
        if (n <= steps) {
          const error = await rejectionOf(attempt);
          expect(error, where).toBeInstanceOf(CheckpointWriteError);
          expect((error as CheckpointWriteError).cause, where).toBeInstanceOf(SimulatedCrash);
        } else {
          await attempt;
        }

        const next =
          restart === "process crash"
            ? layer.afterProcessCrash()
            : layer.afterPowerLoss(FATES[restart], () => 0.5);
        // The temp file outlives only a process crash between its create and its rename.
        expect(next.exists(tmp), where).toBe(restart === "process crash" && n > 1 && n <= RENAME);

        const reopened = new CheckpointStore(next, DIR, codec, 3);
        await reopened.open();
        expect((await next.readdir(DIR)).filter((name) => name.endsWith(".tmp")), where).toEqual([]);

        const survived = restart === "process crash" ? n > RENAME : n > SYNC_DIR;
        expect(await reopened.list(), where).toEqual(survived ? [20, 10] : [10]);
        if (survived) expect((await reopened.load(20)).body.equals(bodyFor(20)), where).toBe(true);
        expect((await reopened.load(10)).body.equals(bodyFor(10)), where).toBe(true);

        // The WAL never saw CHECKPOINT_COMPLETE for 20: recovery uses 10.
        const selection = await reopened.selectNewestValid(new Set([10]));
        expect(selection.chosen?.lsn, where).toBe(10);
        expect(selection.rejected, where).toEqual(survived ? [{ fileName: checkpointFileName(20), reason: NOT_COMMITTED }] : []);

        // And the store keeps working: the checkpoint can be written again.
        await writeAt(reopened, 20);
        expect((await reopened.load(20)).body.equals(bodyFor(20)), where).toBe(true);
        checked += 1;
      }
    }
    expect(checked).toBe((steps + 1) * restarts.length);
  });

  // DURABILITY.md catalog 9, for checkpoints.
  it("loses a checkpoint to power loss until its directory entry is synced", async () => {
    const unsynced = await storeWith([10]);
    unsynced.layer.crashBeforeOp(unsynced.layer.opCount + 5); // the syncDir
    await expect(writeAt(unsynced.store, 20)).rejects.toMatchObject({ step: "syncDir" });
    expect(unsynced.layer.exists(fileAt(20))).toBe(true);
    expect(unsynced.layer.afterPowerLoss("drop").exists(fileAt(20))).toBe(false);

    const synced = await storeWith([10, 20]);
    const after = new CheckpointStore(synced.layer.afterPowerLoss("drop"), DIR, codec, 3);
    await after.open();
    expect(await after.list()).toEqual([20, 10]);
    expect((await after.load(20)).body.equals(bodyFor(20))).toBe(true);
  });

  it("open() removes temp files, keeps everything else and syncs both directories", async () => {
    const { layer, store } = await storeWith([10]);
    for (const name of [`${checkpointFileName(20)}.tmp`, "stray.tmp"]) {
      const handle = await layer.open(path.join(DIR, name), "create");
      await handle.writev([Buffer.from("half a checkpoint")], 0);
    }
    const from = layer.trace.length;
    await store.open();
    expect(await layer.readdir(DIR)).toEqual([checkpointFileName(10)]);
    // The data directory is synced too, so the checkpoints directory's own entry survives a power loss.
    expect(layer.trace.slice(from)).toEqual([
      "syncDir data",
      `unlink ${checkpointFileName(20)}.tmp`,
      "unlink stray.tmp",
      "syncDir checkpoints",
    ]);
    // The removal itself is durable.
    expect(await layer.afterPowerLoss("drop").readdir(DIR)).toEqual([checkpointFileName(10)]);
  });

  it("replaces a stale temp file left by a write that died", async () => {
    const { layer, store } = await freshStore();
    const tmp = `${fileAt(20)}.tmp`;
    const handle = await layer.open(tmp, "create");
    await handle.writev([randomBytes(5000)], 0);
    await writeAt(store, 20);
    expect(layer.exists(tmp)).toBe(false);
    expect((await store.load(20)).body.equals(bodyFor(20))).toBe(true);
  });

  it.each([
    ["writev", "ENOSPC", "write"],
    ["sync", "EIO", "sync"],
    ["create", "EIO", "create"],
  ] as const)("reports %s %s as a failed %s step and leaves no temp file", async (op, code, step) => {
    const { layer, store } = await storeWith([10]);
    layer.inject(op, code, { path: /\.tmp$/ });
    const error = await rejectionOf(writeAt(store, 20));
    expect(error).toBeInstanceOf(CheckpointWriteError);
    expect(error).toMatchObject({ step, fileName: checkpointFileName(20), cause: { code } });
    expect(await layer.readdir(DIR)).toEqual([checkpointFileName(10)]);
  });

  // DURABILITY.md catalog 7, at the store level.
  describe("when the newest committed checkpoint is bad", () => {
    const NEWEST = 30;

    /** Rewrites the newest file with a valid header CRC, so only the checks behind it can catch the change. */
    async function reheadered(
      layer: MemoryFileLayer,
      change: (header: CheckpointFileHeader, compressed: Buffer) => Buffer,
    ): Promise<void> {
      const { header, hashed } = parseCheckpointFile(layer.peek(fileAt(NEWEST)));
      const compressed = change(header, hashed);
      layer.poke(fileAt(NEWEST), Buffer.concat([encodeCheckpointPrefix(header), compressed]));
    }

    const corruptions: [string, (layer: MemoryFileLayer) => Promise<void>, string | RegExp][] = [
      [
        "a flipped body byte (bad SHA-256)",
        async (layer) => {
          const raw = layer.peek(fileAt(NEWEST));
          raw[raw.length - 12]! ^= 0x40;
          layer.poke(fileAt(NEWEST), raw);
        },
        "SHA-256 mismatch over the compressed body",
      ],
      [
        "a torn file",
        async (layer) => layer.poke(fileAt(NEWEST), layer.peek(fileAt(NEWEST)).subarray(0, 300)),
        /^truncated: 300 bytes, header promises \d+$/,
      ],
      [
        "truncated gzip under a consistent header",
        (layer) =>
          reheadered(layer, (header, compressed) => {
            const cut = compressed.subarray(0, compressed.length >> 1);
            header.compressedBytes = cut.length;
            header.sha256 = createHash("sha256").update(cut).digest();
            return cut;
          }),
        "gzip: unexpected end of file",
      ],
      [
        // gzip's own CRC-32 cannot catch this: only the SHA-256 can.
        "another valid gzip body under the stale SHA-256",
        (layer) =>
          reheadered(layer, (header) => {
            const other = Buffer.concat([deflateRawSync(bodyFor(99)), encodeGzipTrailer(crc32(bodyFor(99)), bodyFor(99).length)]);
            header.compressedBytes = other.length;
            header.bodyBytes = bodyFor(99).length;
            return other;
          }),
        "SHA-256 mismatch over the compressed body",
      ],
      [
        "garbage gzip under a consistent header",
        (layer) =>
          reheadered(layer, (header, compressed) => {
            const junk = randomBytes(compressed.length);
            header.sha256 = createHash("sha256").update(junk).digest();
            return junk;
          }),
        /^gzip: /,
      ],
      [
        "bytes after the body",
        async (layer) => layer.poke(fileAt(NEWEST), Buffer.concat([layer.peek(fileAt(NEWEST)), Buffer.alloc(512)])),
        "512 unexpected bytes after the body",
      ],
      ["an empty file", async (layer) => layer.poke(fileAt(NEWEST), Buffer.alloc(0)), "empty file"],
      [
        "a garbage header",
        async (layer) => {
          const raw = layer.peek(fileAt(NEWEST));
          Buffer.concat([Buffer.from("xx"), randomBytes(CHECKPOINT_HEADER_BYTES)]).copy(raw);
          layer.poke(fileAt(NEWEST), raw);
        },
        "not a T4DM checkpoint (neither a gzip member nor the version-1 magic)",
      ],
      [
        "a flipped header byte",
        async (layer) => {
          const raw = layer.peek(fileAt(NEWEST));
          raw[33]! ^= 0x01;
          layer.poke(fileAt(NEWEST), raw);
        },
        "checkpoint header checksum mismatch",
      ],
      [
        "a header that understates the body",
        (layer) =>
          reheadered(layer, (header, compressed) => {
            header.bodyBytes -= 1;
            return compressed;
          }),
        /^body is larger than the \d+ bytes the header says$/,
      ],
      [
        "a header that overstates the body",
        (layer) =>
          reheadered(layer, (header, compressed) => {
            header.bodyBytes += 1;
            return compressed;
          }),
        /^body is \d+ bytes, header says \d+$/,
      ],
      [
        "another checkpoint's file under its name",
        async (layer) => layer.poke(fileAt(NEWEST), layer.peek(fileAt(20))),
        `header says LSN 20, file name says ${NEWEST}`,
      ],
      ["a missing file", (layer) => layer.unlink(fileAt(NEWEST)), "missing"],
    ];

    it.each(corruptions)("falls back past %s and says why", async (_, corrupt, reason) => {
      const { layer, store } = await storeWith([10, 20, NEWEST]);
      await corrupt(layer);

      const error = await rejectionOf(store.load(NEWEST));
      expect(error).toBeInstanceOf(CheckpointInvalidError);
      expect((error as CheckpointInvalidError).fileName).toBe(checkpointFileName(NEWEST));
      expect((error as CheckpointInvalidError).reason).toMatch(reason);

      const { chosen, rejected } = await store.selectNewestValid(new Set([10, 20, NEWEST]));
      expect(chosen?.lsn).toBe(20);
      expect(chosen?.fileName).toBe(checkpointFileName(20));
      expect(chosen?.body.equals(bodyFor(20))).toBe(true);
      expect(chosen?.header.stateHash.equals(stateHashFor(20))).toBe(true);
      expect(rejected).toHaveLength(1);
      expect(rejected[0]?.fileName).toBe(checkpointFileName(NEWEST));
      expect(rejected[0]?.reason).toMatch(reason);
    });

    it("falls back as far as it must, reporting every rejection newest first", async () => {
      const { layer, store } = await storeWith([10, 20, NEWEST]);
      layer.poke(fileAt(NEWEST), Buffer.alloc(0));
      const raw = layer.peek(fileAt(20));
      raw[raw.length - 1]! ^= 0xff;
      layer.poke(fileAt(20), raw);

      const { chosen, rejected } = await store.selectNewestValid(new Set([10, 20, NEWEST]));
      expect(chosen?.lsn).toBe(10);
      expect(rejected).toEqual([
        { fileName: checkpointFileName(NEWEST), reason: "empty file" },
        { fileName: checkpointFileName(20), reason: "SHA-256 mismatch over the compressed body" },
      ]);
    });

    it("chooses nothing when nothing committed loads", async () => {
      const { layer, store } = await storeWith([10, 20]);
      layer.poke(fileAt(10), Buffer.alloc(0));
      await layer.unlink(fileAt(20));
      const selection = await store.selectNewestValid(new Set([10, 20]));
      expect(selection.chosen).toBeUndefined();
      expect(selection.rejected.map((r) => r.reason)).toEqual(["missing", "empty file"]);
    });
  });

  it("passes over uncommitted files newer than the choice and ignores older ones", async () => {
    const { store } = await storeWith([5, 10, 20, 30]);
    const { chosen, rejected } = await store.selectNewestValid(new Set([10, 20]));
    expect(chosen?.lsn).toBe(20);
    expect(rejected).toEqual([{ fileName: checkpointFileName(30), reason: NOT_COMMITTED }]);

    const none = await store.selectNewestValid(new Set());
    expect(none.chosen).toBeUndefined();
    expect(none.rejected.map((r) => r.fileName)).toEqual([30, 20, 10, 5].map(checkpointFileName));
  });

  it("reports a committed checkpoint whose file is gone as missing", async () => {
    const { store } = await storeWith([10, 20]);
    const { chosen, rejected } = await store.selectNewestValid(new Set([10, 20, 40]));
    expect(chosen?.lsn).toBe(20);
    expect(rejected).toEqual([{ fileName: checkpointFileName(40), reason: "missing" }]);
  });

  describe("prune", () => {
    it("keeps the newest `keep` committed, deletes older files and older uncommitted ones, syncing once", async () => {
      const { layer, store } = await storeWith([5, 10, 20, 25, 30, 40, 50, 60], 2);
      const from = layer.trace.length;
      const result = await store.prune(new Set([10, 20, 30, 40, 50]));

      expect(result.oldestKeptLsn).toBe(40);
      expect(result.deleted).toEqual([5, 10, 20, 25, 30].map(checkpointFileName));
      // 60 is newer than everything committed: its CHECKPOINT_COMPLETE may be in flight.
      expect(await store.list()).toEqual([60, 50, 40]);
      const ops = layer.trace.slice(from);
      expect(ops.filter((op) => op.startsWith("syncDir"))).toEqual(["syncDir checkpoints"]);
      expect(ops.at(-1)).toBe("syncDir checkpoints");
      // The deletions are durable.
      expect(await new CheckpointStore(layer.afterPowerLoss("drop"), DIR, codec, 2).list()).toEqual([60, 50, 40]);
    });

    it("keeps every committed one when there are fewer than `keep`", async () => {
      const { store } = await storeWith([5, 10, 20], 3);
      const result = await store.prune(new Set([10]));
      expect(result).toEqual({ deleted: [checkpointFileName(5)], oldestKeptLsn: 10 });
      expect(await store.list()).toEqual([20, 10]);
    });

    it("deletes nothing, and touches nothing, while nothing is committed", async () => {
      const { layer, store } = await storeWith([10, 20], 1);
      const from = layer.trace.length;
      expect(await store.prune(new Set())).toEqual({ deleted: [], oldestKeptLsn: undefined });
      expect(layer.trace.slice(from)).toEqual([]);
      expect(await store.list()).toEqual([20, 10]);
    });

    it("leaves the newest valid checkpoint selectable", async () => {
      const { store } = await storeWith([10, 20, 30, 40], 2);
      const committed = new Set([10, 20, 30, 40]);
      await store.prune(committed);
      expect((await store.selectNewestValid(committed)).chosen?.lsn).toBe(40);
      expect(await store.list()).toEqual([40, 30]);
    });
  });

  it("loads a checkpoint in the legacy layout (format version 1), and falls back past a corrupt one", async () => {
    const { layer, store } = await storeWith([10, 20, 30]);
    layer.poke(fileAt(30), legacyCheckpointFile({ lsn: 30, stateFormatVersion: 3, stateHash: stateHashFor(30), body: bodyFor(30) }));
    const { header, body } = await store.load(30);
    expect(header.formatVersion).toBe(1);
    expect(body.equals(bodyFor(30))).toBe(true);
    expect((await store.selectNewestValid(new Set([10, 20, 30]))).chosen?.lsn).toBe(30);

    const raw = layer.peek(fileAt(30));
    raw[CHECKPOINT_HEADER_BYTES + 20]! ^= 0x01;
    layer.poke(fileAt(30), raw);
    const { chosen, rejected } = await store.selectNewestValid(new Set([10, 20, 30]));
    expect(chosen?.lsn).toBe(20);
    expect(rejected).toEqual([{ fileName: checkpointFileName(30), reason: "SHA-256 mismatch over the compressed body" }]);
  });

  it("refuses a keep count below one", () => {
    expect(() => new CheckpointStore(new MemoryFileLayer(), DIR, codec, 0)).toThrow(RangeError);
  });
});

const run = promisify(execFile);

describe("CheckpointStore on the real file system", () => {
  let root: string | undefined;
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true });
    root = undefined;
  });

  it("writes, lists, loads, cleans temp files, falls back and prunes", async () => {
    root = await mkdtemp(path.join(tmpdir(), "t4dm-checkpoints-"));
    const dir = checkpointDirectory(root);
    const layer = new NodeFileLayer();
    await mkdir(dir);
    await writeFile(path.join(dir, `${checkpointFileName(7)}.tmp`), "torn");

    const store = new CheckpointStore(layer, dir, codec, 1);
    await store.open();
    expect(await readdir(dir)).toEqual([]);

    await writeAt(store, 7);
    const written = await writeAt(store, 9);
    expect((await readdir(dir)).sort()).toEqual([checkpointFileName(7), checkpointFileName(9)]);
    expect(await store.list()).toEqual([9, 7]);

    const file = path.join(dir, checkpointFileName(9));
    const raw = await readFile(file);
    const { header } = parseCheckpointFile(raw);
    expect(header.lsn).toBe(9);
    expect(header.sha256.equals(written.sha256)).toBe(true);
    expect((await store.load(9)).body.equals(bodyFor(9))).toBe(true);
    // What an operator reaches for: the file is plain gzip to standard tools.
    await run("gzip", ["-t", file]);
    expect((await run("sh", ["-c", 'zcat "$1" | wc -c', "sh", file])).stdout.trim()).toBe(String(bodyFor(9).length));
    expect((await run("zcat", [file], { encoding: "buffer" })).stdout.equals(bodyFor(9))).toBe(true);

    const committed = new Set([7, 9]);
    raw[raw.length - 5]! ^= 0x01;
    await writeFile(path.join(dir, checkpointFileName(9)), raw);
    const selection = await store.selectNewestValid(committed);
    expect(selection.chosen?.lsn).toBe(7);
    expect(selection.rejected).toEqual([
      { fileName: checkpointFileName(9), reason: "SHA-256 mismatch over the compressed body" },
    ]);

    expect(await store.prune(committed)).toEqual({ deleted: [checkpointFileName(7)], oldestKeptLsn: 9 });
    expect(await readdir(dir)).toEqual([checkpointFileName(9)]);
  });
});
