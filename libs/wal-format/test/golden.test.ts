import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync, gzipSync, inflateRawSync, crc32 as zlibCrc32 } from "node:zlib";
import { crc32c } from "@node-rs/crc32";
import { describe, expect, it } from "vitest";
import {
  CHECKPOINT_GZIP_PREFIX_BYTES,
  CHECKPOINT_HEADER_BYTES,
  CHECKPOINT_LEGACY_FORMAT_VERSION,
  decodeCheckpointHeader,
  encodeCheckpointPrefix,
  parseCheckpointFile,
  WalFormatError,
  decodeSegmentHeader,
  encodeCheckpointHeader,
  encodeRecord,
  encodeSegmentHeader,
  RECORD_HEADER_BYTES,
  scanRecords,
  SEGMENT_HEADER_BYTES,
  type ScannedRecord,
  type WalRecordData,
} from "../src/index.js";

/*
 * Golden files, as etcd keeps for its WAL: bytes written once by the encoder
 * and committed. If an encoder change alters them, old data directories stop
 * reading; change the format version instead of the fixtures. Each field is
 * also read back at its FORMAT.md offset, so the fixtures are checked against
 * the document and not only against the code that wrote them.
 */
const GOLDEN = path.join(import.meta.dirname, "golden");
const SALT = 0x01020304;
const RECORDS: WalRecordData[] = [
  { lsn: 1, opType: 200, payload: Buffer.from("hello, wal", "latin1") },
  { lsn: 2, opType: 11, payload: Buffer.alloc(0) },
  { lsn: 3, opType: 100, payload: Buffer.from(Array.from({ length: 32 }, (_, i) => i)) },
];
const CHECKPOINT = {
  lsn: 3,
  stateFormatVersion: 2,
  compressedBytes: 1234,
  bodyBytes: 5678,
  sha256: Buffer.from(Array.from({ length: 32 }, (_, i) => i)),
  stateHash: Buffer.from(Array.from({ length: 12 }, (_, i) => 0xa0 + i)),
};

