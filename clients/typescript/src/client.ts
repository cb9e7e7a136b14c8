import { randomUUID } from "node:crypto";
import { credentials, Metadata, status, type CallOptions, type ChannelCredentials, type ClientUnaryCall, type ServiceError } from "@grpc/grpc-js";
import {
  AdminServiceClient,
  CheckpointRequest,
  GetStatusRequest,
  type CheckpointResponse,
  type GetStatusResponse,
} from "./gen/t4dm/admin/v1/admin_service.js";
import {
  BatchRememberRequest,
  ConsolidateRequest,
  ForgetRequest,
  GetMemoryRequest,
  ListMemoriesRequest,
  MemoryServiceClient,
  RecallRequest,
  ReinforceRequest,
  RememberRequest,
  type BatchRememberResponse,
  type ConsolidateResponse,
  type ForgetResponse,
  type GetMemoryResponse,
  type ListMemoriesResponse,
  type RecallResponse,
  type ReinforceResponse,
  type RememberResponse,
} from "./gen/t4dm/memory/v1/memory_service.js";
import type { Memory } from "./gen/t4dm/memory/v1/memory.js";
import { T4dmCallError, T4dmOptionError } from "./errors.js";
import { resolveOptions, type ConnectOptions, type ResolvedOptions } from "./options.js";
import { withRetries } from "./retry.js";

/** A request with only the fields that matter set; the rest take their proto defaults. */
export type Input<T, K extends keyof T> = Partial<T> & Pick<T, K>;

/** Per call: a deadline other than the client's default. */
export interface CallSettings {
  readonly deadlineMs?: number;
}

type Unary<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: (error: ServiceError | null, response: Res) => void) => ClientUnaryCall;

/**
 * Connects to a T4DM memory service. The channel is lazy: nothing is dialled
 * until the first call, and a service that is not up yet is retried like any
 * other UNAVAILABLE.
 */
export function connect(address: string, options: ConnectOptions = {}): T4dmClient {
  return new T4dmClient(address, resolveOptions(address, options));
}

/**
 * The ergonomic client: one method per call of t4dm.memory.v1.MemoryService
 * (and the admin calls an agent needs), each with a deadline, the API key,
 * and retries of UNAVAILABLE that resend the same request_id, so a retried
 * Remember, Reinforce or Forget is applied once. Errors are T4dmCallError
 * (what the service said) or T4dmOptionError (refused before sending).
 * `stubs` are the generated grpc-js clients, for anything not wrapped here.
 */
export class T4dmClient {
  readonly stubs: { readonly memory: MemoryServiceClient; readonly admin: AdminServiceClient };

  /** Use `connect()`. */
  constructor(
    readonly address: string,
    private readonly options: ResolvedOptions,
  ) {
    const channelOptions = {
      // grpc-js waits up to 2 minutes between reconnects by default; keep it near our own backoff.
      "grpc.initial_reconnect_backoff_ms": options.retry.initialBackoffMs,
      "grpc.max_reconnect_backoff_ms": options.retry.maxBackoffMs,
    };
    const creds = channelCredentials(options);
    const memory = new MemoryServiceClient(address, creds, channelOptions);
    // The admin stub shares the memory stub's channel: one connection per client.
    const admin = new AdminServiceClient(address, creds, { ...channelOptions, channelOverride: memory.getChannel() });
    this.stubs = { memory, admin };
  }

  /** Remembers one memory; a retry resends the same request_id (one is made when not given). */
  remember(request: Input<RememberRequest, "namespace" | "content">, settings?: CallSettings): Promise<RememberResponse> {
    const message = RememberRequest.fromPartial({ ...object("request", request), requestId: request.requestId || randomUUID() });
    return this.unary("Remember", this.stubs.memory.remember, message, message.requestId, settings);
  }

  /** Remembers many at once; each request without a request_id gets its own. */
  batchRemember(requests: Input<RememberRequest, "namespace" | "content">[], settings?: CallSettings): Promise<BatchRememberResponse> {
    if (!Array.isArray(requests)) throw new T4dmOptionError("requests", "must be an array of remember requests");
    const message = BatchRememberRequest.fromPartial({
      requests: requests.map((r, i) => ({ ...object(`requests[${i}]`, r), requestId: r.requestId || randomUUID() })),
    });
    return this.unary("BatchRemember", this.stubs.memory.batchRemember, message, "", settings);
  }

  recall(request: Input<RecallRequest, "namespace">, settings?: CallSettings): Promise<RecallResponse> {
    return this.unary("Recall", this.stubs.memory.recall, RecallRequest.fromPartial(object("request", request)), "", settings);
  }

