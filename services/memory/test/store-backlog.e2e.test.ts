/**
 * Backpressure from the long-term store (storage/store-backlog.ts): callers
 * that remember faster than the store takes rows are held back at
 * T4DM_STORE_BACKLOG_LIMIT promoted memories waiting, instead of piling them
 * up in the learning state; every call succeeds and every memory reaches the
 * store. Real sidecar, memory service and embedded stores.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryV1 } from "@t4dm/proto";
import { call, connectClients, startPod, type Pod } from "@t4dm/testkit";

const LIMIT = 30;
const CALLERS = 4;
const BATCH = 20;
const ROUNDS = 20;

describe("the long-term store's backlog holds Remember back", () => {
  let pod: Pod;
  let c: ReturnType<typeof connectClients>;

  beforeAll(async () => {
    // A buffer of 10 under the default keep retention: from the eleventh memory on, every one is promoted.
    pod = await startPod({ env: { T4DM_BUFFER_CAPACITY: "10", T4DM_EMBEDDING_DIM: "64", T4DM_STORE_BACKLOG_LIMIT: String(LIMIT) } });
    c = connectClients(pod.grpcAddr);
  });
  afterAll(async () => {
    c?.close();
    await pod?.stop();
  });

  const pendingPromotions = async () => {
    const text = await (await fetch(`${pod.httpUrl}/metrics`)).text();
    return Number(text.split("\n").find((l) => l.startsWith("ww_pending_promotions "))?.split(" ").at(-1));
  };

  it(`keeps the promotions waiting for the store near ${LIMIT} while callers remember faster than it writes, and loses none`, async () => {
    const batchRemember = c.memory.batchRemember.bind(c.memory);
    let highest = 0;
    let remembered = 0;
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, caller) => {
        for (let round = 0; round < ROUNDS; round++) {
          const requests = Array.from({ length: BATCH }, (_, i) =>
            memoryV1.RememberRequest.fromPartial({ namespace: "flood", content: `caller ${caller} round ${round} item ${i}: ${caller * 7919 + round * 104729 + i * 15485863}` }),
          );
          const response = await call(batchRemember, memoryV1.BatchRememberRequest.fromPartial({ requests }));
          remembered += response.responses.length;
          highest = Math.max(highest, await pendingPromotions());
        }
      }),
    );
    expect(remembered).toBe(CALLERS * ROUNDS * BATCH);
    // Callers were held back, and let go again.
    expect(pod.memory.lines.some((line) => line.event === "store_backlog.stalled")).toBe(true);
    expect(pod.memory.lines.some((line) => line.event === "store_backlog.released")).toBe(true);
    // Soft limit: callers let in together may each pass it by one batch.
    expect(highest).toBeGreaterThan(0);
    expect(highest).toBeLessThanOrEqual(LIMIT + CALLERS * BATCH);
    // Everything reaches the store: nothing waits once the callers stop.
    while ((await pendingPromotions()) > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const status = await call(c.admin.getStatus.bind(c.admin), {});
    expect(status.bufferSize).toBe(10);
  });
});
