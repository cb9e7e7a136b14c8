import { describe, expect, it } from "vitest";
import { CoalescingQueue } from "../dist/embedding/coalescing-queue.js";

/** A runner whose batches finish only when the test says so. */
function gatedRunner() {
  const batches: { texts: string[]; finish(): void; fail(error: Error): void }[] = [];
  const run = (texts: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      batches.push({ texts, finish: () => resolve(texts.map((t) => t.toUpperCase())), fail: reject });
    });
  return { batches, run };
}

describe("CoalescingQueue", () => {
  it("gathers the texts that arrive while the runner is busy into one next batch", async () => {
    const runner = gatedRunner();
    const queue = new CoalescingQueue([runner.run], 32);
    const first = queue.submit(["a"]);
    const second = queue.submit(["b", "c"]);
    const third = queue.submit(["d"]);
    expect(runner.batches.map((b) => b.texts)).toEqual([["a"]]);
    expect(queue.backlog).toBe(3);
    runner.batches[0]!.finish();
    expect(await first).toEqual(["A"]);
    expect(runner.batches[1]!.texts).toEqual(["b", "c", "d"]);
    runner.batches[1]!.finish();
    expect(await second).toEqual(["B", "C"]);
    expect(await third).toEqual(["D"]);
  });

  it("splits a large request into batches of maxBatch across free runners and keeps its order", async () => {
    const one = gatedRunner();
    const two = gatedRunner();
    const queue = new CoalescingQueue([one.run, two.run], 2);
    const all = queue.submit(["a", "b", "c", "d", "e"]);
    const started = [...one.batches, ...two.batches].map((b) => b.texts);
    expect(started).toHaveLength(2);
    expect(started.flat().sort()).toEqual(["a", "b", "c", "d"]);
    for (const b of [...two.batches, ...one.batches]) b.finish();
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    for (const b of [...one.batches, ...two.batches].slice(2)) b.finish();
    expect(await all).toEqual(["A", "B", "C", "D", "E"]);
  });

  it("rejects every caller of a failed batch, and the next batch still runs", async () => {
    const runner = gatedRunner();
    const queue = new CoalescingQueue([runner.run], 8);
    const busy = queue.submit(["a"]);
    const x = queue.submit(["x"]);
    const y = queue.submit(["y"]);
    runner.batches[0]!.finish();
    await busy;
    runner.batches[1]!.fail(new Error("worker died"));
    await expect(x).rejects.toThrow("worker died");
    await expect(y).rejects.toThrow("worker died");
    const z = queue.submit(["z"]);
    runner.batches[2]!.finish();
    expect(await z).toEqual(["Z"]);
  });
});
