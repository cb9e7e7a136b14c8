import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import type { Config } from "@t4dm/config";
import { persistenceV1 } from "@t4dm/proto";
import { bindServer, partialService } from "@t4dm/rpc";
import type { Logger } from "@t4dm/telemetry";

export interface SidecarServer {
  readonly address: string;
  readonly health: HealthImplementation;
  close(): Promise<void>;
}

/** The sidecar's gRPC surface on its private address. */
export async function startSidecarServer(
  config: Config,
  logger: Logger,
  getStatus: () => persistenceV1.GetStatusResponse,
): Promise<SidecarServer> {
  const server = new Server();
  const health = new HealthImplementation({ "": "SERVING", [SERVICE_NAME]: "SERVING" });
  health.addToServer(server);

  const implementation: Partial<persistenceV1.PersistenceServiceServer> = {
    getStatus(
      _call: ServerUnaryCall<persistenceV1.GetStatusRequest, persistenceV1.GetStatusResponse>,
      callback: sendUnaryData<persistenceV1.GetStatusResponse>,
    ) {
      callback(null, getStatus());
    },
  };
  server.addService(persistenceV1.PersistenceServiceService, partialService(persistenceV1.PersistenceServiceService, implementation));

  const address = await bindServer(server, config.sidecarAddr, ServerCredentials.createInsecure());
  logger.info("sidecar listening", { event: "grpc.listening", addr: address });
  return {
    address,
    health,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

const SERVICE_NAME = "t4dm.persistence.v1.PersistenceService";
