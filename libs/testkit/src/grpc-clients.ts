import {
  credentials,
  InterceptingCall,
  makeGenericClientConstructor,
  Metadata,
  type CallOptions,
  type Client,
  type Interceptor,
  type ServiceError,
} from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { adminV1, memoryV1, persistenceV1 } from "@t4dm/proto";

/** Typed clients for every T4DM service at one address, for tests. */
export function connectClients(address: string) {
  const insecure = credentials.createInsecure();
  const Health = makeGenericClientConstructor(healthService as never, "Health");
  return {
    memory: new memoryV1.MemoryServiceClient(address, insecure),
    knowledge: new memoryV1.KnowledgeServiceClient(address, insecure),
    admin: new adminV1.AdminServiceClient(address, insecure),
    health: new Health(address, insecure) as Client & Record<string, Function>,
    close() {
      for (const client of [this.memory, this.knowledge, this.admin, this.health]) client.close();
    },
  };
}

/** A sidecar client; `token` is the shared secret a loopback-TCP sidecar requires. */
export function connectSidecar(address: string, token?: string): persistenceV1.PersistenceServiceClient {
  const withToken: Interceptor = (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set("authorization", `Bearer ${token}`);
        next(metadata, listener);
      },
    });
  return new persistenceV1.PersistenceServiceClient(address, credentials.createInsecure(), {
    "grpc.default_authority": "t4dm-sidecar",
    interceptors: token ? [withToken] : [],
  });
}

/** Calls a callback-style unary method and resolves with its response or ServiceError. */
export function call<Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
  metadata: Metadata = new Metadata(),
  options: Partial<CallOptions> = { deadline: Date.now() + 30_000 },
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, metadata, options, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

/** The widest overload of a ts-proto client method (the one TypeScript infers from). */
type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/** Like call, but resolves with the ServiceError the call is expected to fail with. */
export async function callError<Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
): Promise<ServiceError> {
  try {
    await call(method, request);
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** grpc.health.v1 Check for a service name ("" is the whole server). */
export function checkHealth(client: Client & Record<string, Function>, service = ""): Promise<string> {
  return new Promise((resolve, reject) => {
    client.Check!({ service }, (error: ServiceError | null, response: { status: string | number }) => {
      if (error) return reject(error);
      resolve(typeof response.status === "number" ? ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"][response.status]! : response.status);
    });
  });
}
