import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { walV1 } from "@t4dm/proto";
import {
  CHECKPOINT_GZIP_PREFIX_BYTES,
  checkpointFileName,
  encodeRecord,
  encodeSegmentHeader,
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
  segmentFileName,
} from "@t4dm/wal-format";
import { afterEach, describe, expect, it } from "vitest";
import { checkCheckpoint } from "../src/cli/checkpoint-check.js";
import { parseCliArgs } from "../src/cli/parse-args.js";
import { UsageError } from "../src/cli/cli-errors.js";
import { CHECKPOINT_LAYOUTS, gzipCheckpointFile } from "./support/checkpoint-files.js";

// The built tool, run as a real process (`make test` builds before testing).
const CLI = path.resolve(import.meta.dirname, "../dist/cli.js");
const TIME = new Date("2025-01-02T03:04:05.000Z");

interface Entry {
  opType: number;
  payload: Uint8Array;
  entry: walV1.WalEntry;
}

function entry(operation: NonNullable<walV1.WalEntry["operation"]>, opType?: number): Entry {
  const value: walV1.WalEntry = { time: TIME, operation };
  const field = walV1.operationFromJSON(`OPERATION_${operation.$case.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`);
  return { opType: opType ?? field, payload: walV1.WalEntry.encode(value).finish(), entry: value };
}

const start = (version: string) => entry({ $case: "systemStart", value: { version, recoveryMode: "cold", recoveredLsn: 0, seed: 0, embeddingDim: 0, bufferCapacity: 0, defaultRetention: 0, learningScope: 0, maxScorerAdaptations: 0 } });
const remove = (memoryId: string) =>
  entry({ $case: "bufferRemove", value: { memoryId, reason: walV1.RemovalReason.REMOVAL_REASON_CAPACITY } });
const commit = (lsn: number) =>
  entry({ $case: "checkpointComplete", value: { checkpointLsn: lsn, fileName: checkpointFileName(lsn), sha256: Buffer.alloc(32), stateHash: Buffer.alloc(0) } });

interface BuiltSegment {
  file: string;
  /** Where each record starts. */
  offsets: number[];
  size: number;
}

interface Fixture {
  dataDir: string;
  segments: BuiltSegment[];
  checkpoints: string[];
}

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A data directory with segments of consecutive LSNs from 1 and checkpoint files of the given bodies. */
async function buildDataDir(segments: Entry[][], checkpoints: { lsn: number; body: Buffer }[] = []): Promise<Fixture> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "t4dm-wal-cli-"));
  dirs.push(dataDir);
  await mkdir(path.join(dataDir, "wal"));
  await mkdir(path.join(dataDir, "checkpoints"));
  const built: BuiltSegment[] = [];
  let lsn = 1;
  for (const [i, entries] of segments.entries()) {
    const salt = 0x5a5a0000 + i;
    const parts = [encodeSegmentHeader({ salt, index: i + 1, firstLsn: lsn })];
    const offsets: number[] = [];
    let offset = SEGMENT_HEADER_BYTES;
    for (const e of entries) {
      const frame = encodeRecord({ lsn: lsn++, opType: e.opType, payload: e.payload }, salt);
      offsets.push(offset);
      offset += frame.length;
      parts.push(frame);
    }
    const file = path.join(dataDir, "wal", segmentFileName(i + 1));
    await writeFile(file, Buffer.concat(parts));
    built.push({ file, offsets, size: offset });
  }
  const files: string[] = [];
  for (const { lsn: at, body } of checkpoints) {
    const file = path.join(dataDir, "checkpoints", checkpointFileName(at));
    await writeFile(file, gzipCheckpointFile({ lsn: at, stateFormatVersion: 1, body, stateHash: Buffer.from("abcd", "hex") }));
    files.push(file);
  }
  return { dataDir, segments: built, checkpoints: files };
}

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function flipByte(file: string, offset: number): Promise<void> {
  const bytes = await readFile(file);
  bytes[offset]! ^= 0x01;
  await writeFile(file, bytes);
}

/** Two segments (LSN 1..3 and 4..5) and a checkpoint at LSN 3. */
const standard = () => buildDataDir([[start("a"), remove("m-2"), remove("m-3")], [commit(3), remove("m-5")]], [{ lsn: 3, body: Buffer.from("state at 3") }]);

