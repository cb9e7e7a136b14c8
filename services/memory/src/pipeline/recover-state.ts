import type { ServiceError } from "@grpc/grpc-js";
import { LearningState } from "@t4dm/learning";
import { walV1, type persistenceV1 } from "@t4dm/proto";
import type { Logger } from "@t4dm/telemetry";
import type { PersistenceClient } from "../sidecar/persistence-client.js";

export type RecoveryMode = "warm" | "cold";

export interface Recovery {
  state: LearningState;
  mode: RecoveryMode;
  checkpointLsn: number;
  checkpointFile: string;
  rejectedCheckpoints: { fileName: string; reason: string }[];
  recordsReplayed: number;
  /** Milliseconds per phase. */
  phases: { checkpointMs: number; replayMs: number; verifyMs: number };
}

/** The checkpoint body does not hash to what its header says: never start on it. */
export class CheckpointMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointMismatchError";
  }
}

const PROGRESS_EVERY = 10_000;

/**
 * Rebuilds the learning state from the sidecar's Recover stream: the newest
 * valid checkpoint (warm) or an empty state (cold), then every durable record
 * after it, applied in LSN order; then checks the checkpoint's state hash and
 * that the stream ended at the durable LSN.
 */
export function recoverState(client: PersistenceClient, logger: Logger, now: () => number = Date.now): Promise<Recovery> {
  return new Promise((resolve, reject) => {
    const started = now();
    let plan: persistenceV1.RecoveryPlan | undefined;
    const chunks: Uint8Array[] = [];
    let state: LearningState | undefined;
    let checkpointMs = 0;
    let replayed = 0;
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      stream.cancel();
      reject(error);
    };

    const stream = client.recover({});
    stream.on("data", (response: persistenceV1.RecoverResponse) => {
      if (failed) return;
      const part = response.part;
      try {
        if (part?.$case === "plan") {
          plan = part.value;
          logger.info("recovery plan received", {
            event: "recovery.plan",
            mode: plan.checkpoint ? "warm" : "cold",
            checkpointLsn: plan.checkpoint?.lsn,
            checkpointFile: plan.checkpointFileName,
            rejected: plan.rejectedCheckpoints,
            durableLsn: plan.durableLsn,
            repair: plan.repairNote || undefined,
          });
          // Each file passed over is worth a look: corrupt, missing, or a checkpoint whose commit never landed.
          for (const rejected of plan.rejectedCheckpoints) {
            logger.warn("recovery passed over a checkpoint", {
              event: "recovery.checkpoint_rejected",
              file: rejected.fileName,
              reason: rejected.reason,
              usedFile: plan.checkpointFileName || undefined,
            });
          }
        } else if (part?.$case === "checkpointChunk") {
          chunks.push(part.value);
        } else if (part?.$case === "records") {
          state ??= restoreCheckpoint();
          for (const record of part.value.records) {
            state.apply(record.lsn, walV1.WalEntry.decode(record.payload));
            replayed += 1;
            if (replayed % PROGRESS_EVERY === 0) {
              logger.info("replaying the WAL", { event: "recovery.progress", replayed, lsn: record.lsn, durableLsn: plan?.durableLsn });
            }
          }
        } else if (part?.$case === "complete") {
          state ??= restoreCheckpoint();
          if (state.appliedLsn !== part.value.lastLsn || state.appliedLsn !== plan!.durableLsn) {
            throw new Error(`recovery ended at LSN ${state.appliedLsn}, the sidecar reports ${part.value.lastLsn} (durable ${plan!.durableLsn})`);
          }
        }
      } catch (error) {
        fail(error as Error);
      }
    });
    stream.on("error", (error: ServiceError) => fail(error));
    stream.on("end", () => {
      if (failed) return;
      if (!plan) return fail(new Error("the recovery stream ended without a plan"));
      state ??= restoreCheckpoint();
      const verifyStarted = now();
      const replayMs = verifyStarted - started - checkpointMs;
      resolve({
        state,
        mode: plan.checkpoint ? "warm" : "cold",
        checkpointLsn: plan.checkpoint?.lsn ?? 0,
        checkpointFile: plan.checkpointFileName,
        rejectedCheckpoints: plan.rejectedCheckpoints,
        recordsReplayed: replayed,
        phases: { checkpointMs, replayMs, verifyMs: now() - verifyStarted },
      });
    });

    /** Decodes the checkpoint and checks its state hash before any record is replayed on top. */
    function restoreCheckpoint(): LearningState {
      const begun = now();
      if (!plan?.checkpoint) return new LearningState();
      const body = Buffer.concat(chunks);
      const restored = LearningState.decode(body);
      const hash = restored.hash();
      const expected = Buffer.from(plan.checkpoint.stateHash);
      // The header keeps the hash zero-padded to its field width.
      if (!hash.subarray(0, expected.length).equals(expected.subarray(0, Math.min(expected.length, hash.length)))) {
        throw new CheckpointMismatchError(`checkpoint ${plan.checkpointFileName} does not hash to its recorded state hash`);
      }
      if (restored.appliedLsn !== plan.checkpoint.lsn) {
        throw new CheckpointMismatchError(`checkpoint ${plan.checkpointFileName} holds LSN ${restored.appliedLsn}, not ${plan.checkpoint.lsn}`);
      }
      checkpointMs = now() - begun;
      return restored;
    }
  });
}
