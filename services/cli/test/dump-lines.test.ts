import { describe, expect, it } from "vitest";
import { adminV1, memoryV1 } from "@t4dm/proto";
import { DumpLineError, endLine, headerLine, itemLine, parseLine } from "../src/dump-lines.js";
import { parseArgs, UsageError } from "../src/cli-args.js";

const memory = adminV1.ExportedMemory.fromPartial({
  id: "m-1",
  namespace: "ns",
  kind: memoryV1.MemoryType.MEMORY_TYPE_SEMANTIC,
  content: "the office cat is called Miso",
  metadata: { team: "infra", n: 2 },
  status: memoryV1.MemoryStatus.MEMORY_STATUS_STORED,
  createTime: new Date(Date.UTC(2025, 0, 1)),
  // float32 values that print with many digits: they must read back bit for bit.
  embedding: Array.from(Float32Array.from([0.1, 1 / 3, -0.7071067690849304, 1e-8])),
  evidence: Math.fround(0.3),
});

const lineOf = (fields: Record<string, unknown>) => JSON.stringify({ type: "memory", ...(adminV1.ExportedMemory.toJSON(memory) as object), ...fields });

describe("dump lines", () => {
  it("a memory line reads back to the same message, embeddings bit for bit", () => {
    const parsed = parseLine(itemLine({ item: { $case: "memory", value: memory } }), 2);
    expect(parsed).toEqual({ type: "item", item: { item: { $case: "memory", value: memory } } });
  });

  it("header and end lines read back", () => {
    const embedder = { embedder: "hashing", model: "feature-hashing", dimensions: 32 };
    expect(parseLine(headerLine({ namespace: "ns", embedder, exportedAt: "2025-01-01T00:00:00.000Z" }), 1)).toEqual({
      type: "header",
      header: { namespace: "ns", embedder, exportedAt: "2025-01-01T00:00:00.000Z" },
    });
    expect(parseLine(endLine(7), 9)).toEqual({ type: "end", items: 7 });
  });

  it.each([
    ["not JSON", "{", /line 5: is not JSON/],
    ["not an object", "[1]", /line 5: is not a JSON object/],
    ["an unknown type", JSON.stringify({ type: "memo" }), /line 5: has type "memo"/],
    ["an unknown field", lineOf({ colour: "red" }), /line 5: has unknown memory field\(s\) colour/],
    ["a string where a number belongs", lineOf({ evidence: "high" }), /line 5: memory.evidence is not a number/],
    ["a bad time", lineOf({ createTime: "yesterday" }), /line 5: (is not a valid memory|memory.createTime is not a time)/],
    ["a non-number in the embedding", lineOf({ embedding: [0.1, "x"] }), /line 5: memory.embedding holds a value that is not a finite number/],
    ["a header of another format", JSON.stringify({ type: "header", format: "t4dm-export/9", namespace: "ns", embedder: {} }), /line 5: is a header of format/],
    ["an end line without a count", JSON.stringify({ type: "end" }), /line 5: an end line needs/],
  ])("refuses %s, naming the line", (_what, text, message) => {
    expect(() => parseLine(text, 5)).toThrow(DumpLineError);
    expect(() => parseLine(text, 5)).toThrow(message);
  });
});

describe("t4dm arguments", () => {
  it("unknown options, bad sizes and unknown commands are usage errors", () => {
    expect(parseArgs(["export"], {}).namespace).toBeUndefined();
    expect(() => parseArgs(["import", "--bogus", "1"], {})).toThrow(UsageError);
    expect(() => parseArgs(["import", "--batch-size", "0"], {})).toThrow(/--batch-size/);
    expect(() => parseArgs(["restore"], {})).toThrow(/unknown command/);
  });

  it("the address and key may come from the environment", () => {
    expect(parseArgs(["import"], { T4DM_ADDR: "10.0.0.7:50051", T4DM_API_KEY: "k" })).toMatchObject({ command: "import", addr: "10.0.0.7:50051", apiKey: "k", batchSize: 100 });
  });
});
