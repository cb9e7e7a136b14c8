import { readFileSync } from "node:fs";
import { ServerCredentials } from "@grpc/grpc-js";
import type { Config } from "@t4dm/config";

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  clientCa?: Buffer;
}

/** The TLS material from the configured files, or undefined for plaintext. */
export function loadTls(config: Pick<Config, "tlsCertFile" | "tlsKeyFile" | "tlsClientCaFile">): TlsFiles | undefined {
  if (!config.tlsCertFile || !config.tlsKeyFile) return undefined;
  return {
    cert: readFileSync(config.tlsCertFile),
    key: readFileSync(config.tlsKeyFile),
    clientCa: config.tlsClientCaFile ? readFileSync(config.tlsClientCaFile) : undefined,
  };
}

export function grpcCredentials(tls: TlsFiles | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  // With a client CA, clients must present a certificate it signed.
  return ServerCredentials.createSsl(tls.clientCa ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], tls.clientCa !== undefined);
}
