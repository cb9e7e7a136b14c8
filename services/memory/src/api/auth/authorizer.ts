import type { Metadata } from "@grpc/grpc-js";
import { PermissionDeniedError, UnauthenticatedError } from "@t4dm/rpc";
import type { Logger } from "@t4dm/telemetry";
import { allows, type ApiKeys, type Principal } from "./api-keys.js";

/** In development mode (no keys) every caller is this principal. */
const DEVELOPMENT: Principal = { keyId: "development", admin: true, namespaces: ["*"] };

export interface Access {
  /** Namespaces the call touches; every one must be granted. */
  namespaces: readonly string[];
  admin?: boolean;
}

/**
 * Checks a call's key against the namespaces it touches. Denials are
 * audit-logged with the key id (never the key) and answered UNAUTHENTICATED
 * (no or unknown key) or PERMISSION_DENIED; never NOT_FOUND, so the answer
 * does not depend on what another tenant stores.
 */
export class Authorizer {
  constructor(
    private keys: ApiKeys,
    private readonly logger: Logger,
  ) {}

  get configured(): boolean {
    return this.keys.configured;
  }

  replaceKeys(keys: ApiKeys): void {
    this.keys = keys;
  }

  /** The principal behind an `authorization: Bearer …` value. */
  principalFor(authorization: string | undefined, method: string): Principal {
    if (!this.keys.configured) return DEVELOPMENT;
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
    const principal = match ? this.keys.authenticate(match[1]!) : undefined;
    if (!principal) {
      this.audit("denied", { method, keyId: undefined, reason: authorization ? "unknown key" : "no key" });
      throw new UnauthenticatedError("a valid API key is required (authorization: Bearer <key>)", "API_KEY_REQUIRED");
    }
    return principal;
  }

  authorize(metadata: Metadata, method: string, access: Access): Principal {
    const value = metadata.get("authorization")[0];
    const principal = this.principalFor(typeof value === "string" ? value : undefined, method);
    this.check(principal, method, access);
    return principal;
  }

  check(principal: Principal, method: string, access: Access): void {
    if (access.admin && !principal.admin) {
      this.audit("denied", { method, keyId: principal.keyId, reason: "admin required" });
      throw new PermissionDeniedError(`${method} needs an admin key`, "ADMIN_REQUIRED");
    }
    for (const namespace of access.namespaces) {
      if (!allows(principal, namespace)) {
        this.audit("denied", { method, keyId: principal.keyId, namespace, reason: "namespace not granted" });
        throw new PermissionDeniedError(`this key may not use namespace ${JSON.stringify(namespace)}`, "NAMESPACE_DENIED", {
          metadata: { namespace },
        });
      }
    }
    if (access.admin) this.audit("admin", { method, keyId: principal.keyId });
  }

  audit(kind: "denied" | "admin", fields: Record<string, unknown>): void {
    this.logger.info(kind === "denied" ? "call denied" : "admin operation", { event: `audit.${kind}`, ...fields });
  }
}
