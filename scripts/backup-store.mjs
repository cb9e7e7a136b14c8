#!/usr/bin/env node
// Copies the embedded store ($T4DM_DATA_DIR/store) consistently while the
// memory service keeps writing to it. Used by scripts/backup.sh.
//
//   node scripts/backup-store.mjs <source store dir> <destination dir>
//
// Why this is consistent:
// - Each *.sqlite file is copied with SQLite's online backup API
//   (better-sqlite3's db.backup(), the same thing as the sqlite3 shell's
//   `.backup`), never by copying bytes: the stores run in WAL journal mode, so
//   the main file alone can lack committed transactions that still sit in
//   -wal, and a byte copy taken during a checkpoint of -wal can be torn.
//   After the first (zero-page) step every remaining page is copied in ONE
//   sqlite3_backup_step, which holds a read transaction throughout, so the
//   copy is the database exactly as of one committed transaction, and the
//   writer is never blocked (WAL readers do not block writers).
// - The usearch index file (*.usearch) is only a cache of the SQLite rows,
//   written atomically (temp file + rename) with its SHA-256 kept in the
//   SQLite meta table. We copy it through one open file descriptor, so we get
//   one whole generation; if that generation is not the one the copied meta
//   table names, the store rebuilds the index from SQLite on start-up.
// - -wal, -shm, -journal and temp files are skipped: the backup API already
//   folded their committed content into the copy.
// Every copied database is checked with PRAGMA quick_check before we report
// success. Output: one JSON line describing what was copied.
import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const Database = require("better-sqlite3");

const SKIP = [/-wal$/, /-shm$/, /-journal$/, /\.tmp-\d+$/, /\.tmp$/];

async function main() {
  const [source, destination] = process.argv.slice(2);
  if (!source || !destination) {
    process.stderr.write("usage: backup-store.mjs <source store dir> <destination dir>\n");
    process.exit(64);
  }
  mkdirSync(destination, { recursive: true });
  const copied = await copyDirectory(path.resolve(source), path.resolve(destination));
  process.stdout.write(JSON.stringify({ event: "store.copied", files: copied }) + "\n");
}

async function copyDirectory(source, destination) {
  const copied = [];
  let entries;
  try {
    entries = readdirSync(source, { withFileTypes: true });
  } catch (error) {
    if (error.code === "ENOENT") return copied; // no store yet: nothing was ever promoted
    throw error;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const from = path.join(source, entry.name);
    const to = path.join(destination, entry.name);
    if (entry.isDirectory()) {
      mkdirSync(to, { recursive: true });
      copied.push(...(await copyDirectory(from, to)).map((file) => ({ ...file, path: path.join(entry.name, file.path) })));
    } else if (!entry.isFile() || SKIP.some((pattern) => pattern.test(entry.name))) {
      continue;
    } else if (entry.name.endsWith(".sqlite") || entry.name.endsWith(".db")) {
      copied.push({ path: entry.name, kind: "sqlite", ...(await backupSqlite(from, to)) });
    } else {
      copyFileSync(from, to);
      fsyncFile(to);
      copied.push({ path: entry.name, kind: "file", bytes: statSync(to).size });
    }
  }
  return copied;
}

async function backupSqlite(from, to) {
  rmSync(to, { force: true });
  const source = openSource(from);
  let pages;
  try {
    const result = await source.backup(to, {
      // After the first step, copy everything left in one step: one read transaction, one snapshot.
      progress: () => 0x7fffffff,
    });
    pages = result.totalPages;
  } finally {
    source.close();
  }
  const copy = new Database(to, { fileMustExist: true });
  try {
    const check = copy.pragma("quick_check", { simple: true });
    if (check !== "ok") throw new Error(`${to}: quick_check failed after backup: ${String(check)}`);
    // Leave a self-contained file: no -wal/-shm beside it in the archive.
    copy.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    copy.close();
  }
  for (const suffix of ["-wal", "-shm"]) rmSync(to + suffix, { force: true });
  fsyncFile(to);
  return { pages, bytes: statSync(to).size };
}

/** Read-write when allowed (a WAL database needs its -shm), read-only otherwise; never writes either way. */
function openSource(file) {
  try {
    return new Database(file, { fileMustExist: true, timeout: 10_000 });
  } catch (error) {
    if (error.code !== "SQLITE_READONLY" && error.code !== "SQLITE_CANTOPEN" && error.code !== "EACCES") throw error;
    return new Database(file, { fileMustExist: true, readonly: true, timeout: 10_000 });
  }
}

function fsyncFile(file) {
  const fd = openSync(file, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

main().catch((error) => {
  process.stderr.write(`backup-store: ${error.stack ?? error}\n`);
  process.exit(1);
});
