import path from "node:path";
import type { Config } from "@t4dm/config";
import type { Logger } from "@t4dm/telemetry";
import { CheckpointCodec } from "./checkpoints/checkpoint-codec.js";
import { CheckpointStore } from "./checkpoints/checkpoint-store.js";
import { isCapExempt } from "./cap-exempt.js";
import { checkpointCommitOf, type CheckpointCommit } from "./checkpoint-commits.js";
import { Sidecar } from "./sidecar.js";
import type { FileLayer } from "./storage/file-layer.js";
import { openWal } from "./wal/open-wal.js";

export type SidecarConfig = Pick<Config, "dataDir" | "walSyncMode" | "walSegmentBytes" | "walMaxSegments" | "checkpointKeep">;

export interface OpenedSidecar {
  sidecar: Sidecar;
  /** Finishes retention work, closes the WAL and stops the codec worker. */
  close(): Promise<void>;
}

/**
 * Opens the sidecar's state on a data directory: the checkpoint store, then
 * the WAL (repairing a torn tail, refusing corruption with WalCorruptError),
 * collecting the checkpoint commits recorded in it.
 */
export async function openSidecar(layer: FileLayer, config: SidecarConfig, logger: Logger, randomSalt?: () => number): Promise<OpenedSidecar> {
  await layer.mkdir(config.dataDir);
  const codec = new CheckpointCodec();
  try {
    const checkpoints = new CheckpointStore(layer, path.join(config.dataDir, "checkpoints"), codec, config.checkpointKeep);
    await checkpoints.open();
    const newestCheckpointLsn = (await checkpoints.list())[0] ?? 0;
    const commits = new Map<number, CheckpointCommit>();
    const { writer, repair } = await openWal({
      layer,
      dataDir: config.dataDir,
      syncMode: config.walSyncMode,
      segmentBytes: config.walSegmentBytes,
      maxSegments: config.walMaxSegments,
      newestCheckpointLsn,
      logger,
      randomSalt,
      isCapExempt,
      onRecord: (record) => {
        const commit = checkpointCommitOf(record);
        if (commit) commits.set(commit.lsn, commit);
      },
    });
    const sidecar = new Sidecar({ layer, walDir: path.join(config.dataDir, "wal"), writer, checkpoints, commits, repair, config, logger });
    return {
      sidecar,
      async close() {
        await sidecar.settled();
        await writer.close();
        await codec.close();
      },
    };
  } catch (error) {
    await codec.close();
    throw error;
  }
}
