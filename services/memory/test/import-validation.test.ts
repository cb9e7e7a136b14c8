import { describe, expect, it } from "vitest";
import { adminV1, memoryV1 } from "@t4dm/proto";
import { InvalidArgumentError, FailedPreconditionError } from "@t4dm/rpc";
import { checkEmbedder, validateImport } from "../src/export/import-validation.js";

const LIMITS = { embeddingDim: 4, maxContentBytes: 64, maxMetadataEntries: 4, maxBatchSize: 3, maxTopK: 10 };
const T0 = new Date(Date.UTC(2025, 0, 1));
const unit = [1, 0, 0, 0];

const memory = (fields: Partial<adminV1.ExportedMemory> = {}): adminV1.ExportItem => ({
  item: {
    $case: "memory",
    value: adminV1.ExportedMemory.fromPartial({
      id: "m-1",
      namespace: "ns",
      kind: memoryV1.MemoryType.MEMORY_TYPE_EPISODIC,
      content: "text",
      status: memoryV1.MemoryStatus.MEMORY_STATUS_STORED,
      createTime: T0,
      embedding: unit,
      ...fields,
    }),
  },
});
const fact = (fields: Partial<memoryV1.Fact> = {}): adminV1.ExportItem => ({
  item: { $case: "fact", value: memoryV1.Fact.fromPartial({ id: "f-1", namespace: "ns", subject: "ada", predicate: "works_at", object: "acme", confidence: 1, validStartTime: T0, recordTime: T0, ...fields }) },
});
const procedure = (fields: Partial<adminV1.ExportedProcedure> = {}): adminV1.ExportItem => ({
  item: {
    $case: "procedure",
    value: adminV1.ExportedProcedure.fromPartial({ id: "p-1", namespace: "ns", name: "release", trigger: "when", triggerEmbedding: unit, executionCount: 1, createTime: T0, updateTime: T0, ...fields }),
  },
});

function violations(items: adminV1.ExportItem[], namespace = "ns"): string[] {
  try {
    validateImport({ namespace, items, embedder: undefined }, LIMITS);
    return [];
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    return error.violations.map((v) => v.field);
  }
}

describe("validateImport (the whole batch, before anything is written)", () => {
  it("accepts well-formed memories, facts and procedures", () => {
    expect(violations([memory(), fact(), procedure()])).toEqual([]);
  });

  it("names every bad field by its item", () => {
    expect(violations([memory({ namespace: "other", kind: 0, content: " ", importance: 2, status: memoryV1.MemoryStatus.MEMORY_STATUS_EVICTED, embedding: [0, 0, 0, 0], evidence: -1 })])).toEqual([
      "items[0].memory.namespace",
      "items[0].memory.kind",
      "items[0].memory.content",
      "items[0].memory.importance",
      "items[0].memory.status",
      "items[0].memory.embedding",
      "items[0].memory.evidence",
    ]);
    expect(violations([fact({ subject: "", confidence: -0.1, validEndTime: new Date(T0.getTime() - 1), recordTime: undefined })])).toEqual([
      "items[0].fact.subject",
      "items[0].fact.confidence",
      "items[0].fact.record_time",
      "items[0].fact.valid_end_time",
    ]);
    expect(violations([procedure({ name: "", triggerEmbedding: [1, 0], successCount: 2 })])).toEqual([
      "items[0].procedure.name",
      "items[0].procedure.trigger_embedding",
      "items[0].procedure.success_count",
    ]);
    expect(violations([memory({ expireTime: T0 })])).toEqual(["items[0].memory.expire_time"]);
    expect(violations([{ item: { $case: "retentionPolicy", value: { namespace: "ns", policy: { mode: 0, maxMemories: -1, maxAgeSeconds: 0 } } } }])).toEqual([
      "items[0].retentionPolicy.policy.mode",
      "items[0].retentionPolicy.policy.max_memories",
    ]);
    expect(violations([{ item: { $case: "retentionPolicy", value: { namespace: "ns", policy: undefined } } }])).toEqual(["items[0].retentionPolicy.policy"]);
    expect(violations([{ item: undefined }])).toEqual(["items[0]"]);
  });

  it("refuses an empty batch, one over the batch limit, and a bad namespace", () => {
    expect(violations([])).toEqual(["items"]);
    expect(violations([memory(), memory(), memory(), memory()])).toEqual(["items"]);
    expect(violations([memory({ namespace: "bad namespace" })], "bad namespace")).toEqual(["namespace"]);
  });
});

describe("checkEmbedder", () => {
  const target = { embedder: "hashing", model: "feature-hashing", dimensions: 4 };
  it("passes the same embedder, refuses another or none when vectors travel, ignores facts-only batches", () => {
    expect(() => checkEmbedder({ namespace: "ns", items: [memory()], embedder: target }, target)).not.toThrow();
    expect(() => checkEmbedder({ namespace: "ns", items: [memory()], embedder: { ...target, model: "other" } }, target)).toThrow(FailedPreconditionError);
    expect(() => checkEmbedder({ namespace: "ns", items: [procedure()], embedder: undefined }, target)).toThrow(/not named/);
    expect(() => checkEmbedder({ namespace: "ns", items: [fact()], embedder: undefined }, target)).not.toThrow();
  });
});
