#!/usr/bin/env node
// The manifest of a T4DM backup: what was copied, from where, at which
// checkpoint, and the SHA-256 and size of every file. Used by backup.sh and
// restore.sh.
//
//   node scripts/backup-manifest.mjs write  <root> <meta.json>   writes <root>/manifest.json
//   node scripts/backup-manifest.mjs verify <root>               checks <root> against it
//   node scripts/backup-manifest.mjs get    <root> <field.path>  prints one field (for shell scripts)
//
// <root> is the backup's top directory (t4dm-backup/): manifest.json, data/
// (wal/, checkpoints/, store/, quarantine/), and qdrant/ or neo4j/ when those
// backends were backed up. verify accepts only regular files and directories,
// refuses any file the manifest does not list, and exits 1 on the first problem.
import { createHash } from "node:crypto";
import { closeSync, createReadStream, fsyncSync, lstatSync, openSync, readdirSync, readFileSync, writeSync } from "node:fs";
import path from "node:path";

export const FORMAT = "t4dm-backup";
export const VERSION = 1;
const MANIFEST = "manifest.json";

function sha256(file) {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(file)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

/** Every regular file under root (relative, '/'-separated, sorted); anything else is an error. */
function listFiles(root, dir = "") {
  const files = [];
  for (const name of readdirSync(path.join(root, dir)).sort()) {
    const relative = dir ? `${dir}/${name}` : name;
    const stat = lstatSync(path.join(root, relative));
    if (stat.isDirectory()) files.push(...listFiles(root, relative));
    else if (stat.isFile()) files.push(relative);
    else throw new Error(`${relative}: not a regular file or directory (symlinks and special files are refused)`);
  }
  return files;
}

function safeRelative(p) {
  return typeof p === "string" && p.length > 0 && !p.startsWith("/") && !p.split("/").some((part) => part === ".." || part === "." || part === "");
}

async function write(root, metaFile) {
  const meta = JSON.parse(readFileSync(metaFile, "utf8"));
  const files = [];
  for (const relative of listFiles(root).filter((f) => f !== MANIFEST)) {
    const full = path.join(root, relative);
    files.push({ path: relative, bytes: lstatSync(full).size, sha256: await sha256(full) });
  }
  const manifest = { format: FORMAT, version: VERSION, ...meta, files };
  const fd = openSync(path.join(root, MANIFEST), "w", 0o644);
  try {
    writeSync(fd, JSON.stringify(manifest, null, 2) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  process.stdout.write(JSON.stringify({ event: "manifest.written", files: files.length, bytes: files.reduce((sum, f) => sum + f.bytes, 0) }) + "\n");
}

async function verify(root) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(root, MANIFEST), "utf8"));
  } catch (error) {
    return fail(`cannot read ${MANIFEST}: ${error.message}`);
  }
  if (manifest.format !== FORMAT) return fail(`${MANIFEST}: format is ${JSON.stringify(manifest.format)}, expected "${FORMAT}"`);
  if (manifest.version !== VERSION) return fail(`${MANIFEST}: version ${manifest.version} is not supported by this restore.sh (it reads version ${VERSION})`);
  if (!Array.isArray(manifest.files)) return fail(`${MANIFEST}: no file list`);
  const listed = new Map();
  for (const file of manifest.files) {
    if (!safeRelative(file.path) || !/^[0-9a-f]{64}$/.test(file.sha256 ?? "") || !Number.isInteger(file.bytes)) {
      return fail(`${MANIFEST}: bad file entry ${JSON.stringify(file)}`);
    }
    listed.set(file.path, file);
  }
  let present;
  try {
    present = listFiles(root).filter((f) => f !== MANIFEST);
  } catch (error) {
    return fail(error.message);
  }
  const extra = present.filter((f) => !listed.has(f));
  if (extra.length > 0) return fail(`files not in the manifest: ${extra.join(", ")}`);
  for (const file of listed.values()) {
    const full = path.join(root, file.path);
    let size;
    try {
      size = lstatSync(full).size;
    } catch {
      return fail(`${file.path}: listed in the manifest but missing`);
    }
    if (size !== file.bytes) return fail(`${file.path}: ${size} bytes, the manifest says ${file.bytes}`);
    const digest = await sha256(full);
    if (digest !== file.sha256) return fail(`${file.path}: sha256 ${digest} does not match the manifest's ${file.sha256}`);
  }
  process.stdout.write(
    JSON.stringify({ event: "manifest.verified", files: listed.size, createdAt: manifest.createdAt, checkpoint: manifest.checkpoint ?? null }) + "\n",
  );
}

function get(root, field) {
  const manifest = JSON.parse(readFileSync(path.join(root, MANIFEST), "utf8"));
  let value = manifest;
  for (const key of field.split(".")) value = value?.[key];
  if (value === undefined || value === null) return;
  process.stdout.write((typeof value === "object" ? JSON.stringify(value) : String(value)) + "\n");
}

function fail(message) {
  process.stderr.write(`backup-manifest: ${message}\n`);
  process.exit(1);
}

const [command, root, arg] = process.argv.slice(2);
const commands = { write: () => write(root, arg), verify: () => verify(root), get: () => get(root, arg) };
if (!commands[command] || !root || (command !== "verify" && !arg)) {
  process.stderr.write("usage: backup-manifest.mjs write <root> <meta.json> | verify <root> | get <root> <field.path>\n");
  process.exit(64);
}
Promise.resolve()
  .then(commands[command])
  .catch((error) => fail(error.stack ?? String(error)));
