import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteEpisodicStore } from "../src/index.js";
import { memory } from "./support/memories.js";
const D = 8;
const axis = (i: number) => Float32Array.from({ length: D }, (_, j) => (j === i ? 1 : 0));



/** A SyncFile that holds every sync until the test releases it. */
function heldSyncs() {
  const calls: { path: string; release: () => void }[] = [];
  return {
    calls,
    syncFile: (path: string) => new Promise<void>((resolve) => calls.push({ path, release: resolve })),
  };
}

/** Whether the promise has settled by the next turn of the event loop. */
async function settledSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await setImmediate();
  return settled;
}

// Commits run with synchronous=NORMAL, so a write is durable against power loss only once the
// SQLite WAL file is synced: the store must not resolve a write (and STORE_SYNCED must not be
// logged for it) before that sync.
describe("embedded memory table: a write resolves only once its SQLite WAL file is synced", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "t4dm-walsync-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("holds upsert and delete until the sync of episodic.sqlite-wal resolves", async () => {
    const syncs = heldSyncs();
    const store = new SqliteEpisodicStore({ dir, dimensions: D, syncFile: syncs.syncFile });
    await store.init();
    try {
      const wal = join(dir, "episodic.sqlite-wal");
      const upsert = store.upsert([memory({ id: "m-1", embedding: axis(1) })]);
      expect(await settledSoon(upsert)).toBe(false);
      expect(syncs.calls.map((call) => call.path)).toEqual([wal]);
      // Committed before the sync (what is synced is the commit): readers already see it.
      expect((await store.get("ns-a", "m-1"))?.id).toBe("m-1");
      expect((await stat(wal)).size).toBeGreaterThan(0);
      syncs.calls[0]!.release();
      await upsert;

      const removal = store.delete("ns-a", ["m-1"]);
      expect(await settledSoon(removal)).toBe(false);
      expect(syncs.calls.map((call) => call.path)).toEqual([wal, wal]);
      syncs.calls[1]!.release();
      await removal;
      expect(await store.get("ns-a", "m-1")).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it("fails the write when the sync fails, so the caller keeps it pending", async () => {
    const store = new SqliteEpisodicStore({ dir, dimensions: D, syncFile: async () => Promise.reject(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" })) });
    await store.init();
    try {
      await expect(store.upsert([memory({ id: "m-1", embedding: axis(1) })])).rejects.toThrow(/EIO/);
    } finally {
      await store.close();
    }
  });
});
