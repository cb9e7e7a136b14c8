import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { DEFAULT_EMBEDDING_MODEL_DIR } from "@t4dm/config";
import { ModelFileError } from "./embedder-startup-error.js";

/** What tools/model/fetch.sh extracts; keep these pins equal to the ones there. */
export const DEFAULT_MODEL_PINS = {
  "model.onnx": "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
  "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
} as const;

/** sentence-transformers' max_seq_length for all-MiniLM-L6-v2, used when an export does not say. */
const DEFAULT_MAX_TOKENS = 256;
/** BERT's position table: no export of this family reads past it. */
const POSITION_LIMIT = 512;

/** A model directory whose files exist, are readable and (for the default one) match their pins. */
export interface ModelFiles {
  dir: string;
  modelPath: string;
  tokenizerPath: string;
  /** Identifies the model in the data directory's embedder record. */
  modelSha256: string;
  /** Word pieces per text, [CLS] and [SEP] included; longer texts are cut and say so. */
  maxTokens: number;
}

/** The SHA-256 each file must have; the default directory's are `make model`'s. */
export type ModelPins = Readonly<Record<"model.onnx" | "tokenizer.json", string>>;

/**
 * Checks a model directory before any worker loads it, so a missing or
 * damaged file stops start-up with its name and the fix. The default
 * directory's files must match the pins of `make model`; another directory
 * is taken as given (its files are then checked by loading them).
 */
export async function checkModelFiles(dir: string, pins: ModelPins | undefined = pinsFor(dir)): Promise<ModelFiles> {
  const modelPath = path.join(dir, "model.onnx");
  const tokenizerPath = path.join(dir, "tokenizer.json");
  const hashes: Record<string, string> = {};
  for (const [name, file] of [["model.onnx", modelPath], ["tokenizer.json", tokenizerPath]] as const) {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new ModelFileError(file, code === "ENOENT" ? "is missing" : `cannot be read (${code ?? String(error)})`, { cause: error });
    }
    if (bytes.length === 0) throw new ModelFileError(file, "is empty");
    hashes[name] = createHash("sha256").update(bytes).digest("hex");
    if (pins && hashes[name] !== pins[name]) {
      throw new ModelFileError(file, `has SHA-256 ${hashes[name]}, expected ${pins[name]} (a damaged or partial download)`);
    }
  }
  return { dir, modelPath, tokenizerPath, modelSha256: hashes["model.onnx"]!, maxTokens: await maxTokensOf(dir) };
}

function pinsFor(dir: string): ModelPins | undefined {
  return path.resolve(dir) === path.resolve(DEFAULT_EMBEDDING_MODEL_DIR) ? DEFAULT_MODEL_PINS : undefined;
}

/** max_seq_length from the export's sentence_bert_config.json when it has one. */
async function maxTokensOf(dir: string): Promise<number> {
  const file = path.join(dir, "sentence_bert_config.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return DEFAULT_MAX_TOKENS;
  }
  let value: unknown;
  try {
    value = (JSON.parse(text) as { max_seq_length?: unknown }).max_seq_length;
  } catch (error) {
    throw new ModelFileError(file, "is not JSON", { cause: error });
  }
  if (!Number.isInteger(value) || (value as number) < 3) throw new ModelFileError(file, `has max_seq_length ${String(value)}, expected an integer of at least 3`);
  return Math.min(value as number, POSITION_LIMIT);
}
