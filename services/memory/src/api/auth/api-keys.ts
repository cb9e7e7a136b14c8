import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

/** Who is calling: the key's id (never the key) and what it may touch. */
export interface Principal {
  keyId: string;
  admin: boolean;
  /** Exact namespaces, or prefixes written with a trailing `*`. */
  namespaces: readonly string[];
}

/** A key file that cannot be used; start-up (or the reload) says why. */
export class ApiKeyFileError extends Error {
  constructor(path: string, reason: string) {
    super(`API keys file ${path}: ${reason}`);
    this.name = "ApiKeyFileError";
  }
}

interface KeyEntry {
  id: string;
  sha256: string;
  namespaces: string[];
  admin?: boolean;
}

/**
 * API keys from a JSON file (a Kubernetes secret mount works the same):
 * `{"keys":[{"id":"team-a","sha256":"<hex of the key>","namespaces":["team-a","shared/*"],"admin":false}]}`.
 * Only hashes are stored; a bearer token is hashed and looked up.
 */
export class ApiKeys {
  private constructor(private readonly byHash: Map<string, Principal>) {}

  static empty(): ApiKeys {
    return new ApiKeys(new Map());
  }

  static load(path: string): ApiKeys {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
      throw new ApiKeyFileError(path, (error as Error).message);
    }
    const keys = (parsed as { keys?: unknown }).keys;
    if (!Array.isArray(keys) || keys.length === 0) throw new ApiKeyFileError(path, 'expected {"keys": [...]} with at least one key');
    const byHash = new Map<string, Principal>();
    keys.forEach((raw: unknown, i) => {
      const entry = raw as Partial<KeyEntry>;
      if (typeof entry.id !== "string" || !entry.id) throw new ApiKeyFileError(path, `keys[${i}].id must be a non-empty string`);
      if (typeof entry.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(entry.sha256)) throw new ApiKeyFileError(path, `keys[${i}].sha256 must be 64 lowercase hex digits`);
      if (!Array.isArray(entry.namespaces) || !entry.namespaces.every((n) => typeof n === "string" && n.length > 0)) {
        throw new ApiKeyFileError(path, `keys[${i}].namespaces must be a list of namespaces (a trailing * grants a prefix)`);
      }
      if (byHash.has(entry.sha256)) throw new ApiKeyFileError(path, `keys[${i}] repeats another key's hash`);
      byHash.set(entry.sha256, { keyId: entry.id, admin: entry.admin === true, namespaces: entry.namespaces });
    });
    return new ApiKeys(byHash);
  }

  get configured(): boolean {
    return this.byHash.size > 0;
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The principal for a bearer token, or undefined if no key matches. */
  authenticate(token: string): Principal | undefined {
    return this.byHash.get(hashKey(token));
  }
}

export function hashKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** Whether a principal may touch a namespace. */
export function allows(principal: Principal, namespace: string): boolean {
  return principal.namespaces.some((grant) => (grant.endsWith("*") ? namespace.startsWith(grant.slice(0, -1)) : grant === namespace));
}