describe("t4dm-wal verify", () => {
  it("exits 0 on a clean data directory and prints every segment and checkpoint", async () => {
    const { dataDir, segments } = await standard();
    const { code, stdout, stderr } = run("verify", dataDir);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`segment_00000001.wal  index 1  LSN 1..3  3 records  ${segments[0]!.size} bytes  ok`);
    expect(lines[1]).toBe(`segment_00000002.wal  index 2  LSN 4..5  2 records  ${segments[1]!.size} bytes  ok`);
    expect(lines[2]).toMatch(/^checkpoint_0000000000000003\.bin\.gz {2}LSN 3 {2}\d+ bytes \(compressed \d+, body 10\) {2}SHA-256 ok {2}committed at LSN 4 {2}ok$/);
    expect(lines.slice(3)).toEqual([
      "wal: clean (LSN 1..5 in 2 segments)",
      "checkpoints: 1 file, all verify",
      "payloads: 5 records decode and match their op type",
      "result: clean",
    ]);
  });

  it("exits 1 on a torn tail and names the file, the offset and the bytes recovery would cut", async () => {
    const { dataDir, segments } = await standard();
    const last = segments[1]!;
    const cutAt = last.offsets[1]!;
    await truncate(last.file, last.size - 3); // mid-record: the last frame loses its final 3 bytes
    const { code, stdout } = run("verify", dataDir);
    expect(code).toBe(1);
    expect(stdout).toContain(`segment_00000002.wal  index 2  LSN 4..4  1 record  ${last.size - 3} bytes  invalid frame at offset ${cutAt}: record length`);
    expect(stdout).toContain(
      `wal: torn tail: recovery would cut segment_00000002.wal at offset ${cutAt}, dropping ${last.size - 3 - cutAt} bytes: record length`,
    );
    expect(stdout).toContain("result: torn tail (exit 1)");
  });

  it("exits 2 on a bit flip in a sealed segment, naming the file, offset and LSN", async () => {
    const { dataDir, segments } = await standard();
    const sealed = segments[0]!;
    await flipByte(sealed.file, sealed.offsets[1]! + RECORD_HEADER_BYTES + 2); // inside LSN 2's payload
    const { code, stdout } = run("verify", dataDir);
    expect(code).toBe(2);
    expect(stdout).toContain(
      `wal: corrupt: segment_00000001.wal at offset ${sealed.offsets[1]}, LSN 2: sealed segment: record checksum mismatch (recovery would refuse to start)`,
    );
    expect(stdout).toContain(`invalid frame at offset ${sealed.offsets[1]}: record checksum mismatch; a valid record (LSN 3) follows at offset ${sealed.offsets[2]}`);
    expect(stdout).toContain("result: corrupt (exit 2)");
  });

  it("exits 2 when a checkpoint's SHA-256 does not match, and says which file", async () => {
    const { dataDir, checkpoints } = await standard();
    await flipByte(checkpoints[0]!, CHECKPOINT_GZIP_PREFIX_BYTES + 12);
    const { code, stdout } = run("verify", dataDir);
    expect(code).toBe(2);
    expect(stdout).toMatch(/checkpoint_0000000000000003\.bin\.gz {2}LSN 3 .* SHA-256 bad {2}committed at LSN 4 {2}BAD: SHA-256 mismatch over the compressed body/);
    expect(stdout).toContain("wal: clean (LSN 1..5 in 2 segments)");
    expect(stdout).toContain("checkpoints: corrupt: checkpoint_0000000000000003.bin.gz: SHA-256 mismatch over the compressed body");

    const listed = run("checkpoints", dataDir);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain("checkpoint_0000000000000003.bin.gz  BAD: SHA-256 mismatch over the compressed body  committed at LSN 4");
    expect(listed.stdout).toContain("  lsn 3  state format 1  ");
    expect(listed.stdout).toContain("  state hash abcd");
  });

  it("exits 2 when a frame's op type differs from its payload's operation", async () => {
    const { dataDir, segments } = await buildDataDir([[start("a"), entry({ $case: "systemShutdown", value: { reason: "x" } }, walV1.Operation.OPERATION_BUFFER_ADD)]]);
    const { code, stdout } = run("verify", dataDir);
    expect(code).toBe(2);
    expect(stdout).toContain("wal: clean (LSN 1..2 in 1 segment)");
    expect(stdout).toContain(
      `payloads: corrupt: segment_00000001.wal at offset ${segments[0]!.offsets[1]}, LSN 2: frame op is OPERATION_BUFFER_ADD (10) but the payload holds systemShutdown (field 201)`,
    );
  });

  it("exits 2 when the WAL does not reach back to the newest valid committed checkpoint", async () => {
    // Checkpoint 1 was committed at LSN 4, after LSNs 2 and 3 were logged.
    const early = await buildDataDir([[start("a"), remove("m-2")], [remove("m-3"), commit(1)]], [{ lsn: 1, body: Buffer.from("s") }]);
    expect(run("verify", early.dataDir).code).toBe(0);
    await rm(early.segments[0]!.file);
    const gap = run("verify", early.dataDir);
    expect(gap.code).toBe(2);
    expect(gap.stdout).toContain("coverage: corrupt: the WAL starts at LSN 3 but the newest valid committed checkpoint is at LSN 1: LSN 2 is in no valid checkpoint or segment");

    const { dataDir, segments, checkpoints } = await standard();
    await rm(segments[0]!.file); // truncated after the checkpoint at LSN 3: fine while it verifies
    expect(run("verify", dataDir).code).toBe(0);
    await flipByte(checkpoints[0]!, 104 + 5); // fault 7 with nothing to fall back to
    const { code, stdout } = run("verify", dataDir);
    expect(code).toBe(2);
    expect(stdout).toContain("coverage: corrupt: the WAL starts at LSN 4 but there is no valid committed checkpoint: LSNs 1..3 are in no valid checkpoint or segment");
    await rm(path.join(dataDir, "checkpoints"), { recursive: true });
    expect(run("verify", dataDir).stdout).toContain("checkpoints: none (no checkpoints/ directory)");
  });

  it("shows whether a CHECKPOINT_COMPLETE commits each checkpoint; an uncommitted one is no damage", async () => {
    const body = Buffer.from("state");
    const { dataDir } = await buildDataDir([[start("a"), remove("m-2"), commit(2), remove("m-4")]], [{ lsn: 2, body }, { lsn: 4, body }]);
    const { code, stdout } = run("verify", dataDir);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^checkpoint_0000000000000002\.bin\.gz .* SHA-256 ok {2}committed at LSN 3 {2}ok$/m);
    expect(stdout).toMatch(/^checkpoint_0000000000000004\.bin\.gz .* SHA-256 ok {2}not committed {2}ok$/m);
    const listed = run("checkpoints", dataDir).stdout;
    expect(listed).toContain("checkpoint_0000000000000002.bin.gz  ok  committed at LSN 3\n");
    expect(listed).toContain("checkpoint_0000000000000004.bin.gz  ok  not committed\n");
  });

  it("exits 0 on an empty data directory and 66 on a missing one", async () => {
    const empty = await mkdtemp(path.join(tmpdir(), "t4dm-wal-cli-"));
    dirs.push(empty);
    const ok = run("verify", empty);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("wal: clean (no segments)");
    const missing = run("verify", path.join(empty, "nope"));
    expect(missing.code).toBe(66);
    expect(missing.stderr).toContain("cannot read data directory");
  });
});

