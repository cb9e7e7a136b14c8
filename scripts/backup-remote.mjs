#!/usr/bin/env node
// The network parts of backup.sh and restore.sh, in node because the image
// has no curl:
//
//   checkpoint <http base url>              POST /api/v1/checkpoint; prints {lsn, fileName, ...}
//                                           (admin key: $T4DM_ADMIN_KEY, or the file named by $T4DM_ADMIN_KEY_FILE)
//   socket-alive <unix socket path>         exit 0 if a process accepts connections there, else 1
//   qdrant-snapshot <url> <prefix> <dir>    snapshot every <prefix>_* collection into <dir>/<collection>.snapshot
//   qdrant-restore <url> <dir>              recover each <dir>/<collection>.snapshot (overwrites the collection)
//
// Qdrant's API key, when set, is $T4DM_QDRANT_API_KEY. HTTPS with a private CA: set NODE_EXTRA_CA_CERTS.
import { createHash } from "node:crypto";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

function adminKey() {
  if (process.env.T4DM_ADMIN_KEY) return process.env.T4DM_ADMIN_KEY;
  if (process.env.T4DM_ADMIN_KEY_FILE) return readFileSync(process.env.T4DM_ADMIN_KEY_FILE, "utf8").trim();
  return undefined;
}

async function checkpoint(baseUrl) {
  const key = adminKey();
  const response = await fetch(new URL("/api/v1/checkpoint", baseUrl), {
    method: "POST",
    headers: key ? { authorization: `Bearer ${key}` } : {},
    signal: AbortSignal.timeout(120_000),
  });
  const body = await response.text();
  if (!response.ok) throw new Error(`POST /api/v1/checkpoint answered ${response.status}: ${body.trim()}`);
  process.stdout.write(body.trim() + "\n");
}

function socketAlive(socketPath) {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    const done = (alive) => {
      socket.destroy();
      resolve(alive);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.setTimeout(2000, () => done(false));
  }).then((alive) => process.exit(alive ? 0 : 1));
}

function qdrantHeaders(extra = {}) {
  const key = process.env.T4DM_QDRANT_API_KEY;
  return key ? { "api-key": key, ...extra } : extra;
}

async function qdrant(url, method, pathname, init = {}) {
  const response = await fetch(new URL(pathname, url), { method, ...init, headers: qdrantHeaders(init.headers), signal: AbortSignal.timeout(30 * 60_000) });
  if (!response.ok) throw new Error(`Qdrant ${method} ${pathname} answered ${response.status}: ${(await response.text()).trim()}`);
  return response;
}

async function qdrantSnapshot(url, prefix, dir) {
  const listed = await (await qdrant(url, "GET", "/collections")).json();
  const names = listed.result.collections.map((c) => c.name).filter((name) => name.startsWith(`${prefix}_`)).sort();
  const written = [];
  for (const name of names) {
    const created = await (await qdrant(url, "POST", `/collections/${encodeURIComponent(name)}/snapshots?wait=true`)).json();
    const snapshot = created.result.name;
    const file = path.join(dir, `${name}.snapshot`);
    const download = await qdrant(url, "GET", `/collections/${encodeURIComponent(name)}/snapshots/${encodeURIComponent(snapshot)}`);
    const hash = createHash("sha256");
    const body = Readable.fromWeb(download.body);
    body.on("data", (chunk) => hash.update(chunk));
    await pipeline(body, createWriteStream(file));
    const sha256 = hash.digest("hex");
    // Qdrant reports the snapshot's checksum (1.7+); a mismatch means the download was damaged.
    if (created.result.checksum && created.result.checksum !== sha256) throw new Error(`${name}: downloaded snapshot sha256 ${sha256} != Qdrant's ${created.result.checksum}`);
    // The copy is in the backup now; do not let snapshots pile up on the Qdrant node.
    await qdrant(url, "DELETE", `/collections/${encodeURIComponent(name)}/snapshots/${encodeURIComponent(snapshot)}?wait=true`);
    written.push({ collection: name, file: path.basename(file), sha256 });
  }
  process.stdout.write(JSON.stringify({ collections: written }) + "\n");
}

async function qdrantRestore(url, dir) {
  const restored = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".snapshot")).sort()) {
    const name = file.slice(0, -".snapshot".length);
    const form = new FormData();
    form.append("snapshot", new Blob([readFileSync(path.join(dir, file))]), file);
    // priority=snapshot: the snapshot is the truth, whatever the node holds now.
    await qdrant(url, "POST", `/collections/${encodeURIComponent(name)}/snapshots/upload?priority=snapshot&wait=true`, { body: form });
    restored.push(name);
  }
  process.stdout.write(JSON.stringify({ restored }) + "\n");
}

const [command, ...args] = process.argv.slice(2);
const commands = {
  checkpoint: () => checkpoint(args[0]),
  "socket-alive": () => socketAlive(args[0]),
  "qdrant-snapshot": () => qdrantSnapshot(args[0], args[1], args[2]),
  "qdrant-restore": () => qdrantRestore(args[0], args[1]),
};
const arity = { checkpoint: 1, "socket-alive": 1, "qdrant-snapshot": 3, "qdrant-restore": 2 };
if (!commands[command] || args.length !== arity[command] || args.some((a) => !a)) {
  process.stderr.write("usage: backup-remote.mjs checkpoint <url> | socket-alive <path> | qdrant-snapshot <url> <prefix> <dir> | qdrant-restore <url> <dir>\n");
  process.exit(64);
}
commands[command]().catch((error) => {
  process.stderr.write(`backup-remote ${command}: ${error.message}\n`);
  process.exit(1);
});
