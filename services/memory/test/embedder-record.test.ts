import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkEmbedderRecord, judgeEmbedderRecord, recordPath } from "../dist/embedding/embedder-record.js";
import { EmbedderMismatchError } from "../dist/embedding/embedder-startup-error.js";

const minilm = { embedder: "minilm" as const, model: "sha256:abc", dimensions: 384 };
const hashing = { embedder: "hashing" as const, model: "hashed-ngrams-v1", dimensions: 384 };

describe("judgeEmbedderRecord", () => {
  it("a fresh state takes the current embedder, whatever an earlier aborted start recorded", () => {
    expect(judgeEmbedderRecord(undefined, minilm, false)).toEqual({ action: "write" });
    expect(judgeEmbedderRecord(hashing, minilm, false)).toEqual({ action: "write" });
  });

  it("keeps an exact match, refuses another embedder, model or dimension", () => {
    expect(judgeEmbedderRecord(minilm, minilm, true)).toEqual({ action: "keep" });
    for (const other of [hashing, { ...minilm, model: "sha256:def" }, { ...hashing, dimensions: 64 }]) {
      expect(judgeEmbedderRecord(other, { ...minilm }, true).action).toBe("refuse");
    }
    const refused = judgeEmbedderRecord({ ...hashing, dimensions: 64 }, minilm, true);
    expect(refused.action === "refuse" && refused.message).toContain("set T4DM_EMBEDDER=hashing with T4DM_EMBEDDING_DIM=64 again");
  });

  it("a state from before records was written by hashing or http: those carry on, the model is refused", () => {
    expect(judgeEmbedderRecord(undefined, hashing, true)).toEqual({ action: "write" });
    const refused = judgeEmbedderRecord(undefined, minilm, true);
    expect(refused.action).toBe("refuse");
    expect(refused.action === "refuse" && refused.message).toContain("written before embedders were recorded");
  });
});

describe("checkEmbedderRecord on a real directory", () => {
  it("writes store/embedder.json once, keeps it, refuses a mismatch and a damaged file without changing them", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "t4dm-record-"));
    try {
      expect(await checkEmbedderRecord(dir, minilm, false)).toBe("written");
      expect(JSON.parse(await readFile(recordPath(dir), "utf8"))).toEqual(minilm);
      expect(await checkEmbedderRecord(dir, minilm, true)).toBe("kept");
      await expect(checkEmbedderRecord(dir, hashing, true)).rejects.toBeInstanceOf(EmbedderMismatchError);
      expect(JSON.parse(await readFile(recordPath(dir), "utf8"))).toEqual(minilm);
      await mkdir(path.dirname(recordPath(dir)), { recursive: true });
      await writeFile(recordPath(dir), "{ not json");
      await expect(checkEmbedderRecord(dir, minilm, true)).rejects.toThrow(/embedder.json is damaged/);
      expect(await readFile(recordPath(dir), "utf8")).toBe("{ not json");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
