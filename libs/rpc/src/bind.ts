import { type Server, type ServerCredentials } from "@grpc/grpc-js";
import { rmSync } from "node:fs";
import type { ListenAddress } from "@t4dm/config";

/**
 * Binds a grpc-js server and resolves with the address it really listens
 * on (port 0 becomes the port the OS chose). A stale unix socket file left
 * by a killed process is removed first.
 */
export function bindServer(server: Server, address: ListenAddress, credentials: ServerCredentials): Promise<string> {
  if (address.kind === "unix") rmSync(address.path!, { force: true });
  return new Promise((resolve, reject) => {
    server.bindAsync(address.grpcTarget, credentials, (error, port) => {
      if (error) return reject(error);
      if (address.kind === "unix") return resolve(address.grpcTarget);
      const host = address.host!.includes(":") ? `[${address.host}]` : address.host!;
      resolve(`${host}:${port}`);
    });
  });
}
