import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import type { SetTimer } from "../src/storage/set-timer.js";
import { StoreBacklog, StoreBacklogFullError } from "../src/storage/store-backlog.js";

/** A backlog over a pending count the test sets, with timers the test fires. */
function setUp(limit: number) {
  let pending = 0;
  const timers: { ms: number; run: () => void; cancelled: boolean }[] = [];
  const setTimer: SetTimer = (run, ms) => {
    const timer = { ms, run, cancelled: false };
    timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  };
  const stalls: [boolean, number][] = [];
  const backlog = new StoreBacklog(() => pending, { limit, maxWaitMs: 5_000, setTimer, onStall: (stalled, count) => stalls.push([stalled, count]) });
  return { backlog, timers, stalls, setPending: (n: number) => (pending = n) };
}

/** Whether the promise has settled once every queued microtask has run (no timers involved). */
async function settled(promise: Promise<unknown>): Promise<"resolved" | "rejected" | "pending"> {
  let state: "resolved" | "rejected" | "pending" = "pending";
  promise.then(
    () => (state = "resolved"),
    () => (state = "rejected"),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return state;
}

describe("the store backlog holds Remember back while the long-term store is behind", () => {
  it("lets callers through at once below the limit", async () => {
    const { backlog, timers, setPending } = setUp(10);
    setPending(9);
    expect(await settled(backlog.admit())).toBe("resolved");
    expect(timers).toEqual([]);
    expect(backlog.waiting).toBe(0);
  });

  it("at the limit, waits until a sync brings the count below it, then lets every waiter go", async () => {
    const { backlog, timers, stalls, setPending } = setUp(10);
    setPending(10);
    const first = backlog.admit();
    const second = backlog.admit();
    expect(backlog.waiting).toBe(2);
    expect(stalls).toEqual([[true, 10]]);
    // A sync that left the count at the limit changes nothing.
    backlog.recheck();
    expect(await settled(first)).toBe("pending");
    setPending(4);
    backlog.recheck();
    expect(await settled(first)).toBe("resolved");
    expect(await settled(second)).toBe("resolved");
    expect(backlog.waiting).toBe(0);
    expect(timers.every((timer) => timer.cancelled)).toBe(true);
    expect(stalls).toEqual([[true, 10], [false, 4]]);
  });

  it("refuses with RESOURCE_EXHAUSTED (STORE_BACKLOG) when the store does not catch up within the wait", async () => {
    const { backlog, timers, stalls, setPending } = setUp(10);
    setPending(12);
    const waiting = backlog.admit();
    expect(timers.map((timer) => timer.ms)).toEqual([5_000]);
    timers[0]!.run();
    const error = await waiting.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StoreBacklogFullError);
    expect((error as StoreBacklogFullError).code).toBe(status.RESOURCE_EXHAUSTED);
    expect((error as StoreBacklogFullError).reason).toBe("STORE_BACKLOG");
    expect((error as StoreBacklogFullError).metadata).toEqual({ pending: "12", limit: "10" });
    expect(backlog.waiting).toBe(0);
    expect(stalls).toEqual([[true, 12], [false, 12]]);
  });

  it("has no limit at 0", async () => {
    const { backlog, setPending } = setUp(0);
    setPending(1_000_000);
    expect(await settled(backlog.admit())).toBe("resolved");
  });
});
