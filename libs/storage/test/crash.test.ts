import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SqliteEpisodicStore, SqliteGraphStore } from "../src/index.js";
// @ts-expect-error: a plain .mjs helper shared with the child process
import { batch } from "./support/promoted-batch.mjs";

const WRITER = fileURLToPath(new URL("./support/crash-writer.mjs", import.meta.url));
const COMMIT_THEN_HANG = fileURLToPath(new URL("./support/commit-then-hang.mjs", import.meta.url));
const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const DIMS = 16;

/** Runs the writer (built dist/) until it has acked `steps` steps, then SIGKILLs it; returns the last acked step. */
async function writeThenKill(dir: string, steps: number): Promise<number> {
  const child = spawn(process.execPath, [WRITER, dir, String(DIMS)], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
  let last = -1;
  for await (const line of createInterface({ input: child.stdout })) {
    const match = /^acked (\d+)$/.exec(line);
    if (match) last = Number(match[1]);
    if (last >= steps) {
      child.kill("SIGKILL");
      break;
    }
  }
  const signal = await exited;
  if (signal !== "SIGKILL") throw new Error(`the writer exited by itself after step ${last}: ${stderr}`);
  return last;
}

describe("embedded stores after SIGKILL of the writing process", () => {
  it("keep every acknowledged write and rebuild or catch up the vector index", async () => {
    expect(existsSync(DIST), "build libs/storage first (npx tsc -b libs/storage)").toBe(true);
    const dir = await mkdtemp(join(tmpdir(), "t4dm-crash-"));
    try {
      const last = await writeThenKill(dir, 300);
      const episodic = new SqliteEpisodicStore({ dir, dimensions: DIMS });
      const graph = new SqliteGraphStore({ dir, dimensions: DIMS });
      await episodic.init();
      await graph.init();
      // "loaded" too: killed right after an index save that no later write outdated (the saved
      // generation is SQLite's), which the searches below check as strictly as the other two.
      expect(["loaded", "caught-up", "rebuilt"]).toContain(episodic.indexOrigin);
      expect((await episodic.health()).healthy).toBe(true);

      const deleted = new Set<number>();
      for (let i = 5; i <= last; i += 5) deleted.add(i - 3);
      // The step in flight when the writer died may or may not have deleted its memory.
      const maybeDeleted = (last + 1) % 5 === 0 ? last + 1 - 3 : -1;
      for (let i = 0; i <= last; i++) {
        const stored = await episodic.get(`ns-${i % 3}`, `m-${i}`);
        if (i === maybeDeleted && !stored) continue;
        if (deleted.has(i)) expect(stored, `m-${i} was deleted`).toBeUndefined();
        else {
          expect(stored, `m-${i} was acked`).toBeDefined();
          const [top] = await episodic.search(`ns-${i % 3}`, stored!.embedding, 1, {});
          expect(top?.memory.id).toBe(`m-${i}`);
          expect(top?.similarity).toBeCloseTo(1, 5);
        }
      }
      for (let subject = 0; subject < 7; subject++) {
        const open = await graph.queryFacts({ namespace: "ns-0", subject: `s-${subject}`, asOf: new Date(1_800_000_000_000), includeHistory: false, limit: 10 });
        expect(open).toHaveLength(1);
        const lastAcked = last - ((((last - subject) % 7) + 7) % 7);
        // The open fact is the last acked one for the subject, or the one in flight when the writer died.
        expect([`o-${lastAcked}`, `o-${lastAcked + 7}`]).toContain(open[0]!.object);
      }
      await episodic.close();
      await graph.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // The memory service logs STORE_SYNCED only after the batch's upsert resolved (after the SQLite
  // WAL sync); killed in between, it redoes the whole batch after restart. The redo must leave one
  // row and one vector per memory, and the commit made without a sync must survive the kill.
  it("redo a batch committed but not yet acknowledged when the process died, idempotently", async () => {
    expect(existsSync(DIST), "build libs/storage first (npx tsc -b libs/storage)").toBe(true);
    const dir = await mkdtemp(join(tmpdir(), "t4dm-redo-"));
    const count = 40;
    try {
      const child = spawn(process.execPath, [COMMIT_THEN_HANG, dir, String(DIMS), String(count)], { stdio: ["ignore", "pipe", "pipe"] });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
      for await (const line of createInterface({ input: child.stdout })) {
        if (line === "committed") break;
      }
      child.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");

      const store = new SqliteEpisodicStore({ dir, dimensions: DIMS });
      await store.init();
      try {
        expect((await store.count("ns-0")) + (await store.count("ns-1"))).toBe(count);
        const memories = batch(DIMS, count) as Parameters<SqliteEpisodicStore["upsert"]>[0];
        await store.upsert(memories);
        expect((await store.count("ns-0")) + (await store.count("ns-1"))).toBe(count);
        const health = await store.health();
        expect(health.healthy, health.detail).toBe(true);
        expect(health.detail).toContain(`${count} memories indexed`);
        for (const memory of memories) {
          const hits = await store.search(memory.namespace, memory.embedding, 2, {});
          expect(hits[0]?.memory.id).toBe(memory.id);
          expect(hits[0]?.similarity).toBeCloseTo(1, 5);
          expect(hits.filter((hit) => hit.memory.id === memory.id)).toHaveLength(1);
        }
      } finally {
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