describe("t4dm-wal segments", () => {
  it("lists segments and the other files in wal/", async () => {
    const { dataDir, segments } = await standard();
    await writeFile(path.join(dataDir, "wal", "segment_00000003.wal.tmp"), "");
    await writeFile(path.join(dataDir, "wal", "segment_00000002.wal.96.broken"), "x");
    const { code, stdout } = run("segments", dataDir);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n").map((line) => line.split(/ {2,}/));
    expect(lines).toEqual([
      ["FILE", "INDEX", "FIRST_LSN", "LAST_LSN", "RECORDS", "BYTES", "VALID_END", "STATUS"],
      ["segment_00000001.wal", "1", "1", "3", "3", String(segments[0]!.size), String(segments[0]!.size), "ok"],
      ["segment_00000002.wal", "2", "4", "5", "2", String(segments[1]!.size), String(segments[1]!.size), "ok"],
      ["segment_00000002.wal.96.broken", "bytes a tail repair cut off (kept for salvage)"],
      ["segment_00000003.wal.tmp", "temp file of an interrupted segment cut (the sidecar removes it on open)"],
    ]);
  });
});

describe("t4dm-wal records", () => {
  it("prints LSN, op, size and the decoded entry from --from, up to --limit, across segments", async () => {
    const { dataDir } = await standard();
    const { code, stdout, stderr } = run("records", dataDir, "--from", "3", "--limit", "2");
    expect(code).toBe(0);
    expect(stderr).toBe("");
    const [third, fourth] = [remove("m-3"), commit(3)];
    expect(stdout).toBe(
      [
        `3 OPERATION_BUFFER_REMOVE ${third.payload.length}B {"time":"2025-01-02T03:04:05.000Z","bufferRemove":{"memoryId":"m-3","reason":"REMOVAL_REASON_CAPACITY"}}`,
        `4 OPERATION_CHECKPOINT_COMPLETE ${fourth.payload.length}B ${JSON.stringify(walV1.WalEntry.toJSON(fourth.entry))}`,
        "",
      ].join("\n"),
    );
  });

  it("prints one JSON object per record with --json and honours --to", async () => {
    const { dataDir, segments } = await standard();
    const { code, stdout } = run("records", dataDir, "--to", "2", "--json");
    expect(code).toBe(0);
    const rows = stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows).toEqual([
      { lsn: 1, op: "OPERATION_SYSTEM_START", payloadBytes: start("a").payload.length, file: "segment_00000001.wal", offset: segments[0]!.offsets[0], entry: walV1.WalEntry.toJSON(start("a").entry) },
      { lsn: 2, op: "OPERATION_BUFFER_REMOVE", payloadBytes: remove("m-2").payload.length, file: "segment_00000001.wal", offset: segments[0]!.offsets[1], entry: { time: TIME.toISOString(), bufferRemove: { memoryId: "m-2", reason: "REMOVAL_REASON_CAPACITY" } } },
    ]);
  });

  it("prints both WAL formats' vectors as numbers: repeated floats (older records) and packed float32 (REMEMBER)", async () => {
    const vector = [0.5, -0.25, 1];
    const memory = (id: string, packed: boolean): walV1.MemoryRecord =>
      walV1.MemoryRecord.fromPartial(packed ? { id, embeddingF32: new Uint8Array(Float32Array.from(vector).buffer) } : { id, embedding: vector });
    const old = entry({ $case: "bufferAdd", value: { memory: memory("m-old", false) } });
    const remember = entry({
      $case: "remember",
      value: walV1.Remember.fromPartial({
        clusterUpdate: { namespace: "ns", clusterId: 1, centroidF32: new Uint8Array(Float32Array.from(vector).buffer), memberCount: 1 },
        memory: memory("m-new", true),
      }),
    });
    const { dataDir } = await buildDataDir([[start("a"), old, remember]]);
    const { code, stdout } = run("records", dataDir, "--from", "2", "--json");
    expect(code).toBe(0);
    const [first, second] = stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as { op: string; entry: Record<string, Record<string, Record<string, unknown>>> });
    expect(first!.op).toBe("OPERATION_BUFFER_ADD");
    expect(first!.entry.bufferAdd!.memory).toMatchObject({ id: "m-old", embedding: vector });
    expect(second!.op).toBe("OPERATION_REMEMBER");
    expect(second!.entry.remember!.memory).toMatchObject({ id: "m-new", embeddingF32: vector });
    expect(second!.entry.remember!.clusterUpdate).toMatchObject({ centroidF32: vector });
    expect(run("verify", dataDir).code).toBe(0);
  });

  it("stops at the first invalid frame and says why", async () => {
    const { dataDir, segments } = await standard();
    await flipByte(segments[0]!.file, segments[0]!.offsets[1]! + 4); // LSN 2's length field
    const { code, stdout, stderr } = run("records", dataDir);
    expect(code).toBe(0);
    expect(stdout.trimEnd().split("\n").map((line) => line.split(" ")[0])).toEqual(["1"]);
    expect(stderr).toMatch(new RegExp(`^stopped at segment_00000001\\.wal offset ${segments[0]!.offsets[1]} \\(LSN 2\\): `));
    // A stop beyond the requested range is not worth a word.
    expect(run("records", dataDir, "--to", "1").stderr).toBe("");
  });

  it("marks a record whose payload does not match its frame", async () => {
    const { dataDir } = await buildDataDir([[entry({ $case: "systemShutdown", value: { reason: "x" } }, 999)]]);
    const { stdout } = run("records", dataDir);
    expect(stdout).toMatch(/^1 UNRECOGNIZED\(999\) \d+B \{.*"systemShutdown":\{"reason":"x"\}\} !! frame op is UNRECOGNIZED\(999\) \(999\) but the payload holds systemShutdown \(field 201\)\n$/);
  });
});

