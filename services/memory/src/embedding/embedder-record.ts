import { mkdir, open, readFile, rename } from "node:fs/promises";
import path from "node:path";
import type { EmbedderKind } from "@t4dm/config";
import { EmbedderMismatchError } from "./embedder-startup-error.js";
import { REEMBED_COMMAND } from "../reembed/reembed-command.js";

/**
 * Which embedder wrote a data directory's vectors. Vectors of two embedders
 * (or two models) are not comparable even at the same dimension, so a data
 * directory keeps one, in `store/embedder.json`: under store/ because that is
 * what the memory service mounts (k8s/) and what scripts/backup.sh copies.
 */
export interface EmbedderIdentity {
  embedder: EmbedderKind;
  /** minilm: `sha256:<model.onnx>`; http: the model name; hashing: the algorithm. */
  model: string;
  dimensions: number;
}

export type RecordDecision = { action: "keep" } | { action: "write" } | { action: "refuse"; message: string };

/**
 * Pure: what to do with the record, given what this start would embed with.
 * A fresh state takes the current embedder; a state written before records
 * existed can only have had the hashing or http embedder; anything else must
 * match exactly.
 */
export function judgeEmbedderRecord(recorded: EmbedderIdentity | undefined, current: EmbedderIdentity, stateInitialized: boolean): RecordDecision {
  if (!stateInitialized) return { action: "write" };
  if (!recorded) {
    if (current.embedder !== "minilm") return { action: "write" };
    return {
      action: "refuse",
      message:
        `this data directory was written before embedders were recorded, so its ${current.dimensions}-dimensional vectors come from the hashing ` +
        `(or an http) embedder, not ${describe(current)}; start it with T4DM_EMBEDDER=hashing (or your T4DM_EMBEDDING_URL), ` +
        `or, with the memory service stopped and its sidecar running, run \`${REEMBED_COMMAND}\` with these settings to re-embed it`,
    };
  }
  if (recorded.embedder === current.embedder && recorded.model === current.model && recorded.dimensions === current.dimensions) return { action: "keep" };
  return {
    action: "refuse",
    message:
      `this data directory's vectors were written by ${describe(recorded)}, but this start would use ${describe(current)}; ` +
      `set ${settingsFor(recorded)} again to use it as it is, or, with the memory service stopped and its sidecar running, ` +
      `run \`${REEMBED_COMMAND}\` with these settings to re-embed it`,
  };
}

function describe(identity: EmbedderIdentity): string {
  return `the ${identity.embedder} embedder (${identity.model}, ${identity.dimensions} dimensions)`;
}

function settingsFor(identity: EmbedderIdentity): string {
  switch (identity.embedder) {
    case "minilm":
      return `T4DM_EMBEDDER=minilm with the model whose model.onnx has ${identity.model} (T4DM_EMBEDDING_MODEL_DIR)`;
    case "http":
      return `T4DM_EMBEDDER=http with T4DM_EMBEDDING_MODEL=${identity.model}`;
    case "hashing":
      return `T4DM_EMBEDDER=hashing with T4DM_EMBEDDING_DIM=${identity.dimensions}`;
  }
}

export function recordPath(dataDir: string): string {
  return path.join(dataDir, "store", "embedder.json");
}

/** The record, or undefined when there is none. A record that cannot be read stops start-up. */
export async function readEmbedderRecord(dataDir: string): Promise<EmbedderIdentity | undefined> {
  const file = recordPath(dataDir);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new EmbedderMismatchError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const value = JSON.parse(text) as Partial<EmbedderIdentity>;
    if (typeof value.embedder !== "string" || typeof value.model !== "string" || !Number.isInteger(value.dimensions)) throw new Error("missing fields");
    return { embedder: value.embedder as EmbedderKind, model: value.model, dimensions: value.dimensions! };
  } catch (error) {
    throw new EmbedderMismatchError(`${file} is damaged (${(error as Error).message}); restore it from a backup, or delete it if the data directory has no memories yet`, {
      cause: error,
    });
  }
}

/** Writes the record durably: temp file, fsync, rename, fsync the directory. */
export async function writeEmbedderRecord(dataDir: string, identity: EmbedderIdentity): Promise<void> {
  const file = recordPath(dataDir);
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const temp = `${file}.tmp`;
  const handle = await open(temp, "w", 0o600);
  try {
    await handle.writeFile(JSON.stringify(identity, null, 1) + "\n");
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
  const dirHandle = await open(dir, "r");
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/**
 * Start-up: refuses (EmbedderMismatchError, exit 2) a data directory written
 * by another embedder before anything is written, else records this one.
 */
export async function checkEmbedderRecord(dataDir: string, current: EmbedderIdentity, stateInitialized: boolean): Promise<"kept" | "written"> {
  const decision = judgeEmbedderRecord(await readEmbedderRecord(dataDir), current, stateInitialized);
  if (decision.action === "refuse") throw new EmbedderMismatchError(decision.message);
  if (decision.action === "keep") return "kept";
  await writeEmbedderRecord(dataDir, current);
  return "written";
}
