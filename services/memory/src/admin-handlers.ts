import { adminV1 } from "@t4dm/proto";
import { unary } from "@t4dm/rpc";
import type { Logger } from "@t4dm/telemetry";
import type { Readiness } from "./readiness.js";
import type { SidecarLink } from "./sidecar-link.js";
import { VERSION } from "./version.js";

export interface AdminContext {
  logger: Logger;
  readiness: Readiness;
  sidecar: SidecarLink;
  startTime: Date;
  bufferCapacity: number;
}

/**
 * AdminService handlers built so far. Checkpoint and Reset need the
 * learning state and the WAL; until then grpc-js answers UNIMPLEMENTED.
 */
export function adminHandlers(context: AdminContext): Partial<adminV1.AdminServiceServer> {
  return {
    getStatus: unary(context.logger, "AdminService/GetStatus", async (): Promise<adminV1.GetStatusResponse> => {
      const sidecar = context.sidecar.status;
      return {
        ready: context.readiness.ready,
        recoveryMode: adminV1.RecoveryMode.RECOVERY_MODE_UNSPECIFIED,
        appliedLsn: 0,
        durableLsn: sidecar?.durableLsn ?? 0,
        checkpointLsn: sidecar?.newestCheckpointLsn ?? 0,
        checkpointTime: sidecar?.newestCheckpointTime,
        bufferSize: 0,
        bufferCapacity: context.bufferCapacity,
        inFlightOps: 0,
        neuromodulators: undefined,
        storage: [],
        sidecarConnected: context.sidecar.connected,
        version: VERSION,
        startTime: context.startTime,
      };
    }),
  };
}
