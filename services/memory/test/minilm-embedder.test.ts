// The local sentence model through the real files of `make model` (tools/model/fetch.sh) and real
// worker threads: vectors match the Python reference (onnxruntime + tokenizers, tools/model/reference.py)
// kept in golden/minilm-reference.json, long texts are cut at the window and say so, concurrent
// callers share batches, and a missing or damaged file is refused by name.
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_EMBEDDING_MODEL_DIR } from "@t4dm/config";
import { MiniLmEmbedder } from "../dist/embedding/minilm-embedder.js";
import { ModelFileError } from "../dist/embedding/embedder-startup-error.js";
import { embedMissingDetailed } from "../dist/embedding/embed-inputs.js";
import { checkModelFiles, DEFAULT_MODEL_PINS } from "../dist/embedding/model-files.js";

interface Golden {
  modelSha256: string;
  maxSeqLength: number;
  sentences: { text: string; tokens: number; truncated: boolean; vector: number[] }[];
}
const golden = JSON.parse(readFileSync(new URL("./golden/minilm-reference.json", import.meta.url), "utf8")) as Golden;

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

let embedder: MiniLmEmbedder;
beforeAll(async () => {
  embedder = await MiniLmEmbedder.load({ modelDir: DEFAULT_EMBEDDING_MODEL_DIR, workers: 1, maxBatch: 32 });
});
afterAll(async () => {
  await embedder?.close();
});

describe("MiniLmEmbedder against the Python reference", () => {
  it("embeds the golden sentences to cosine >= 0.999, one at a time and all in one padded batch", async () => {
    expect(embedder.files.modelSha256).toBe(golden.modelSha256);
    expect(embedder.dimensions).toBe(384);
    const texts = golden.sentences.map((s) => s.text);
    const batched = await embedder.embedDetailed(texts);
    for (const [i, sentence] of golden.sentences.entries()) {
      const [alone] = await embedder.embedDetailed([sentence.text]);
      expect(cosine(alone!.vector, sentence.vector), sentence.text.slice(0, 40)).toBeGreaterThanOrEqual(0.999);
      expect(cosine(batched[i]!.vector, sentence.vector), sentence.text.slice(0, 40)).toBeGreaterThanOrEqual(0.999);
      expect(batched[i]!.truncated).toBe(sentence.truncated);
      let norm = 0;
      for (const x of batched[i]!.vector) norm += x * x;
      expect(Math.sqrt(norm)).toBeCloseTo(1, 5);
    }
  });

  it("cuts a text longer than the window and reports it; a short one is not cut", async () => {
    const long = golden.sentences.find((s) => s.truncated)!;
    const [cut, short] = await embedder.embedDetailed([long.text + " and then something else entirely", "Alice adopted a cat."]);
    expect(cut!.truncated).toBe(true);
    // Words past the window change nothing: the vector is the reference's for the cut text.
    expect(cosine(cut!.vector, long.vector)).toBeGreaterThanOrEqual(0.999);
    expect(short!.truncated).toBe(false);
  });

  it("tells the request path which texts were cut (a caller's own vector never is)", async () => {
    const long = golden.sentences.find((s) => s.truncated)!.text;
    const own = new Float32Array(384).fill(1 / Math.sqrt(384));
    const { vectors, truncated } = await embedMissingDetailed(embedder, [
      { text: long, field: "query" },
      { text: "short", field: "a" },
      { text: long, embedding: own, field: "b" },
    ]);
    expect(truncated).toEqual([true, false, false]);
    expect(vectors[2]).toBe(own);
  });

  it("ranks by meaning: the pet question is nearer the cat than the diet", async () => {
    const [question, cat, diet] = await embedder.embed(["what pet does Alice have", "Alice adopted a cat", "Alice is vegetarian"]);
    expect(cosine(question!, cat!)).toBeGreaterThan(cosine(question!, diet!));
  });

  it("a worker thread that dies is replaced before the next batch", async () => {
    const [before] = await embedder.embed(["Alice adopted a cat."]);
    await embedder.killWorkerForTest(0);
    expect((await embedder.health()).detail).toContain("0 of 1 worker(s) running");
    const [after] = await embedder.embed(["Alice adopted a cat."]);
    expect(cosine(after!, before!)).toBeGreaterThanOrEqual(0.9999);
    expect((await embedder.health()).detail).toContain("1 of 1 worker(s) running");
  });

  it("answers concurrent callers each with their own vectors, in order", async () => {
    const short = golden.sentences.filter((s) => !s.truncated);
    const texts = short.map((s) => s.text);
    const calls = texts.map((_, i) => embedder.embed(texts.slice(i).concat(texts.slice(0, i))));
    const answers = await Promise.all(calls);
    answers.forEach((vectors, i) => {
      vectors.forEach((vector, k) => {
        const sentence = short[(i + k) % texts.length]!;
        expect(cosine(vector, sentence.vector)).toBeGreaterThanOrEqual(0.999);
      });
    });
  });
});

describe("the pins", () => {
  it("tools/model/fetch.sh checks the same SHA-256s the service checks", () => {
    const script = readFileSync(new URL("../../../tools/model/fetch.sh", import.meta.url), "utf8");
    expect(script).toContain(`MODEL_SHA256=${DEFAULT_MODEL_PINS["model.onnx"]}`);
    expect(script).toContain(`TOKENIZER_SHA256=${DEFAULT_MODEL_PINS["tokenizer.json"]}`);
  });
});

describe("MiniLmEmbedder.load refuses bad model files by name", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "t4dm-model-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function loadError(modelDir: string): Promise<ModelFileError> {
    const error = await MiniLmEmbedder.load({ modelDir, workers: 1, maxBatch: 8 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelFileError);
    return error as ModelFileError;
  }

  it("a missing model.onnx", async () => {
    const error = await loadError(dir);
    expect(error.file).toBe(path.join(dir, "model.onnx"));
    expect(error.message).toContain("is missing");
    expect(error.message).toContain("make model");
  });

  it("a file that does not match its pinned SHA-256 (the default directory's pins)", async () => {
    await writeFile(path.join(dir, "model.onnx"), "a partial download");
    await copyFile(path.join(DEFAULT_EMBEDDING_MODEL_DIR, "tokenizer.json"), path.join(dir, "tokenizer.json"));
    const error = await checkModelFiles(dir, DEFAULT_MODEL_PINS).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as ModelFileError).file).toBe(path.join(dir, "model.onnx"));
    expect((error as Error).message).toContain(`expected ${DEFAULT_MODEL_PINS["model.onnx"]} (a damaged or partial download)`);
  });

  it("a model.onnx that is not a model", async () => {
    await writeFile(path.join(dir, "model.onnx"), "not an onnx file");
    await copyFile(path.join(DEFAULT_EMBEDDING_MODEL_DIR, "tokenizer.json"), path.join(dir, "tokenizer.json"));
    const error = await loadError(dir);
    expect(error.file).toBe(path.join(dir, "model.onnx"));
    expect(error.message).toContain("is not a loadable sentence-transformers ONNX model");
  });

  it("a tokenizer.json that is not JSON", async () => {
    await copyFile(path.join(DEFAULT_EMBEDDING_MODEL_DIR, "model.onnx"), path.join(dir, "model.onnx"));
    await writeFile(path.join(dir, "tokenizer.json"), "{ truncated");
    const error = await loadError(dir);
    expect(error.file).toBe(path.join(dir, "tokenizer.json"));
    expect(error.message).toContain("is not a usable tokenizer.json");
  });
});
