import { timingSafeEqual } from "node:crypto";
import {
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerWritableStream,
  type sendUnaryData,
  type ServiceError,
} from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import type { ListenAddress } from "@t4dm/config";
import { persistenceV1 } from "@t4dm/proto";
import {
  authorized,
  bindServer,
  errorToStatus,
  InvalidArgumentError,
  mappingErrors,
  partialService,
  streamThrough,
  UnauthenticatedError,
  unaryThrough,
  type CallContext,
  type Middleware,
} from "@t4dm/rpc";
import type { Logger } from "@t4dm/telemetry";
import { toRpcError } from "./rpc-errors.js";
import { WalFullError } from "./wal/wal-errors.js";
import type { Sidecar } from "./sidecar.js";

const SERVICE_NAME = "t4dm.persistence.v1.PersistenceService";

export interface SidecarServer {
  readonly address: string;
  readonly health: HealthImplementation;
  /** Stops accepting calls and waits for open ones, for at most `graceMs`, then cuts them. */
  close(graceMs?: number): Promise<void>;
  /** Open Append streams: a connected memory service. */
  readonly writers: number;
}

/** The sidecar's gRPC surface on its private address; thin over Sidecar. */
export async function startSidecarServer(address: ListenAddress, sidecar: Sidecar, logger: Logger, token?: string): Promise<SidecarServer> {
  const server = new Server({ "grpc.max_receive_message_length": 64 * 1024 * 1024 });
  const health = new HealthImplementation({ "": "SERVING", [SERVICE_NAME]: "SERVING" });
  health.addToServer(server);
  sidecar.writer.onPoisoned((error) => {
    logger.error("WAL writer poisoned: no more acknowledgements until a restart", { event: "wal.poisoned", reason: error.reason });
    health.setStatus("", "NOT_SERVING");
    health.setStatus(SERVICE_NAME, "NOT_SERVING");
  });
  /** Errors inside a stream, after the chain let it in: the same table, the same boundary. */
  const fail = (method: string, error: unknown) => errorToStatus(toRpcError(error), logger, method);
  // The sidecar's chain (libs/rpc): its token check, then its errors mapped by type.
  const chain: Middleware[] = [...(token ? [authorized(sharedToken(token, logger))] : []), mappingErrors(toRpcError)];
  const refuseStream = (status: Partial<ServiceError>, call: { emit(event: "error", value: unknown): void }) => void call.emit("error", status);

  let writers = 0;
  // Open Append streams hear, unasked, when a checkpoint freed space at the cap.
  const spaceWatchers = new Set<() => void>();
  sidecar.writer.onSpaceFreed(() => {
    logger.info("WAL space freed; ordinary records are accepted again", { event: "wal.space_freed", segments: sidecar.writer.segmentList.length });
    for (const notify of spaceWatchers) notify();
  });
  const implementation: Partial<persistenceV1.PersistenceServiceServer> = {
    append: streamThrough(chain, logger, "PersistenceService/Append", (call: ServerDuplexStream<persistenceV1.AppendRequest, persistenceV1.AppendResponse>) => {
      writers += 1;
      let counted = true;
      let notifySpace = () => {};
      const leave = () => {
        spaceWatchers.delete(notifySpace);
        if (counted) writers -= 1;
        counted = false;
      };
      call.on("close", leave);
      call.on("finish", leave);
      call.on("error", leave);
      let failed = false;
      let pending = 0;
      let ended = false;
      let acked = 0;
      let ackScheduled = false;
      let finished = false;
      notifySpace = () => {
        if (!failed && !finished && !call.cancelled) call.write({ durableLsn: acked, checkpointRequested: sidecar.writer.checkpointRequested, walFull: sidecar.writer.full, refusedFromLsn: 0 });
      };
      spaceWatchers.add(notifySpace);
      // One ack per group commit, not one per message: "durable up to n" covers them all.
      const ack = (durableLsn: number) => {
        acked = Math.max(acked, durableLsn);
        if (ackScheduled) return;
        ackScheduled = true;
        queueMicrotask(() => {
          ackScheduled = false;
          if (!failed && !call.cancelled) call.write({ durableLsn: acked, checkpointRequested: sidecar.writer.checkpointRequested, walFull: sidecar.writer.full, refusedFromLsn: 0 });
          finishIfDone();
        });
      };
      const finishIfDone = () => {
        if (ended && pending === 0 && !failed && !ackScheduled && !finished) {
          finished = true;
          call.end();
        }
      };
      /**
       * Set when the WAL refused records at its cap: the writer's later
       * messages, sent before it heard, continue the refused sequence and
       * are refused with it (dropped). The first message that continues the
       * accepted sequence ends this.
       */
      let refusedFrom: number | undefined;
      call.on("data", (request: persistenceV1.AppendRequest) => {
        if (failed) return;
        const first = request.records[0]?.lsn;
        if (refusedFrom !== undefined) {
          if (first !== undefined && first > sidecar.writer.lastAcceptedLsn + 1) return;
          refusedFrom = undefined;
        }
        const outcome = sidecar.tryAppend(request.records);
        if ("refused" in outcome && outcome.refused instanceof WalFullError) {
          // An answer for these records only: the stream, and what it already sent, stay good.
          refusedFrom = outcome.refused.refusedFromLsn;
          logger.warn("append refused: the WAL is at its cap", { event: "append.wal_full", refusedFromLsn: refusedFrom, segments: outcome.refused.segmentCount });
          if (!call.cancelled) call.write({ durableLsn: acked, checkpointRequested: true, walFull: true, refusedFromLsn: refusedFrom });
          finishIfDone();
          return;
        }
        pending += 1;
        const durable = "refused" in outcome ? Promise.reject(outcome.refused) : outcome.durable;
        durable.then(
          (durableLsn) => {
            pending -= 1;
            ack(durableLsn);
          },
          (error: unknown) => {
            pending -= 1;
            if (failed) return;
            failed = true;
            logger.warn("append refused", { event: "append.refused", error });
            call.emit("error", fail("PersistenceService/Append", error));
          },
        );
      });
      call.on("end", () => {
        ended = true;
        finishIfDone();
      });
    }, refuseStream),

    writeCheckpoint: streamThrough(chain, logger, "PersistenceService/WriteCheckpoint", (
      call: ServerReadableStream<persistenceV1.WriteCheckpointRequest, persistenceV1.WriteCheckpointResponse>,
      callback: sendUnaryData<persistenceV1.WriteCheckpointResponse>,
    ) => {
      let header: persistenceV1.CheckpointHeader | undefined;
      const chunks: Uint8Array[] = [];
      let problem: string | undefined;
      call.on("data", (request: persistenceV1.WriteCheckpointRequest) => {
        const part = request.part;
        if (part?.$case === "header") {
          if (header) problem ??= "header sent twice";
          header = part.value;
        } else if (part?.$case === "chunk") {
          if (!header) problem ??= "chunk before header";
          chunks.push(part.value);
        }
      });
      call.on("end", () => {
        if (problem || !header) {
          return callback(fail("PersistenceService/WriteCheckpoint", new InvalidArgumentError([{ field: "part", description: problem ?? "no header" }])));
        }
        const body = Buffer.concat(chunks);
        if (body.length !== header.bodyBytes) {
          const description = `header says ${header.bodyBytes} body bytes, got ${body.length}`;
          return callback(fail("PersistenceService/WriteCheckpoint", new InvalidArgumentError([{ field: "chunk", description }])));
        }
        sidecar
          .writeCheckpoint({ lsn: header.lsn, stateFormatVersion: header.formatVersion, stateHash: Buffer.from(header.stateHash), body })
          .then(
            (response) => callback(null, response),
            (error: unknown) => callback(fail("PersistenceService/WriteCheckpoint", error)),
          );
      });
    }, (status, _call, callback) => callback(status as ServiceError)),

    recover: streamThrough(chain, logger, "PersistenceService/Recover", (call: ServerWritableStream<persistenceV1.RecoverRequest, persistenceV1.RecoverResponse>) => {
      void (async () => {
        try {
          for await (const part of sidecar.recover()) {
            if (call.cancelled) return;
            // Respect flow control: wait for the client to drain large streams.
            if (!call.write(part)) await new Promise((resolve) => call.once("drain", resolve));
          }
          call.end();
        } catch (error) {
          logger.error("recovery stream failed", { event: "recovery.failed", error });
          call.emit("error", fail("PersistenceService/Recover", error));
        }
      })();
    }, refuseStream),

    getStatus: unaryThrough(chain, logger, "PersistenceService/GetStatus", async () => ({ ...sidecar.status(), connectedWriters: writers })),
  };
  server.addService(persistenceV1.PersistenceServiceService, partialService(persistenceV1.PersistenceServiceService, implementation));

  const bound = await bindServer(server, address, ServerCredentials.createInsecure());
  logger.info("sidecar listening", { event: "grpc.listening", addr: bound });
  return {
    address: bound,
    health,
    get writers() {
      return writers;
    },
    close: (graceMs = 5000) =>
      new Promise((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

/**
 * On loopback TCP every call must carry the shared token (a unix socket
 * relies on its 0600 mode): the sidecar's one auth middleware.
 */
function sharedToken(token: string, logger: Logger): (call: CallContext) => void {
  return (call) => {
    const value = call.metadata.get("authorization")[0];
    if (typeof value === "string" && timingSafeEqualStrings(value, `Bearer ${token}`)) return;
    logger.warn("sidecar call without the shared token refused", { event: "audit.denied", method: call.method });
    throw new UnauthenticatedError("the sidecar needs its shared token", "SIDECAR_TOKEN_REQUIRED");
  };
}

function timingSafeEqualStrings(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
