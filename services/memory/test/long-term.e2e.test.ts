import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteGraphStore } from "@t4dm/storage";
import { adminV1, memoryV1 } from "@t4dm/proto";
import { decodeStatusDetails } from "@t4dm/rpc";
import { call, callError, connectClients, startPod, type Pod } from "@t4dm/testkit";

const ALWAYS = memoryV1.AdmissionMode.ADMISSION_MODE_ALWAYS;

describe("long-term memory on the embedded stores", () => {
  let pod: Pod;
  let c: ReturnType<typeof connectClients>;

  beforeAll(async () => {
    // LEARNED: these tests cover the learned discarding (gate, evictions with reasons); keep-by-default.e2e covers KEEP.
    pod = await startPod({ env: { T4DM_BUFFER_CAPACITY: "5", T4DM_EMBEDDING_DIM: "64", T4DM_RETENTION_DEFAULT: "learned" } });
    c = connectClients(pod.grpcAddr);
  });
  afterAll(async () => {
    c?.close();
    await pod?.stop();
  });

  const remember = (partial: Partial<memoryV1.RememberRequest>) =>
    call(c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace: "lt", admission: ALWAYS, ...partial }));
  const get = (id: string, namespace = "lt") => call(c.memory.getMemory.bind(c.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace, id }));
  const recall = (partial: Partial<memoryV1.RecallRequest>) => call(c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace: "lt", ...partial }));
  /** Waits until the store has confirmed every promotion (the state's pending list is empty). */
  const settled = async (ids: string[]) => {
    for (;;) {
      const statuses = await Promise.all(ids.map((id) => get(id).then((r) => r.memory!.status, () => undefined)));
      if (statuses.every((s) => s !== memoryV1.MemoryStatus.MEMORY_STATUS_PENDING_PROMOTION)) return statuses;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it("promotes memories that earned it when the buffer overflows, and recalls across buffer and store", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await remember({ content: `kubernetes rollout note ${i} about canary deploys`, importance: 0.9, metadata: { n: i, team: i % 2 ? "odd" : "even" } });
      ids.push(r.memory!.id);
    }
    const statuses = await settled(ids);
    expect(statuses.filter((s) => s === memoryV1.MemoryStatus.MEMORY_STATUS_STORED).length).toBeGreaterThanOrEqual(7);
    expect(statuses.filter((s) => s === memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED).length).toBeLessThanOrEqual(5);
    const status = await call(c.admin.getStatus.bind(c.admin), adminV1.GetStatusRequest.fromPartial({}));
    expect(status.bufferSize).toBeLessThanOrEqual(5);
    expect(status.storage.map((s) => s.backend)).toEqual(expect.arrayContaining(["embedded"]));

    const result = await recall({ query: "canary deploys rollout", topK: 12 });
    const sources = new Set(result.memories.map((m) => m.source));
    expect(sources.has(memoryV1.MemorySource.MEMORY_SOURCE_BUFFER)).toBe(true);
    expect(sources.has(memoryV1.MemorySource.MEMORY_SOURCE_STORE)).toBe(true);
    expect(result.memories.length).toBe(12);

    const filtered = await recall({ query: "canary deploys", topK: 20, filters: [{ key: "team", condition: { $case: "equals", value: "odd" } }] });
    expect(filtered.memories.length).toBe(6);
    expect(filtered.memories.every((m) => m.memory!.metadata.team === "odd")).toBe(true);
    const ranged = await recall({ query: "canary deploys", topK: 20, filters: [{ key: "n", condition: { $case: "range", value: { gte: 3, lte: 5 } } }] });
    expect(ranged.memories.map((m) => m.memory!.metadata.n).sort()).toEqual([3, 4, 5]);
  });

  it("answers every admitted Remember with its memory, even one that left the buffer before the answer", async () => {
    // 12 memories into a buffer of 5 in one batch: the early ones are pushed out by the later
    // ones before the batch is answered, half promoted (importance 0.9), half evicted (0).
    const requests = Array.from({ length: 12 }, (_, i) =>
      memoryV1.RememberRequest.fromPartial({ namespace: "out", admission: ALWAYS, content: `batch line ${i} about ${i % 2 ? "zebras" : "quasars"}`, importance: i % 2 ? 0 : 0.9 }),
    );
    const { responses } = await call(c.memory.batchRemember.bind(c.memory), memoryV1.BatchRememberRequest.fromPartial({ requests }));
    expect(responses.map((r) => r.decision)).toEqual(requests.map(() => memoryV1.AdmissionDecision.ADMISSION_DECISION_ADMITTED));
    expect(responses.every((r) => r.memory?.id && r.memory.namespace === "out")).toBe(true);
    expect(responses.map((r) => r.memory!.content)).toEqual(requests.map((r) => r.content));
    const statuses = responses.map((r) => r.memory!.status);
    expect(statuses.filter((s) => s === memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED).length).toBeLessThanOrEqual(5);
    expect(statuses).toContain(memoryV1.MemoryStatus.MEMORY_STATUS_EVICTED);
    expect(statuses).not.toContain(memoryV1.MemoryStatus.MEMORY_STATUS_UNSPECIFIED);
    // What the answer says agrees with GetMemory for the evicted ones (their status is final).
    for (const r of responses.filter((x) => x.memory!.status === memoryV1.MemoryStatus.MEMORY_STATUS_EVICTED)) {
      const got = await get(r.memory!.id, "out");
      expect(got.memory!.status).toBe(memoryV1.MemoryStatus.MEMORY_STATUS_EVICTED);
      expect(r.memory!.evictionReason).toBe(got.memory!.evictionReason);
    }
  });

  it("evicts low-evidence memories with a reason GetMemory reports", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await remember({ namespace: "ev", content: `throwaway scratch line ${i} zebra`, importance: 0 })).memory!.id);
    const reasons = await Promise.all(ids.map((id) => get(id, "ev").then((r) => r.memory!)));
    const evicted = reasons.filter((m) => m.status === memoryV1.MemoryStatus.MEMORY_STATUS_EVICTED);
    expect(evicted.length).toBeGreaterThan(0);
    expect(evicted.every((m) => m.evictionReason === memoryV1.EvictionReason.EVICTION_REASON_CAPACITY)).toBe(true);
  });

  it("lists the evicted memories GetMemory reports, page by page, only when asked for", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await remember({ namespace: "ev-list", content: `scratch line ${i} about walruses`, importance: 0 })).memory!.id);
    const evicted = (await Promise.all(ids.map((id) => get(id, "ev-list").then((r) => r.memory!)))).filter((m) => m.status === memoryV1.MemoryStatus.MEMORY_STATUS_EVICTED);
    expect(evicted.length).toBeGreaterThanOrEqual(5);

    const list = (partial: Partial<memoryV1.ListMemoriesRequest>) =>
      call(c.memory.listMemories.bind(c.memory), memoryV1.ListMemoriesRequest.fromPartial({ namespace: "ev-list", ...partial }));
    const listed: memoryV1.Memory[] = [];
    let token = "";
    let pages = 0;
    do {
      const page = await list({ statuses: [memoryV1.MemoryStatus.MEMORY_STATUS_EVICTED], pageSize: 2, pageToken: token });
      expect(page.memories.length).toBeLessThanOrEqual(2);
      listed.push(...page.memories);
      token = page.nextPageToken;
      pages += 1;
    } while (token && pages < 20); // a cursor that does not advance must fail, not loop
    expect(token).toBe("");
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(listed.map((m) => m.id).sort()).toEqual(evicted.map((m) => m.id).sort());
    expect(listed).toEqual(expect.arrayContaining(evicted)); // the same answer GetMemory gives, reason included

    // Not by default (they are gone), and alongside other statuses when asked for.
    const everything = await list({ pageSize: 100 });
    expect(everything.memories.some((m) => m.status === memoryV1.MemoryStatus.MEMORY_STATUS_EVICTED)).toBe(false);
    const both = await list({ statuses: [memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED, memoryV1.MemoryStatus.MEMORY_STATUS_EVICTED], pageSize: 100 });
    expect(both.memories.map((m) => m.id).sort()).toEqual([...everything.memories.filter((m) => m.status === memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED), ...evicted].map((m) => m.id).sort());
    // Another namespace never sees them.
    const other = await call(c.memory.listMemories.bind(c.memory), memoryV1.ListMemoriesRequest.fromPartial({ namespace: "ev", statuses: [memoryV1.MemoryStatus.MEMORY_STATUS_EVICTED], pageSize: 100 }));
    expect(other.memories.some((m) => m.namespace !== "ev")).toBe(false);
  });

  /** 12 memories in `namespace`, half of them pushed out of the buffer of 5 into the store. */
  const rememberTwelve = async (namespace: string) => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push((await remember({ namespace, content: `kubernetes rollout note ${i} about canary deploys`, importance: 0.9, metadata: { n: i, team: i % 2 ? "odd" : "even" } })).memory!.id);
    }
    for (;;) {
      const statuses = await Promise.all(ids.map((id) => get(id, namespace).then((r) => r.memory!.status)));
      if (statuses.every((s) => s !== memoryV1.MemoryStatus.MEMORY_STATUS_PENDING_PROMOTION)) return ids;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it("lists memories with stable page tokens across buffer and store, and refuses a token from another query", async () => {
    await rememberTwelve("lt-pages");
    const seen: string[] = [];
    let token = "";
    do {
      const page = await call(c.memory.listMemories.bind(c.memory), memoryV1.ListMemoriesRequest.fromPartial({ namespace: "lt-pages", pageSize: 5, pageToken: token }));
      seen.push(...page.memories.map((m) => m.id));
      token = page.nextPageToken;
    } while (token);
    expect(seen.length).toBe(12);
    expect(new Set(seen).size).toBe(12);

    const first = await call(c.memory.listMemories.bind(c.memory), memoryV1.ListMemoriesRequest.fromPartial({ namespace: "lt-pages", pageSize: 2 }));
    const error = await callError(c.memory.listMemories.bind(c.memory), memoryV1.ListMemoriesRequest.fromPartial({ namespace: "lt-pages", pageSize: 2, pageToken: first.nextPageToken, types: [1] }));
    expect(error.code).toBe(3);
    expect(decodeStatusDetails(error).fieldViolations[0]?.field).toBe("page_token");
    const garbage = await callError(c.memory.listMemories.bind(c.memory), memoryV1.ListMemoriesRequest.fromPartial({ namespace: "lt-pages", pageToken: "not-a-token" }));
    expect(garbage.code).toBe(3);
  });

  it("forgets by id and by filter, from buffer and store", async () => {
    await rememberTwelve("lt-forget");
    const list = await call(c.memory.listMemories.bind(c.memory), memoryV1.ListMemoriesRequest.fromPartial({ namespace: "lt-forget", pageSize: 100 }));
    const stored = list.memories.find((m) => m.status === memoryV1.MemoryStatus.MEMORY_STATUS_STORED)!;
    const buffered = list.memories.find((m) => m.status === memoryV1.MemoryStatus.MEMORY_STATUS_BUFFERED)!;
    const byId = await call(c.memory.forget.bind(c.memory), memoryV1.ForgetRequest.fromPartial({ namespace: "lt-forget", ids: [stored.id, buffered.id, "no-such-id"] }));
    expect(byId.forgottenCount).toBe(2);
    for (const id of [stored.id, buffered.id]) expect((await callError(c.memory.getMemory.bind(c.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: "lt-forget", id }))).code).toBe(5);

    const byFilter = await call(c.memory.forget.bind(c.memory), memoryV1.ForgetRequest.fromPartial({ namespace: "lt-forget", filters: [{ key: "team", condition: { $case: "equals", value: "odd" } }] }));
    expect(byFilter.forgottenCount).toBeGreaterThan(0);
    const after = await recall({ namespace: "lt-forget", query: "canary deploys", topK: 20 });
    expect(after.memories.some((m) => m.memory!.metadata.team === "odd")).toBe(false);
    expect(after.memories.some((m) => m.memory!.id === stored.id)).toBe(false);
  });

  it("consolidates: DEEP merges near-duplicates and forms concepts; LIGHT empties the namespace's buffer", async () => {
    // Its own pod: with a buffer of 5 shared by every namespace, what earlier tests left there
    // (recalled, so with more evidence) would push the fresh copies out before they are merged.
    const own = await startPod({ env: { T4DM_BUFFER_CAPACITY: "5", T4DM_EMBEDDING_DIM: "64" } });
    const oc = connectClients(own.grpcAddr);
    try {
      const remember = (partial: Partial<memoryV1.RememberRequest>) =>
        call(oc.memory.remember.bind(oc.memory), memoryV1.RememberRequest.fromPartial({ admission: ALWAYS, ...partial }));
      const get = (id: string, namespace: string) => call(oc.memory.getMemory.bind(oc.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace, id }));
      // Near-duplicates merge at Remember already (keep-by-default.e2e covers the merge itself), so DEEP finds none left.
      const copies: string[] = [];
      for (let i = 0; i < 3; i++) copies.push((await remember({ namespace: "dup", content: "the build cache lives on the shared volume", importance: 0.9 })).memory!.id);
      expect(new Set(copies).size).toBe(1);
      const merged = await call(oc.memory.consolidate.bind(oc.memory), memoryV1.ConsolidateRequest.fromPartial({ namespace: "dup", mode: memoryV1.ConsolidationMode.CONSOLIDATION_MODE_DEEP }));
      expect(merged.duplicatesMerged).toBe(0);
      expect((await get(copies[0]!, "dup")).memory!.content).toBe("the build cache lives on the shared volume");

      for (let i = 0; i < 7; i++) await remember({ namespace: "deep", content: `invoice reminder ${i} for the accounting team payment`, importance: 0.9 });
      const deep = await call(oc.memory.consolidate.bind(oc.memory), memoryV1.ConsolidateRequest.fromPartial({ namespace: "deep", mode: memoryV1.ConsolidationMode.CONSOLIDATION_MODE_DEEP }));
      expect(deep.conceptsCreated).toBeGreaterThanOrEqual(1);
      // The concept reaches the graph store (read here through a second connection to its file).
      const graph = new SqliteGraphStore({ dir: path.join(own.dataDir, "store"), dimensions: 64 });
      await graph.init();
      for (;;) {
        const concepts = await graph.listConcepts("deep");
        if (concepts.length > 0) {
          expect(concepts[0]!.episodeIds.length).toBeGreaterThanOrEqual(5);
          expect(concepts[0]!.label).toMatch(/invoice|reminder|accounting|payment/);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await graph.close();
      expect(deep.promotedCount + deep.evictedCount).toBeGreaterThan(0);
      const light = await call(oc.memory.consolidate.bind(oc.memory), memoryV1.ConsolidateRequest.fromPartial({ namespace: "deep", mode: memoryV1.ConsolidationMode.CONSOLIDATION_MODE_LIGHT }));
      expect(light.promotedCount + light.evictedCount).toBe(0);
    } finally {
      oc.close();
      await own.stop();
    }
  });

  it("keeps facts on two timelines: a contradiction closes the old fact", async () => {
    const upsert = (object: string, start: string) =>
      call(c.knowledge.upsertFact.bind(c.knowledge), memoryV1.UpsertFactRequest.fromPartial({ namespace: "kb", subject: "alice", predicate: "works_at", object, validStartTime: new Date(start) }));
    await upsert("acme", "2024-01-01T00:00:00Z");
    const moved = await upsert("globex", "2025-06-01T00:00:00Z");
    expect(moved.closedFacts).toHaveLength(1);
    expect(moved.closedFacts[0]!.validEndTime?.toISOString()).toBe("2025-06-01T00:00:00.000Z");
    const query = (asOf: string, history = false) =>
      call(c.knowledge.queryFacts.bind(c.knowledge), memoryV1.QueryFactsRequest.fromPartial({ namespace: "kb", subject: "alice", asOfTime: new Date(asOf), includeHistory: history }));
    expect((await query("2024-06-01T00:00:00Z")).facts.map((f) => f.object)).toEqual(["acme"]);
    expect((await query("2025-07-01T00:00:00Z")).facts.map((f) => f.object)).toEqual(["globex"]);
    expect((await query("2025-07-01T00:00:00Z", true)).facts).toHaveLength(2);
    expect((await call(c.knowledge.queryFacts.bind(c.knowledge), memoryV1.QueryFactsRequest.fromPartial({ namespace: "other", subject: "alice" }))).facts).toEqual([]);
  });

  it("matches procedures by trigger and learns their success rate from Reinforce", async () => {
    const up = await call(
      c.knowledge.upsertProcedure.bind(c.knowledge),
      memoryV1.UpsertProcedureRequest.fromPartial({ namespace: "kb", name: "rotate-keys", trigger: "rotate the api keys when a key leaks", steps: [{ action: "revoke old key" }, { action: "issue new key" }] }),
    );
    await call(
      c.knowledge.upsertProcedure.bind(c.knowledge),
      memoryV1.UpsertProcedureRequest.fromPartial({ namespace: "kb", name: "restart-db", trigger: "restart the database after an outage", steps: [{ action: "restart" }] }),
    );
    const match = await call(c.knowledge.matchProcedures.bind(c.knowledge), memoryV1.MatchProceduresRequest.fromPartial({ namespace: "kb", situation: "an api key leaked, rotate it" }));
    expect(match.procedures[0]!.procedure!.name).toBe("rotate-keys");
    expect(match.recallId).not.toBe("");
    await call(c.memory.reinforce.bind(c.memory), memoryV1.ReinforceRequest.fromPartial({ namespace: "kb", recallId: match.recallId, reward: 1, memoryRewards: { [match.procedures[1]!.procedure!.id]: -1 } }));
    const again = await call(c.knowledge.matchProcedures.bind(c.knowledge), memoryV1.MatchProceduresRequest.fromPartial({ namespace: "kb", situation: "an api key leaked, rotate it" }));
    const rotate = again.procedures.find((p) => p.procedure!.id === up.procedure!.id)!;
    expect(rotate.procedure!.executionCount).toBe(1);
    expect(rotate.procedure!.successRate).toBe(1);
  });

  it("refuses malformed filters, unknown types and oversized batches with details", async () => {
    const cases = [
      callError(c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace: "lt", query: "x y", filters: [{ key: "", condition: { $case: "equals", value: 1 } }] })),
      callError(c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace: "lt", query: "x y", filters: [{ key: "n", condition: { $case: "range", value: { gte: 5, lte: 1 } } }] })),
      callError(c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace: "lt", query: "x y", types: [9 as memoryV1.MemoryType] })),
      callError(c.memory.forget.bind(c.memory), memoryV1.ForgetRequest.fromPartial({ namespace: "lt" })),
      callError(c.memory.listMemories.bind(c.memory), memoryV1.ListMemoriesRequest.fromPartial({ namespace: "lt", statuses: [7 as memoryV1.MemoryStatus] })),
      callError(c.knowledge.upsertFact.bind(c.knowledge), memoryV1.UpsertFactRequest.fromPartial({ namespace: "kb", subject: "a" })),
      callError(c.knowledge.upsertProcedure.bind(c.knowledge), memoryV1.UpsertProcedureRequest.fromPartial({ namespace: "kb", name: "x", trigger: "do it" })),
    ];
    for (const error of await Promise.all(cases)) {
      expect(error.code).toBe(3);
      expect(decodeStatusDetails(error).fieldViolations.length).toBeGreaterThan(0);
    }
  });
});
