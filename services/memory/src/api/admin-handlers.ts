import { adminV1 } from "@t4dm/proto";
import { allows } from "./auth/api-keys.js";
import { guarded, type Gate } from "./auth/guarded.js";
import type { Logger } from "@t4dm/telemetry";
import type { Readiness } from "../app/readiness.js";
import type { SidecarLink } from "../sidecar/sidecar-link.js";
import { checkpointInUse } from "../sidecar/checkpoint-in-use.js";
import { requireEngine, type Engine } from "../app/engine.js";
import type { CheckpointResult } from "../pipeline/checkpointer.js";
import { VERSION } from "../app/version.js";

export interface AdminContext {
  logger: Logger;
  readiness: Readiness;
  sidecar: SidecarLink;
  startTime: Date;
  bufferCapacity: number;
  /** Undefined until recovery finished. */
  engine: () => Engine | undefined;
  gate: Gate;
  /** Operations in flight right now (the admission count). */
  inFlight: () => number;
}

async function storageHealth(engine: Engine): Promise<adminV1.StorageHealth[]> {
  const [episodic, graph] = await Promise.all([engine.stores.episodic.health(), engine.stores.graph.health()]);
  const pending = engine.storeSync.lastError;
  return [episodic, graph].map((h) => ({ ...h, detail: pending && h.healthy ? `${h.detail}; last sync error: ${pending}` : h.detail }));
}

const MODES = { warm: adminV1.RecoveryMode.RECOVERY_MODE_WARM, cold: adminV1.RecoveryMode.RECOVERY_MODE_COLD } as const;

const ADMIN = () => ({ namespaces: [], admin: true });

/** What AdminService.GetStatus and HTTP GET /status report. */
export async function statusOf(context: AdminContext): Promise<adminV1.GetStatusResponse> {
  const sidecar = context.sidecar.status;
  const engine = context.engine();
  const state = engine?.pipeline.durable;
  const checkpoint = checkpointInUse(engine, sidecar);
  return {
    ready: context.readiness.ready,
    recoveryMode: engine ? MODES[engine.recovery.mode] : adminV1.RecoveryMode.RECOVERY_MODE_UNSPECIFIED,
    appliedLsn: state?.appliedLsn ?? 0,
    durableLsn: Math.max(engine?.pipeline.durableLsn ?? 0, sidecar?.durableLsn ?? 0),
    checkpointLsn: checkpoint?.lsn ?? 0,
    checkpointTime: checkpoint?.time,
    bufferSize: state?.buffer.size ?? 0,
    bufferCapacity: state?.bufferCapacity || context.bufferCapacity,
    inFlightOps: context.inFlight(),
    neuromodulators: state?.neuromodulators.levels(),
    storage: engine ? await storageHealth(engine) : [],
    sidecarConnected: context.sidecar.connected,
    version: VERSION,
    startTime: context.startTime,
    stateHash: state?.hash() ?? Buffer.alloc(0),
    degraded: Object.values(context.readiness.degraded),
  };
}

/**
 * GET /status: GetStatus in its JSON mapping, except state_hash. A bytes field
 * renders as base64 in JSON (and in grpcurl); operators compare the state hash
 * with sha256sum output and the logs, so every text rendering we control
 * (this, the log events) writes it as lowercase hex.
 */
export function statusJson(status: adminV1.GetStatusResponse): unknown {
  return { ...(adminV1.GetStatusResponse.toJSON(status) as object), stateHash: Buffer.from(status.stateHash).toString("hex") };
}

/** Admin Checkpoint's answer, the same over gRPC and HTTP (as JSON: lsn, fileName, sizeBytes). */
export function checkpointAnswer(result: CheckpointResult): adminV1.CheckpointResponse {
  return { lsn: result.lsn, fileName: result.fileName, sizeBytes: result.sizeBytes };
}

/** AdminService: every call needs an admin key (once keys are configured) and is audit-logged. */
export function adminHandlers(context: AdminContext): adminV1.AdminServiceServer {
  const ready = (): Engine => requireEngine(context.engine);
  return {
    getStatus: guarded(context.gate, "AdminService/GetStatus", ADMIN, () => statusOf(context)),
    checkpoint: guarded(context.gate, "AdminService/Checkpoint", ADMIN, async (): Promise<adminV1.CheckpointResponse> => {
      return checkpointAnswer(await ready().checkpointer.checkpoint("admin", { fresh: true }));
    }),
    reset: guarded(
      context.gate,
      "AdminService/Reset",
      (request: adminV1.ResetRequest) => ({ namespaces: request.namespace ? [request.namespace] : [], admin: true }),
      (request: adminV1.ResetRequest) => ready().lifecycle.reset(request),
    ),
    setRetentionPolicy: guarded(
      context.gate,
      "AdminService/SetRetentionPolicy",
      (request: adminV1.SetRetentionPolicyRequest) => ({ namespaces: request.namespace ? [request.namespace] : [], admin: true }),
      (request: adminV1.SetRetentionPolicyRequest) => ready().retention.set(request),
    ),
    getRetentionPolicy: guarded(
      context.gate,
      "AdminService/GetRetentionPolicy",
      (request: adminV1.GetRetentionPolicyRequest) => ({ namespaces: request.namespace ? [request.namespace] : [], admin: true }),
      async (request: adminV1.GetRetentionPolicyRequest) => ready().retention.get(request),
    ),
    // Export and import move a tenant's data: the key must be admin and allow the namespace, as for Reset.
    exportMemories: guarded(
      context.gate,
      "AdminService/ExportMemories",
      (request: adminV1.ExportMemoriesRequest) => ({ namespaces: request.namespace ? [request.namespace] : [], admin: true }),
      (request: adminV1.ExportMemoriesRequest) => ready().exports.page(request),
    ),
    importMemories: guarded(
      context.gate,
      "AdminService/ImportMemories",
      (request: adminV1.ImportMemoriesRequest) => ({ namespaces: request.namespace ? [request.namespace] : [], admin: true }),
      (request: adminV1.ImportMemoriesRequest) => ready().imports.importBatch(request),
    ),
    // Only the namespaces this key may use: another tenant's name is never revealed.
    listNamespaces: guarded(context.gate, "AdminService/ListNamespaces", ADMIN, async (_request: adminV1.ListNamespacesRequest, principal) => ({
      namespaces: (await ready().exports.namespaces()).filter((namespace) => allows(principal, namespace)),
    })),
  };
}
