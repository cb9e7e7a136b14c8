import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { EmbedderIdentity } from "../embedding/embedder-record.js";
import { EmbedderMismatchError } from "../embedding/embedder-startup-error.js";
import { REEMBED_COMMAND } from "./reembed-command.js";

/**
 * `store/reembed.json`: a re-embed started and has not finished. While it
 * exists the data directory holds a mix of two embedders' vectors (or the
 * state and stores disagree on the dimension), so the memory service refuses
 * to start, and the command, run again, finishes the job.
 */
export interface ReembedMarker {
  /** The embedder the data directory had (undefined: written before embedders were recorded). */
  from?: EmbedderIdentity;
  to: EmbedderIdentity;
}

export function markerPath(dataDir: string): string {
  return path.join(dataDir, "store", "reembed.json");
}

export async function readReembedMarker(dataDir: string): Promise<ReembedMarker | undefined> {
  let text: string;
  try {
    text = await readFile(markerPath(dataDir), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new EmbedderMismatchError(`cannot read ${markerPath(dataDir)}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const marker = JSON.parse(text) as ReembedMarker;
    if (typeof marker.to?.embedder !== "string" || typeof marker.to.model !== "string" || !Number.isInteger(marker.to.dimensions)) throw new Error("missing fields");
    return marker;
  } catch (error) {
    // Damaged only by hand: the marker is written atomically. Running the command again rewrites it.
    return { to: { embedder: "hashing", model: `(unreadable: ${(error as Error).message})`, dimensions: 0 } };
  }
}

/** Durably: temp file, fsync, rename, fsync the directory. */
export async function writeReembedMarker(dataDir: string, marker: ReembedMarker): Promise<void> {
  const file = markerPath(dataDir);
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.tmp`;
  const handle = await open(temp, "w", 0o600);
  try {
    await handle.writeFile(JSON.stringify(marker, null, 1) + "\n");
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
  await syncDirectory(path.dirname(file));
}

export async function removeReembedMarker(dataDir: string): Promise<void> {
  await rm(markerPath(dataDir), { force: true });
  await syncDirectory(path.dirname(markerPath(dataDir)));
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The memory service must not start on a half re-embedded data directory. */
export class ReembedInProgressError extends EmbedderMismatchError {}

/** Start-up: refuses (exit 2) while a re-embed is unfinished, before anything is contacted or written. */
export async function refuseUnfinishedReembed(dataDir: string): Promise<void> {
  const marker = await readReembedMarker(dataDir);
  if (!marker) return;
  throw new ReembedInProgressError(
    `re-embed in progress (to the ${marker.to.embedder} embedder, ${marker.to.model}, ${marker.to.dimensions} dimensions), run \`${REEMBED_COMMAND}\` again ` +
      `with those embedder settings (T4DM_EMBEDDER, T4DM_EMBEDDING_MODEL_DIR or T4DM_EMBEDDING_MODEL, T4DM_EMBEDDING_DIM) to finish it; ` +
      `the memory service starts once it has`,
  );
}
