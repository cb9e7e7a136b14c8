// @ts-check
/**
 * The recovery anchor: a real redis-server that writes an AOF of N SETs
 * (unique keys, values of a given size) and then loads it on restart.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { redisCli, startRedis } from "./redis.mjs";

/**
 * AOF on, never fsynced per write (the file is what matters, not how fast it
 * was written) and never rewritten, so the file stays a plain log of SET
 * commands, the same shape as a WAL tail.
 */
export const AOF_ARGS = [
  "--appendonly", "yes",
  "--appendfsync", "no",
  "--auto-aof-rewrite-percentage", "0",
  "--aof-use-rdb-preamble", "no",
];

/** The RESP bytes of `SET key value`. Pure. @param {string} key @param {Buffer} value */
export function respSet(key, value) {
  return Buffer.concat([Buffer.from(`*3\r\n$3\r\nSET\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n$${value.length}\r\n`), value, Buffer.from("\r\n")]);
}

/** Key i, fixed width, so keys never collide and every SET adds one. @param {number} i */
export function keyOf(i) {
  return `key:${String(i).padStart(10, "0")}`;
}

/**
 * Writes `count` SETs of `valueBytes` through `redis-cli --pipe` into a fresh
 * AOF in `dir`, checks DBSIZE, and stops Redis without saving (the AOF stays
 * as written). @param {string} dir @param {number} count @param {number} valueBytes
 */
export async function writeAof(dir, count, valueBytes) {
  const redis = await startRedis({ dir, args: AOF_ARGS });
  try {
    const started = Date.now();
    // Printable, varied bytes; Redis stores them as they are.
    const value = Buffer.alloc(valueBytes);
    for (let i = 0; i < valueBytes; i++) value[i] = 97 + ((i * 7) % 26);
    const pipe = spawn("redis-cli", ["-h", "127.0.0.1", "-p", String(redis.port), "--pipe"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    pipe.stdout.on("data", (chunk) => (output += String(chunk)));
    pipe.stderr.on("data", (chunk) => (output += String(chunk)));
    const exited = once(pipe, "exit");
    const CHUNK = 1000;
    for (let i = 0; i < count; i += CHUNK) {
      const parts = [];
      for (let j = i; j < Math.min(count, i + CHUNK); j++) parts.push(respSet(keyOf(j), value));
      if (!pipe.stdin.write(Buffer.concat(parts))) await once(pipe.stdin, "drain");
    }
    pipe.stdin.end();
    const [code] = await exited;
    const match = /errors: (\d+), replies: (\d+)/.exec(output);
    if (code !== 0 || !match || Number(match[1]) !== 0 || Number(match[2]) !== count) throw new Error(`redis-cli --pipe failed (${code}): ${output}`);
    const keys = Number(String(await redisCli(redis.port, ["DBSIZE"])).trim());
    if (keys !== count) throw new Error(`Redis holds ${keys} keys after ${count} SETs`);
    return { fillMs: Date.now() - started, aofBytes: aofBytes(dir) };
  } finally {
    await redis.stop();
  }
}

/** Bytes of every AOF file under `dir` (Redis 7 keeps them in appendonlydir/). @param {string} dir */
export function aofBytes(dir) {
  const sub = path.join(dir, "appendonlydir");
  return readdirSync(sub).reduce((sum, name) => sum + statSync(path.join(sub, name)).size, 0);
}

/**
 * Starts Redis on the AOF in `dir` and times it: spawn → ready (includes the
 * load) and the load alone as Redis logs it ("DB loaded from append only
 * file: X seconds"). Checks every key came back. @param {string} dir @param {number} expectedKeys
 */
export async function loadAof(dir, expectedKeys) {
  const redis = await startRedis({ dir, args: AOF_ARGS });
  try {
    const match = /DB loaded from append only file: ([\d.]+) seconds/.exec(redis.log());
    if (!match) throw new Error(`Redis did not log its AOF load:\n${redis.log()}`);
    const keys = Number(String(await redisCli(redis.port, ["DBSIZE"])).trim());
    if (keys !== expectedKeys) throw new Error(`Redis loaded ${keys} keys, expected ${expectedKeys}`);
    return { readyMs: redis.loadedMs, loadMs: Number(match[1]) * 1000, keys };
  } finally {
    await redis.stop();
  }
}