describe("t4dm-wal command line", () => {
  it("prints usage on --help and exits 0", () => {
    const { code, stdout } = run("--help");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: t4dm-wal <command> <dataDir> \[options\]/);
  });

  it.each([[["frobnicate", "/tmp"]], [[]], [["verify"]], [["verify", "/tmp", "--json"]], [["records", "/tmp", "--limit", "0"]], [["records", "/tmp", "--from", "x"]], [["segments", "/tmp", "extra"]]])(
    "exits 64 with usage on stderr for %j",
    (args) => {
      const { code, stdout, stderr } = run(...args);
      expect(code).toBe(64);
      expect(stdout).toBe("");
      expect(stderr).toMatch(/^t4dm-wal: .+\n\nUsage: t4dm-wal/);
    },
  );

  it("parses options in both spellings and rejects a backwards range", () => {
    expect(parseCliArgs(["records", "d", "--from=2", "--to", "9", "--limit", "3"])).toEqual({
      command: "records",
      dataDir: "d",
      options: { from: 2, to: 9, limit: 3, json: false },
    });
    expect(() => parseCliArgs(["records", "d", "--from", "5", "--to", "4"])).toThrow(UsageError);
  });
});

describe.each(CHECKPOINT_LAYOUTS)("checkCheckpoint, %s layout", (_, encode) => {
  const build = (body: Buffer, lie: Partial<{ bodyBytes: number }> = {}) =>
    encode({ lsn: 7, stateFormatVersion: 2, body, stateHash: Buffer.alloc(0), bodyBytesClaimed: lie.bodyBytes });

  it("accepts a good file and rejects a wrong name, a truncated body and a lying body length", () => {
    const good = build(Buffer.alloc(1000, 7));
    expect(checkCheckpoint("c", 7, good)).toMatchObject({ sha256: "ok", body: "ok", header: { lsn: 7, stateFormatVersion: 2, bodyBytes: 1000 } });
    expect(checkCheckpoint("c", 7, good).problem).toBeUndefined();
    expect(checkCheckpoint("c", 8, good).problem).toBe("header LSN 7 does not match the file name");
    expect(checkCheckpoint("c", 7, good.subarray(0, good.length - 1)).problem).toMatch(/^truncated: /);
    expect(checkCheckpoint("c", 7, good.subarray(0, 50)).problem).toMatch(/^checkpoint (gzip )?header truncated \(50 bytes\)$/);
    expect(checkCheckpoint("c", 7, Buffer.alloc(0)).problem).toBe("empty file");
    // A body longer than the header admits stops at the cap instead of inflating.
    expect(checkCheckpoint("c", 7, build(Buffer.alloc(1000, 7), { bodyBytes: 10 })).problem).toBe(
      "body decompresses to more than the 10 bytes the header gives",
    );
    expect(checkCheckpoint("c", 7, build(Buffer.alloc(1000, 7), { bodyBytes: 2000 })).problem).toBe("body decompresses to 1000 bytes, header gives 2000");
  });
});

