import type { persistenceV1 } from "@t4dm/proto";
import type { Engine } from "../app/engine.js";

/**
 * The checkpoint a restart would start from now, as /status, GetStatus and
 * ww_checkpoint_lsn report it: the last one this process committed, else the
 * one recovery actually loaded. Never simply the newest file the sidecar
 * knows of: after a fallback past a corrupt checkpoint, that one was not used.
 * Before recovery, only the sidecar can say.
 */
export function checkpointInUse(engine: Engine | undefined, sidecar: persistenceV1.GetStatusResponse | undefined): { lsn: number; time?: Date } | undefined {
  const committed = engine?.checkpointer.lastCheckpoint;
  if (committed) return committed;
  if (!engine) return sidecar ? { lsn: sidecar.newestCheckpointLsn, time: sidecar.newestCheckpointTime } : undefined;
  const lsn = engine.recovery.checkpointLsn;
  // The sidecar knows the commit time; take it only when it speaks of the same checkpoint.
  const time = sidecar && sidecar.newestCheckpointLsn === lsn ? sidecar.newestCheckpointTime : undefined;
  return { lsn, time };
}
