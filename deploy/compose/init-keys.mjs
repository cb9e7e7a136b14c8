#!/usr/bin/env node
// docker-compose.yml's `keys` service: on the first start, writes an API keys
// file with one admin key into the keys volume, so the memory service can bind
// 0.0.0.0 inside its container (it refuses to without keys). Later starts keep
// the file as it is: edit or replace it to add keys ({"keys":[{"id","sha256",
// "namespaces","admin"}]}, as in k8s/deployment.yaml's Secret; SIGHUP reloads it).
//
// usage: node deploy/compose/init-keys.mjs DIR
// T4DM_ADMIN_KEY, when set, is the admin key to use; otherwise a random one is
// generated and written to DIR/admin.key (mode 0600) for the operator to read.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

const dir = process.argv[2];
if (!dir) {
  process.stderr.write("usage: init-keys.mjs DIR\n");
  process.exit(64);
}
const keysFile = path.join(dir, "keys.json");
if (existsSync(keysFile)) {
  process.stdout.write(`${keysFile} exists; keeping it\n`);
  process.exit(0);
}

/** Written under a temporary name first: a crash never leaves a half-written file in place. */
function writeAtomically(file, text) {
  writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

const given = process.env.T4DM_ADMIN_KEY;
const key = given || `t4dm_${randomBytes(32).toString("base64url")}`;
if (!given) writeAtomically(path.join(dir, "admin.key"), `${key}\n`);
const sha256 = createHash("sha256").update(key).digest("hex");
// keys.json last: its presence is what says the set-up is done.
writeAtomically(keysFile, JSON.stringify({ keys: [{ id: "admin", sha256, namespaces: ["*"], admin: true }] }, null, 2) + "\n");
process.stdout.write(
  given
    ? `${keysFile} written with the admin key from T4DM_ADMIN_KEY\n`
    : `${keysFile} written with a new admin key; read it with: docker compose exec -T memory cat ${path.join(dir, "admin.key")}\n`,
);
