import { ReflectionService } from "@grpc/reflection";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import type { ListenAddress } from "@t4dm/config";
import { adminV1, memoryV1, reflectionPackageDefinition } from "@t4dm/proto";
import { bindServer, partialService, withSafeDecoding } from "@t4dm/rpc";
import type { Logger } from "@t4dm/telemetry";
import { adminHandlers, type AdminContext } from "./admin-handlers.js";
import { knowledgeHandlers } from "./knowledge-handlers.js";
import { memoryHandlers } from "./memory-handlers.js";
import type { Readiness } from "../app/readiness.js";

/** The public services, by their full names (health reports each). */
export const PUBLIC_SERVICES = [
  "t4dm.memory.v1.MemoryService",
  "t4dm.memory.v1.KnowledgeService",
  "t4dm.admin.v1.AdminService",
] as const;

export interface PublicServer {
  readonly address: string;
  close(): Promise<void>;
}

/**
 * The public gRPC port: memory, knowledge and admin services, plus
 * grpc.health.v1 (mirroring readiness) and server reflection for grpcurl.
 */
export async function startPublicServer(
  address: ListenAddress,
  logger: Logger,
  readiness: Readiness,
  admin: AdminContext,
  options: { credentials: ServerCredentials; maxMessageBytes: number },
): Promise<PublicServer> {
  const server = new Server({
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_send_message_length": options.maxMessageBytes,
  });

  const health = new HealthImplementation();
  const publishHealth = (ready: boolean) => {
    const state = ready ? "SERVING" : "NOT_SERVING";
    health.setStatus("", state);
    for (const name of PUBLIC_SERVICES) health.setStatus(name, state);
  };
  publishHealth(readiness.ready);
  readiness.onChange(publishHealth);
  health.addToServer(server);

  new ReflectionService(reflectionPackageDefinition() as never, {
    services: [...PUBLIC_SERVICES, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"],
  }).addToServer(server);

  server.addService(withSafeDecoding(memoryV1.MemoryServiceService), partialService(memoryV1.MemoryServiceService, memoryHandlers(admin.engine, admin.gate)));
  server.addService(withSafeDecoding(memoryV1.KnowledgeServiceService), partialService(memoryV1.KnowledgeServiceService, knowledgeHandlers(admin.engine, admin.gate, () => new Date())));
  server.addService(withSafeDecoding(adminV1.AdminServiceService), partialService(adminV1.AdminServiceService, adminHandlers(admin)));

  const bound = await bindServer(server, address, options.credentials);
  logger.info("gRPC listening", { event: "grpc.listening", addr: bound });
  return {
    address: bound,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}
