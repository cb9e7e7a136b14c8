import { loadConfigOrExit } from "@t4dm/config";
import { createLogger } from "@t4dm/telemetry";
import { EmbeddingConfigError } from "../embedding/embedder.js";
import { EmbedderStartupError } from "../embedding/embedder-startup-error.js";
import { openEmbedder, type EmbedderSource } from "../embedding/open-embedder.js";
import { ReembedRefusedError, runReembed } from "./run-reembed.js";

/**
 * The re-embed command: with the memory service stopped and its sidecar
 * running, moves the data directory to the embedder these settings name
 * (T4DM_EMBEDDER, T4DM_EMBEDDING_MODEL_DIR, T4DM_EMBEDDING_URL/_MODEL,
 * T4DM_EMBEDDING_DIM). Exit 0: done, or nothing to do; 2: refused (says why);
 * 1: failed, run it again.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit("t4dm-reembed");
  const logger = createLogger({ level: config.logLevel, service: "reembed" });
  const say = (line: string) => process.stderr.write(`t4dm-reembed: ${line}\n`);
  let embedders: EmbedderSource | undefined;
  try {
    embedders = await openEmbedder(config);
    const outcome = await runReembed(config, embedders, { logger, say, now: Date.now });
    if (outcome === "already") say(`${config.dataDir} already uses the ${config.embedder} embedder; nothing to do`);
    if (outcome === "nothing") say(`${config.dataDir} holds no state yet; start the memory service with the new settings`);
    if (outcome === "done") say(`done: ${config.dataDir} now uses the ${config.embedder} embedder; start the memory service with the same settings`);
    await embedders.close();
    process.exit(0);
  } catch (error) {
    // EmbeddingConfigError: an http provider whose vectors do not have T4DM_EMBEDDING_DIM dimensions (the service exits too).
    if (error instanceof EmbedderStartupError || error instanceof ReembedRefusedError || error instanceof EmbeddingConfigError) {
      logger.error("re-embed refused", { event: "reembed.refused", error });
      say((error as Error).message);
      process.exit(2);
    }
    logger.error("re-embed failed; run it again to resume", { event: "reembed.failed", error });
    say(`failed: ${(error as Error).stack ?? String(error)}\nrun it again: it resumes where it stopped`);
    process.exit(1);
  }
}

void main();
