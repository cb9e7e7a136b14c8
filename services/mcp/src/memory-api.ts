import { readFileSync } from "node:fs";
import { credentials, Metadata, type ChannelCredentials, type ServiceError } from "@grpc/grpc-js";
import { memoryV1 } from "@t4dm/proto";
import type { McpConfig } from "./mcp-config.js";

/**
 * The public MemoryService calls the tools make, already bound to one caller's API key. Every
 * call goes through the memory service's own auth, limits and durability: the MCP server holds
 * no key of its own and decides nothing about tenancy. Failures reject with the gRPC
 * ServiceError (status code and google.rpc details intact).
 */
export interface MemoryApi {
  remember(request: memoryV1.RememberRequest): Promise<memoryV1.RememberResponse>;
  recall(request: memoryV1.RecallRequest): Promise<memoryV1.RecallResponse>;
  reinforce(request: memoryV1.ReinforceRequest): Promise<memoryV1.ReinforceResponse>;
  forget(request: memoryV1.ForgetRequest): Promise<memoryV1.ForgetResponse>;
  getMemory(request: memoryV1.GetMemoryRequest): Promise<memoryV1.GetMemoryResponse>;
  listMemories(request: memoryV1.ListMemoriesRequest): Promise<memoryV1.ListMemoriesResponse>;
  consolidate(request: memoryV1.ConsolidateRequest): Promise<memoryV1.ConsolidateResponse>;
}

/** One channel to the memory service, shared by every session; `forKey` binds a caller's key. */
export class MemoryChannel {
  private readonly client: memoryV1.MemoryServiceClient;

  constructor(private readonly config: Pick<McpConfig, "memoryAddr" | "memoryTls" | "callTimeoutMs">) {
    this.client = new memoryV1.MemoryServiceClient(config.memoryAddr.grpcTarget, channelCredentials(config));
  }

  /** The calls made on behalf of the holder of `apiKey` (undefined: no key, development mode). */
  forKey(apiKey: string | undefined): MemoryApi {
    const c = this.client;
    const unary = <Req, Res>(method: UnaryMethod<Req, Res>) => (request: Req) =>
      new Promise<Res>((resolve, reject) => {
        const metadata = new Metadata();
        if (apiKey) metadata.set("authorization", `Bearer ${apiKey}`);
        method.call(c, request, metadata, { deadline: Date.now() + this.config.callTimeoutMs }, (error, response) =>
          error ? reject(error) : resolve(response),
        );
      });
    return {
      remember: unary(c.remember),
      recall: unary(c.recall),
      reinforce: unary(c.reinforce),
      forget: unary(c.forget),
      getMemory: unary(c.getMemory),
      listMemories: unary(c.listMemories),
      consolidate: unary(c.consolidate),
    };
  }

  close(): void {
    this.client.close();
  }
}

/** The widest overload of a ts-proto client method. */
type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline: number },
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

function channelCredentials(config: Pick<McpConfig, "memoryTls">): ChannelCredentials {
  const tls = config.memoryTls;
  if (!tls) return credentials.createInsecure();
  return credentials.createSsl(
    readFileSync(tls.caFile),
    tls.keyFile ? readFileSync(tls.keyFile) : null,
    tls.certFile ? readFileSync(tls.certFile) : null,
  );
}
