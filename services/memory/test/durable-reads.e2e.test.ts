/**
 * Catalog item 18: readers never see a record before the sidecar acknowledged
 * it. The sidecar is paused (SIGSTOP) while a Remember and a Forget are in
 * flight; no read may show either until it resumes and acknowledges them.
 * Recall is a read: it answers at once, from the durable state only.
 */
import type { ServiceError } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { memoryV1 } from "@t4dm/proto";
import { call, connectClients, startPod, type Pod } from "@t4dm/testkit";

const NS = "visibility";

/** A promise's outcome so far, without awaiting it. */
function track<T>(promise: Promise<T>): { settled: boolean; promise: Promise<T> } {
  const tracked = { settled: false, promise };
  promise.then(
    () => (tracked.settled = true),
    () => (tracked.settled = true),
  );
  return tracked;
}

describe("reads show only what the sidecar acknowledged (catalog 18)", () => {
  let pod: Pod | undefined;
  let paused = false;

  afterEach(async () => {
    // Never leave a stopped process behind, whatever failed.
    if (paused) pod?.sidecar.child.kill("SIGCONT");
    paused = false;
    await pod?.stop();
    pod = undefined;
  });

  it("a Remember and a Forget sent while the sidecar is paused are invisible to GetMemory, ListMemories and Recall until acknowledged; Recall and MatchProcedures answer meanwhile", async () => {
    pod = await startPod({ env: { T4DM_EMBEDDING_DIM: "32" } });
    const c = connectClients(pod.grpcAddr);
    try {
      const metric = async (name: string) => {
        const text = await (await fetch(`${pod!.httpUrl}/metrics`)).text();
        const line = text.split("\n").find((l) => l.startsWith(`${name} `));
        return Number(line?.split(" ").at(-1));
      };
      /** Resolves once the service has sequenced records past `lsn` (handed them to the paused sidecar). */
      const sequencedPast = async (lsn: number) => {
        const deadline = Date.now() + 20_000;
        for (;;) {
          // Each scrape waits up to 1 s for the paused sidecar's status, so this polls slowly by itself.
          const sequenced = await metric("ww_sequenced_lsn");
          if (sequenced > lsn) return sequenced;
          if (Date.now() > deadline) throw new Error(`nothing was sequenced past LSN ${lsn}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      const get = (id: string) => call(c.memory.getMemory.bind(c.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: NS, id }));
      const listed = async () => (await call(c.memory.listMemories.bind(c.memory), memoryV1.ListMemoriesRequest.fromPartial({ namespace: NS }))).memories.map((m) => m.content);

      await call(
        c.knowledge.upsertProcedure.bind(c.knowledge),
        memoryV1.UpsertProcedureRequest.fromPartial({ namespace: NS, name: "rotate-keys", trigger: "rotate the api keys when a key leaks", steps: [{ action: "revoke" }] }),
      );
      const kept = await call(c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace: NS, content: "the kept note about deploys", admission: 2 }));
      const appliedBefore = await metric("ww_applied_lsn");
      expect(await metric("ww_sequenced_lsn")).toBe(appliedBefore);

      pod.sidecar.child.kill("SIGSTOP");
      paused = true;
      const remembered = track(
        call(c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace: NS, content: "the pending note about rollbacks", admission: 2, requestId: "pending-1" })),
      );
      const afterRemember = await sequencedPast(appliedBefore);
      const forgotten = track(call(c.memory.forget.bind(c.memory), memoryV1.ForgetRequest.fromPartial({ namespace: NS, ids: [kept.memory!.id] })));
      const afterForget = await sequencedPast(afterRemember);
      // Recall is a read: it answers now, from what is durable — the kept note (its Forget is not
      // acknowledged) and not the pending one — and its own learning records wait behind the others.
      const recalled = await call(c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace: NS, query: "pending note about rollbacks", topK: 10 }));
      expect(recalled.memories.map((m) => m.memory?.content)).toEqual(["the kept note about deploys"]);
      const afterRecall = await sequencedPast(afterForget);
      // MatchProcedures is a read too: it answers with a recall id while its trace waits behind the rest.
      const matched = await call(c.knowledge.matchProcedures.bind(c.knowledge), memoryV1.MatchProceduresRequest.fromPartial({ namespace: NS, situation: "a key leaked" }));
      expect(matched.procedures.map((p) => p.procedure?.name)).toEqual(["rotate-keys"]);
      expect(matched.recallId).not.toBe("");
      await sequencedPast(afterRecall);

      expect((await get(kept.memory!.id)).memory?.content).toBe("the kept note about deploys");
      expect(await listed()).toEqual(["the kept note about deploys"]);
      expect(await metric("ww_applied_lsn")).toBe(appliedBefore);
      expect(remembered.settled || forgotten.settled).toBe(false);

      pod.sidecar.child.kill("SIGCONT");
      paused = false;
      const pending = await remembered.promise;
      expect((await forgotten.promise).forgottenCount).toBe(1);
      // Ordered after the match's trace, which is durable now: the outcome is recorded.
      await call(c.memory.reinforce.bind(c.memory), memoryV1.ReinforceRequest.fromPartial({ namespace: NS, recallId: matched.recallId, reward: 1 }));
      const again = await call(c.knowledge.matchProcedures.bind(c.knowledge), memoryV1.MatchProceduresRequest.fromPartial({ namespace: NS, situation: "a key leaked" }));
      expect(again.procedures[0]!.procedure!.executionCount).toBe(1);
      const recalledAfter = await call(c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace: NS, query: "pending note about rollbacks", topK: 10 }));
      expect(recalledAfter.memories.map((m) => m.memory?.id)).toEqual([pending.memory!.id]);
      expect((await get(pending.memory!.id)).memory?.content).toBe("the pending note about rollbacks");
      expect(await listed()).toEqual(["the pending note about rollbacks"]);
      const gone = await get(kept.memory!.id).then(
        () => undefined,
        (error: ServiceError) => error,
      );
      expect(gone?.code).toBe(5);
    } finally {
      c.close();
    }
  });
});