/** Hex with `#` comments and any whitespace. */
function readGolden(name: string): Buffer {
  const text = readFileSync(path.join(GOLDEN, name), "utf8");
  return Buffer.from(text.replace(/#.*$/gm, "").replace(/\s+/g, ""), "hex");
}

describe("CRC-32C", () => {
  it("is Castagnoli, not the IEEE CRC-32 of zlib.crc32", () => {
    const check = Buffer.from("123456789");
    expect(crc32c(check)).toBe(0xe3069283);
    expect(zlibCrc32(check)).toBe(0xcbf43926);
    expect(crc32c(check)).not.toBe(zlibCrc32(check));
  });
});

describe("golden segment_00000001", () => {
  const golden = readGolden("segment_00000001.hex");
  const offsets = [SEGMENT_HEADER_BYTES];
  for (const record of RECORDS.slice(0, -1)) offsets.push(offsets.at(-1)! + RECORD_HEADER_BYTES + record.payload.length);

  it("is what the encoder writes today", () => {
    const encoded = Buffer.concat([encodeSegmentHeader({ salt: SALT, index: 1, firstLsn: 1 }), ...RECORDS.map((r) => encodeRecord(r, SALT))]);
    expect(encoded.toString("hex")).toBe(golden.toString("hex"));
  });

  it("has the segment header FORMAT.md describes", () => {
    expect(golden.subarray(0, 8).toString("latin1")).toBe("T4DMWAL\0");
    expect(golden.readUInt16LE(8)).toBe(1); // format version
    expect(golden.readUInt16LE(10)).toBe(1); // checksum algorithm: CRC-32C
    expect(golden.readUInt32LE(12)).toBe(SALT);
    expect([...golden.subarray(12, 16)]).toEqual([0x04, 0x03, 0x02, 0x01]); // little-endian
    expect(golden.readBigUInt64LE(16)).toBe(1n); // segment index
    expect(golden.readBigUInt64LE(24)).toBe(1n); // first LSN
    expect(golden.readUInt32LE(32)).toBe(0); // reserved
    expect(golden.readUInt32LE(36)).toBe(crc32c(golden.subarray(0, 36)));
    expect(golden.readUInt32LE(36)).not.toBe(zlibCrc32(golden.subarray(0, 36)));
  });

  it("has records framed as FORMAT.md describes", () => {
    RECORDS.forEach((record, i) => {
      const at = offsets[i]!;
      const payload = golden.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + record.payload.length);
      expect(golden.readUInt16LE(at)).toBe(0x7434); // magic
      expect([golden[at], golden[at + 1]]).toEqual([0x34, 0x74]);
      expect(golden.readUInt8(at + 2)).toBe(1); // record format version
      expect(golden.readUInt8(at + 3)).toBe(0); // flags
      expect(golden.readUInt32LE(at + 4)).toBe(record.payload.length);
      expect(golden.readBigUInt64LE(at + 8)).toBe(BigInt(record.lsn));
      expect(golden.readUInt16LE(at + 16)).toBe(record.opType);
      expect(golden.readUInt16LE(at + 18)).toBe(0); // reserved
      expect(golden.readUInt32LE(at + 20)).toBe(SALT);
      expect(payload.equals(record.payload)).toBe(true);
      // One pass over header bytes 0–23 followed by the payload, not a chained or IEEE CRC.
      const covered = Buffer.concat([golden.subarray(at, at + 24), payload]);
      expect(golden.readUInt32LE(at + 24)).toBe(crc32c(covered));
      expect(golden.readUInt32LE(at + 24)).not.toBe(zlibCrc32(covered));
    });
    const last = offsets.at(-1)! + RECORD_HEADER_BYTES + RECORDS.at(-1)!.payload.length;
    expect(golden.length).toBe(last);
  });

  it("decodes back to the same header and records", () => {
    expect(decodeSegmentHeader(golden)).toEqual({ salt: SALT, index: 1, firstLsn: 1 });
    const seen: ScannedRecord[] = [];
    const result = scanRecords(golden, { salt: SALT, firstLsn: 1, offset: SEGMENT_HEADER_BYTES }, (r) => seen.push(r));
    expect(result).toEqual({ validEnd: golden.length, lastLsn: 3, recordCount: 3, stop: { kind: "end" } });
    expect(seen.map((r) => ({ lsn: r.lsn, opType: r.opType, payload: Buffer.from(r.payload), offset: r.offset }))).toEqual(
      RECORDS.map((r, i) => ({ lsn: r.lsn, opType: r.opType, payload: Buffer.from(r.payload), offset: offsets[i] })),
    );
  });

  it("does not replay under another segment's salt", () => {
    const result = scanRecords(golden, { salt: SALT + 1, firstLsn: 1, offset: SEGMENT_HEADER_BYTES });
    expect(result).toMatchObject({ recordCount: 0, stop: { kind: "invalid", reason: "record salt does not match its segment (stale bytes)" } });
  });
});

describe("golden checkpoint header block", () => {
  const golden = readGolden("checkpoint-header.hex");

  it("is what the encoder writes today (legacy version 1 block)", () => {
    expect(encodeCheckpointHeader(CHECKPOINT, CHECKPOINT_LEGACY_FORMAT_VERSION).toString("hex")).toBe(golden.toString("hex"));
  });

  it("has the fields FORMAT.md describes", () => {
    expect(golden.length).toBe(CHECKPOINT_HEADER_BYTES);
    expect(golden.subarray(0, 8).toString("latin1")).toBe("T4DMCKP\0");
    expect(golden.readUInt16LE(8)).toBe(1); // file format version
    expect(golden.readUInt16LE(10)).toBe(2); // state format version
    expect(golden.readUInt32LE(12)).toBe(0); // reserved
    expect(golden.readBigUInt64LE(16)).toBe(3n); // LSN
    expect(golden.readBigUInt64LE(24)).toBe(1234n); // compressed length
    expect(golden.readBigUInt64LE(32)).toBe(5678n); // body length
    expect(golden.subarray(40, 72).equals(CHECKPOINT.sha256)).toBe(true);
    expect(golden.subarray(72, 84).equals(CHECKPOINT.stateHash)).toBe(true);
    expect(golden.subarray(84, 100).equals(Buffer.alloc(16))).toBe(true); // zero padding
    expect(golden.readUInt32LE(100)).toBe(crc32c(golden.subarray(0, 100)));
    expect(golden.readUInt32LE(100)).not.toBe(zlibCrc32(golden.subarray(0, 100)));
  });

  it("decodes back to the same fields", () => {
    expect(decodeCheckpointHeader(golden)).toEqual({
      ...CHECKPOINT,
      formatVersion: 1,
      stateHash: Buffer.concat([CHECKPOINT.stateHash, Buffer.alloc(16)]),
    });
  });
});

/** Both whole-file fixtures hold LSN 7, state format 2, this state hash and this body. */
const FILE_STATE_HASH = Buffer.concat([Buffer.from(Array.from({ length: 12 }, (_, i) => 0xa0 + i)), Buffer.alloc(16)]);
const fileBody = (version: number) => Buffer.from(`T4DM checkpoint body written by format version ${version}\n`.repeat(3), "latin1");
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest();

describe("golden checkpoint file, gzip layout (version 2)", () => {
  const golden = readGolden("checkpoint-gzip-v2.hex");
  const body = fileBody(2);
  const hashed = golden.subarray(CHECKPOINT_GZIP_PREFIX_BYTES);

  it("starts with what the encoder writes today", () => {
    // Only the prefix: the deflate bytes belong to zlib, whose output may change between versions.
    const prefix = encodeCheckpointPrefix({ lsn: 7, stateFormatVersion: 2, compressedBytes: hashed.length, bodyBytes: body.length, sha256: sha256(hashed), stateHash: FILE_STATE_HASH });
    expect(golden.subarray(0, CHECKPOINT_GZIP_PREFIX_BYTES).toString("hex")).toBe(prefix.toString("hex"));
  });

  it("is a gzip member with the FEXTRA field FORMAT.md describes", () => {
    expect([...golden.subarray(0, 4)]).toEqual([0x1f, 0x8b, 8, 0x04]); // ID1 ID2, CM deflate, FLG = FEXTRA only
    expect(golden.readUInt32LE(4)).toBe(0); // MTIME
    expect([golden[8], golden[9]]).toEqual([0, 255]); // XFL, OS unknown
    expect(golden.readUInt16LE(10)).toBe(108); // XLEN
    expect(golden.subarray(12, 14).toString("latin1")).toBe("T4"); // subfield id
    expect(golden.readUInt16LE(14)).toBe(CHECKPOINT_HEADER_BYTES); // subfield length
    const block = golden.subarray(16, 16 + CHECKPOINT_HEADER_BYTES);
    expect(block.subarray(0, 8).toString("latin1")).toBe("T4DMCKP\0");
    expect(block.readUInt16LE(8)).toBe(2); // file format version
    expect(block.readBigUInt64LE(16)).toBe(7n);
    expect(block.readBigUInt64LE(24)).toBe(BigInt(hashed.length)); // everything after the prefix
    expect(block.readBigUInt64LE(32)).toBe(BigInt(body.length));
    expect(block.subarray(40, 72).equals(sha256(hashed))).toBe(true); // over the deflate stream and trailer
    expect(block.readUInt32LE(100)).toBe(crc32c(block.subarray(0, 100)));
    expect(hashed.readUInt32LE(hashed.length - 8)).toBe(zlibCrc32(body)); // gzip's own trailer: IEEE CRC-32
    expect(hashed.readUInt32LE(hashed.length - 4)).toBe(body.length);
    expect(inflateRawSync(hashed.subarray(0, -8)).equals(body)).toBe(true);
  });

  it("reads with standard tools: gunzip, gzip -t, zcat", () => {
    expect(gunzipSync(golden).equals(body)).toBe(true);
    const dir = mkdtempSync(path.join(tmpdir(), "t4dm-golden-"));
    try {
      const file = path.join(dir, "checkpoint_0000000000000007.bin.gz");
      writeFileSync(file, golden);
      execFileSync("gzip", ["-t", file]);
      expect(execFileSync("zcat", [file]).equals(body)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("parses to its header and the bytes its SHA-256 covers", () => {
    const view = parseCheckpointFile(golden);
    expect(view.layout).toBe("gzip");
    expect(view.header).toEqual({ formatVersion: 2, lsn: 7, stateFormatVersion: 2, compressedBytes: hashed.length, bodyBytes: body.length, sha256: sha256(hashed), stateHash: FILE_STATE_HASH });
    expect(view.hashed.equals(hashed)).toBe(true);
    expect(view.gzip.equals(golden)).toBe(true);
  });
});

describe("golden checkpoint file, legacy layout (version 1)", () => {
  const golden = readGolden("checkpoint-legacy-v1.hex");
  const body = fileBody(1);

  it("still parses: header first, then a gzip stream the SHA-256 covers", () => {
    const view = parseCheckpointFile(golden);
    const hashed = golden.subarray(CHECKPOINT_HEADER_BYTES);
    expect(view.layout).toBe("legacy");
    expect(view.header).toEqual({ formatVersion: 1, lsn: 7, stateFormatVersion: 2, compressedBytes: hashed.length, bodyBytes: body.length, sha256: sha256(hashed), stateHash: FILE_STATE_HASH });
    expect(view.hashed.equals(hashed)).toBe(true);
    expect(gunzipSync(view.gzip).equals(body)).toBe(true);
  });
});

describe("parseCheckpointFile", () => {
  const golden = readGolden("checkpoint-gzip-v2.hex");
  const legacy = readGolden("checkpoint-legacy-v1.hex");
  const withByte = (bytes: Buffer, at: number, value: number) => {
    const copy = Buffer.from(bytes);
    copy[at] = value;
    return copy;
  };
  const reversioned = (bytes: Buffer, at: number, version: number) => {
    const copy = Buffer.from(bytes);
    const block = decodeCheckpointHeader(copy.subarray(at));
    encodeCheckpointHeader(block, version).copy(copy, at);
    return copy;
  };

  it.each([
    ["a plain gzip file", gzipSync(Buffer.from("x")), /^gzip flags 0x0: a T4DM checkpoint sets only FEXTRA$/],
    ["another gzip flag", withByte(golden, 3, 0x04 | 0x08), /^gzip flags 0xc/],
    ["another compression method", withByte(golden, 2, 7), /^gzip compression method 7/],
    ["a foreign extra subfield", withByte(golden, 12, 0x41), /^gzip extra field does not hold a T4DM checkpoint header$/],
    ["a version-1 block in the gzip layout", reversioned(golden, 16, 1), /^format version 1 in a gzip-layout checkpoint$/],
    ["a version-2 block in the legacy layout", reversioned(legacy, 0, 2), /^format version 2 in a legacy-layout checkpoint$/],
    ["a torn prefix", golden.subarray(0, 100), /^checkpoint gzip header truncated \(100 bytes\)$/],
    ["a torn body", golden.subarray(0, golden.length - 1), /^truncated: /],
    ["a trailing byte", Buffer.concat([golden, Buffer.alloc(1)]), /^1 unexpected bytes after the body$/],
    ["neither magic", Buffer.from("hello"), /^not a T4DM checkpoint/],
  ])("refuses %s", (_, bytes, message) => {
    expect(() => parseCheckpointFile(bytes)).toThrow(WalFormatError);
    expect(() => parseCheckpointFile(bytes)).toThrow(message);
  });
});
