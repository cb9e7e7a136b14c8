import {
  credentials,
  InterceptingCall,
  Metadata,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ClientWritableStream,
  type Interceptor,
  type ServiceError,
} from "@grpc/grpc-js";
import { persistenceV1 } from "@t4dm/proto";
import { openAppendStream } from "./append-stream.js";

/**
 * What the memory service needs from its persistence sidecar, and nothing
 * more: the one seam between this service and the generated gRPC client.
 * The sidecar is the durability authority: an Append ack means "durable up
 * to LSN n" (records re-sent after a break are acknowledged again, a gap is
 * refused), Recover streams the state to start from, and a checkpoint counts
 * only once WriteCheckpoint answered.
 */
export interface PersistenceClient {
  /** The sidecar's status; rejects with the call's ServiceError (a deadline passed, the sidecar is gone). */
  getStatus(deadlineMs: number): Promise<persistenceV1.GetStatusResponse>;
  /** Opens the long-lived Append stream (WAL records out, durable-LSN acks back). */
  append(): ClientDuplexStream<persistenceV1.AppendRequest, persistenceV1.AppendResponse>;
  /** Opens the Recover stream: the recovery plan, the checkpoint's body, then the WAL tail. */
  recover(request: persistenceV1.RecoverRequest): ClientReadableStream<persistenceV1.RecoverResponse>;
  /** Opens a checkpoint upload; `done` gets the sidecar's answer once it committed (or refused) it. */
  writeCheckpoint(
    done: (error: ServiceError | null, response?: persistenceV1.WriteCheckpointResponse) => void,
  ): ClientWritableStream<persistenceV1.WriteCheckpointRequest>;
}

/** A connected PersistenceClient, with the channel its owner watches and the way to close it. */
export interface PersistenceConnection {
  readonly client: PersistenceClient;
  readonly channel: ReturnType<persistenceV1.PersistenceServiceClient["getChannel"]>;
  close(): void;
}

/** Reconnect backoff bounds towards the sidecar, in milliseconds. */
export const SIDECAR_BACKOFF_MIN_MS = 50;
export const SIDECAR_BACKOFF_MAX_MS = 250;

/**
 * Connects to the sidecar at `target` (a unix socket or loopback TCP with its
 * shared `token`). The channel connects lazily: the first call starts it.
 */
export function connectPersistence(target: string, token?: string): PersistenceConnection {
  const raw = new persistenceV1.PersistenceServiceClient(target, credentials.createInsecure(), {
    // A unix socket has no authority; name it so logs and TLS-free HTTP/2 are happy.
    "grpc.default_authority": "t4dm-sidecar",
    // The sidecar is local: after a restart, reconnect at once, not after
    // grpc-js's default backoff of up to two minutes.
    "grpc.initial_reconnect_backoff_ms": SIDECAR_BACKOFF_MIN_MS,
    "grpc.max_reconnect_backoff_ms": SIDECAR_BACKOFF_MAX_MS,
    // Checkpoints and recovery batches are larger than the 4 MiB default.
    "grpc.max_receive_message_length": 64 * 1024 * 1024,
    "grpc.max_send_message_length": 64 * 1024 * 1024,
    // Recover streams a segment's records after scanning it; a 16 MiB HTTP/2 window (default
    // 64 KiB) lets the sidecar read ahead while this process applies, instead of taking turns.
    "grpc-node.flow_control_window": 16 * 1024 * 1024,
    interceptors: token ? [withToken(token)] : [],
  });
  const client: PersistenceClient = {
    getStatus: (deadlineMs) =>
      new Promise((resolve, reject) => {
        raw.getStatus({}, new Metadata(), { deadline: Date.now() + deadlineMs }, (error: ServiceError | null, response) =>
          error ? reject(error) : resolve(response),
        );
      }),
    // The busiest stream there is: opened with the encoder that keeps its buffer (append-stream.ts).
    append: () => openAppendStream(raw),
    recover: (request) => raw.recover(request),
    writeCheckpoint: (done) => raw.writeCheckpoint(new Metadata(), done),
  };
  return { client, channel: raw.getChannel(), close: () => raw.close() };
}

/** Adds the sidecar's shared token to every call. */
function withToken(token: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set("authorization", `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}