describe.each(CHECKPOINT_LAYOUTS)("t4dm-wal checkpoint <file>, %s layout", (layout, encode) => {
  const write = async (name: string, bytes: Buffer) => {
    const dir = await mkdtemp(path.join(tmpdir(), "t4dm-cli-ckpt-"));
    dirs.push(dir);
    const file = path.join(dir, name);
    await writeFile(file, bytes);
    return file;
  };
  const good = () => encode({ lsn: 9, stateFormatVersion: 3, body: Buffer.from("state at 9"), stateHash: Buffer.from("abcd", "hex") });

  it("exits 0 on a file that verifies, under any name, and prints its header", async () => {
    for (const name of [checkpointFileName(9), "backup-copy.bin.gz"]) {
      const { code, stdout, stderr } = run("checkpoint", await write(name, good()));
      expect(stderr).toBe("");
      expect(code).toBe(0);
      const version = layout === "gzip" ? 2 : 1;
      expect(stdout).toMatch(new RegExp(`^${name.replace(/\./g, "\\.")}  ok\n  format ${version} \\(${layout} layout\\)  lsn 9  state format 3  `));
      expect(stdout).toContain("(ok)  body ok");
    }
  });

  it("exits 2 on a file that does not verify, or whose name names another LSN", async () => {
    const bytes = good();
    bytes[bytes.length - 12]! ^= 0x01;
    const bad = run("checkpoint", await write(checkpointFileName(9), bytes));
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain("BAD: SHA-256 mismatch over the compressed body");
    const misnamed = run("checkpoint", await write(checkpointFileName(8), good()));
    expect(misnamed.code).toBe(2);
    expect(misnamed.stdout).toContain("BAD: header LSN 9 does not match the file name");
  });

  it("exits 66 on a missing file", async () => {
    const { code, stderr } = run("checkpoint", path.join(tmpdir(), "t4dm-no-such-dir", checkpointFileName(9)));
    expect(code).toBe(66);
    expect(stderr).toMatch(/^t4dm-wal: cannot read: ENOENT/);
  });
});
