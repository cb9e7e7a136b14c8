import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";

/** A key a test hands out: the plain key and what it may do. */
export interface TestApiKey {
  id: string;
  key: string;
  namespaces: string[];
  admin?: boolean;
}

/** Writes `dir/keys.json` in the memory service's format (SHA-256 of each key, never the key); returns its path. */
export function writeApiKeysFile(dir: string, keys: readonly TestApiKey[]): string {
  const file = path.join(dir, "keys.json");
  const entries = keys.map(({ id, key, namespaces, admin }) => ({ id, sha256: createHash("sha256").update(key).digest("hex"), namespaces, ...(admin ? { admin: true } : {}) }));
  writeFileSync(file, JSON.stringify({ keys: entries }));
  return file;
}