  /** Rewards what a recall returned; a retry resends the same request_id, so the reward counts once. */
  reinforce(request: Input<ReinforceRequest, "namespace" | "recallId" | "reward">, settings?: CallSettings): Promise<ReinforceResponse> {
    const message = ReinforceRequest.fromPartial({ ...object("request", request), requestId: request.requestId || randomUUID() });
    return this.unary("Reinforce", this.stubs.memory.reinforce, message, message.requestId, settings);
  }

  forget(request: Input<ForgetRequest, "namespace">, settings?: CallSettings): Promise<ForgetResponse> {
    const message = ForgetRequest.fromPartial({ ...object("request", request), requestId: request.requestId || randomUUID() });
    return this.unary("Forget", this.stubs.memory.forget, message, message.requestId, settings);
  }

  async getMemory(request: Input<GetMemoryRequest, "namespace" | "id">, settings?: CallSettings): Promise<Memory | undefined> {
    const response: GetMemoryResponse = await this.unary("GetMemory", this.stubs.memory.getMemory, GetMemoryRequest.fromPartial(object("request", request)), "", settings);
    return response.memory;
  }

  listMemories(request: Input<ListMemoriesRequest, "namespace">, settings?: CallSettings): Promise<ListMemoriesResponse> {
    return this.unary("ListMemories", this.stubs.memory.listMemories, ListMemoriesRequest.fromPartial(object("request", request)), "", settings);
  }

  /** Every memory the listing matches, page after page. */
  async *allMemories(request: Input<ListMemoriesRequest, "namespace">, settings?: CallSettings): AsyncGenerator<Memory> {
    let pageToken = request.pageToken ?? "";
    do {
      const page = await this.listMemories({ ...request, pageToken }, settings);
      yield* page.memories;
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
  }

  consolidate(request: Input<ConsolidateRequest, "namespace">, settings?: CallSettings): Promise<ConsolidateResponse> {
    return this.unary("Consolidate", this.stubs.memory.consolidate, ConsolidateRequest.fromPartial(object("request", request)), "", settings);
  }

  getStatus(settings?: CallSettings): Promise<GetStatusResponse> {
    return this.unary("GetStatus", this.stubs.admin.getStatus, GetStatusRequest.fromPartial({}), "", settings, this.stubs.admin);
  }

  /** Asks for a checkpoint now (an admin key when keys are configured). */
  checkpoint(settings?: CallSettings): Promise<CheckpointResponse> {
    return this.unary("Checkpoint", this.stubs.admin.checkpoint, CheckpointRequest.fromPartial({}), "", settings, this.stubs.admin);
  }

  close(): void {
    this.stubs.admin.close();
    this.stubs.memory.close();
  }

  private unary<Req, Res>(
    method: string,
    stubMethod: Unary<Req, Res>,
    request: Req,
    requestId: string,
    settings: CallSettings = {},
    stub: object = this.stubs.memory,
  ): Promise<Res> {
    const deadlineMs = settings.deadlineMs ?? this.options.deadlineMs;
    if (typeof deadlineMs !== "number" || !Number.isFinite(deadlineMs) || deadlineMs <= 0) {
      return Promise.reject(new T4dmOptionError("deadlineMs", `must be a finite number > 0, got ${String(deadlineMs)}`));
    }
    const deadline = Date.now() + deadlineMs;
    const onRetry = this.options.onRetry;
    return withRetries(
      () =>
        new Promise<Res>((resolve, reject) => {
          stubMethod.call(stub, request, this.metadata(), { deadline }, (error, response) =>
            error ? reject(new T4dmCallError(method, error)) : resolve(response),
          );
        }),
      {
        policy: this.options.retry,
        deadline,
        isRetryable: (error) => error instanceof T4dmCallError && error.code === status.UNAVAILABLE,
        onRetry: onRetry && ((retry) => onRetry({ method, requestId, ...retry })),
      },
    );
  }

  private metadata(): Metadata {
    const metadata = new Metadata();
    if (this.options.apiKey) metadata.set("authorization", `Bearer ${this.options.apiKey}`);
    return metadata;
  }
}

function channelCredentials(options: ResolvedOptions): ChannelCredentials {
  if (!options.tls) return credentials.createInsecure();
  const pem = (value: string | Buffer | undefined) => (value === undefined ? null : Buffer.from(value));
  return credentials.createSsl(pem(options.tls.rootCerts), pem(options.tls.privateKey), pem(options.tls.certChain));
}

/** Call arguments must be objects; anything else is refused before a request is built. */
function object<T>(name: string, value: T): T {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new T4dmOptionError(name, "must be an object");
  return value;
}
