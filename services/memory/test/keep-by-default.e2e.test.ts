/**
 * Keep by default (issue #16, item 1): what Remember acknowledges stays
 * recallable by id with its content until something the caller controls
 * ends it. Real sidecar and memory service processes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminV1, memoryV1 } from "@t4dm/proto";
import { decodeStatusDetails } from "@t4dm/rpc";
import { call, callError, connectClients, startPod, type Pod } from "@t4dm/testkit";

const { MEMORY_STATUS_STORED, MEMORY_STATUS_PENDING_PROMOTION, MEMORY_STATUS_EVICTED } = memoryV1.MemoryStatus;
const SUBJECTS = "invoice kubernetes lunch guitar passport dentist tomato satellite library volcano bicycle compiler piano harbor quartz".split(" ");
const VERBS = "broke arrived moved changed vanished improved".split(" ");
/** Sentences far apart, so none is a near-duplicate of another. */
const distinct = (i: number) => `the ${SUBJECTS[i % SUBJECTS.length]} ${VERBS[Math.floor(i / SUBJECTS.length) % VERBS.length]} on day ${i} near ${SUBJECTS[(i * 7 + 3) % SUBJECTS.length]}`;

describe("keep by default: nothing an agent asked to remember vanishes", () => {
  let pod: Pod;
  let c: ReturnType<typeof connectClients>;

  beforeAll(async () => {
    // A buffer of 3: pressure from the fourth Remember on.
    pod = await startPod({ env: { T4DM_BUFFER_CAPACITY: "3", T4DM_EMBEDDING_DIM: "64" } });
    c = connectClients(pod.grpcAddr);
  });
  afterAll(async () => {
    c?.close();
    await pod?.stop();
  });

  // No importance and no admission mode: what used to be thrown away.
  const remember = (namespace: string, content: string, extra: Partial<memoryV1.RememberRequest> = {}) =>
    call(c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace, content, ...extra }));
  const get = async (namespace: string, id: string) => (await call(c.memory.getMemory.bind(c.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace, id }))).memory!;
  const consolidate = (namespace: string, mode: memoryV1.ConsolidationMode) => call(c.memory.consolidate.bind(c.memory), memoryV1.ConsolidateRequest.fromPartial({ namespace, mode }));
  const setPolicy = (namespace: string, policy: Partial<adminV1.RetentionPolicy> | undefined) =>
    adminV1.SetRetentionPolicyRequest.fromPartial({ namespace, policy });
  /** Reads every id back once no store write is pending for any of them. */
  const settled = async (namespace: string, ids: readonly string[]) => {
    for (;;) {
      const memories = await Promise.all(ids.map((id) => get(namespace, id)));
      if (memories.every((m) => m.status !== MEMORY_STATUS_PENDING_PROMOTION)) return memories;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const metric = async (name: string) => {
    const text = await (await fetch(`${pod.httpUrl}/metrics`)).text();
    return Number(text.split("\n").find((l) => l.startsWith(`${name} `))?.split(" ").at(-1));
  };

  it("a Remember without importance survives Consolidate LIGHT and DEEP: STORED with its content", async () => {
    const contents = Array.from({ length: 9 }, (_, i) => distinct(i));
    const ids: string[] = [];
    for (const content of contents) {
      const r = await remember("keep-consolidate", content);
      expect(r.decision).toBe(memoryV1.AdmissionDecision.ADMISSION_DECISION_ADMITTED);
      ids.push(r.memory!.id);
    }
    const light = await consolidate("keep-consolidate", memoryV1.ConsolidationMode.CONSOLIDATION_MODE_LIGHT);
    expect(light.evictedCount).toBe(0);
    const deep = await consolidate("keep-consolidate", memoryV1.ConsolidationMode.CONSOLIDATION_MODE_DEEP);
    expect(deep.evictedCount).toBe(0);
    const memories = await settled("keep-consolidate", ids);
    expect(memories.map((m) => m.status)).toEqual(ids.map(() => MEMORY_STATUS_STORED));
    expect(memories.map((m) => m.content)).toEqual(contents);
  });

  it("buffer pressure promotes instead of discarding: 30 Remembers into a buffer of 3 all read back with their content", async () => {
    const contents = Array.from({ length: 30 }, (_, i) => distinct(100 + i));
    const ids = [];
    for (const content of contents) ids.push((await remember("keep-pressure", content)).memory!.id);
    const memories = await settled("keep-pressure", ids);
    expect(memories.filter((m) => m.status === MEMORY_STATUS_EVICTED)).toEqual([]);
    expect(memories.map((m) => m.content)).toEqual(contents);
  });

  it("a near-duplicate Remember is MERGED into the existing memory: its id, metadata combined, nothing lost", async () => {
    const first = await remember("keep-merge", "the staging database password rotates every friday", { metadata: { source: "chat", owner: "ops" } });
    const second = await remember("keep-merge", "the staging database password rotates every friday", { metadata: { source: "wiki", page: 7 }, importance: 0.8 });
    expect(second.decision).toBe(memoryV1.AdmissionDecision.ADMISSION_DECISION_MERGED);
    expect(second.memory!.id).toBe(first.memory!.id);
    const expected = { owner: "ops", source: "wiki", page: 7 };
    expect(second.memory!.metadata).toEqual(expected);
    const read = await get("keep-merge", first.memory!.id);
    expect(read.content).toBe("the staging database password rotates every friday");
    expect(read.metadata).toEqual(expected);
    expect(read.importance).toBeCloseTo(0.8, 5);
  });

  it("LEARNED, set per namespace by the operator, keeps the learned discarding: evicted with a reason GetMemory reports", async () => {
    const set = await call(c.admin.setRetentionPolicy.bind(c.admin), setPolicy("learned-ns", { mode: adminV1.RetentionMode.RETENTION_MODE_LEARNED }));
    expect(set.lsn).toBeGreaterThan(0);
    const policy = await call(c.admin.getRetentionPolicy.bind(c.admin), adminV1.GetRetentionPolicyRequest.fromPartial({ namespace: "learned-ns" }));
    expect(policy).toMatchObject({ isDefault: false, policy: { mode: adminV1.RetentionMode.RETENTION_MODE_LEARNED } });
    const other = await call(c.admin.getRetentionPolicy.bind(c.admin), adminV1.GetRetentionPolicyRequest.fromPartial({ namespace: "keep-merge" }));
    expect(other).toMatchObject({ isDefault: true, policy: { mode: adminV1.RetentionMode.RETENTION_MODE_KEEP } });

    const kept = await remember("learned-ns", distinct(200), { admission: memoryV1.AdmissionMode.ADMISSION_MODE_ALWAYS });
    const light = await consolidate("learned-ns", memoryV1.ConsolidationMode.CONSOLIDATION_MODE_LIGHT);
    expect(light.evictedCount).toBe(1);
    expect(await get("learned-ns", kept.memory!.id)).toMatchObject({ status: MEMORY_STATUS_EVICTED, evictionReason: memoryV1.EvictionReason.EVICTION_REASON_AGE, content: "" });
  });

  it("operator limits end the oldest beyond max memories, with reason RETENTION visible in GetMemory", async () => {
    await call(c.admin.setRetentionPolicy.bind(c.admin), setPolicy("limited", { mode: adminV1.RetentionMode.RETENTION_MODE_KEEP, maxMemories: 2 }));
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await remember("limited", distinct(300 + i))).memory!.id);
    const light = await consolidate("limited", memoryV1.ConsolidationMode.CONSOLIDATION_MODE_LIGHT);
    expect(light.retentionEndedCount).toBe(2);
    const memories = await settled("limited", ids);
    expect(memories.map((m) => [m.status, m.evictionReason])).toEqual([
      [MEMORY_STATUS_EVICTED, memoryV1.EvictionReason.EVICTION_REASON_RETENTION],
      [MEMORY_STATUS_EVICTED, memoryV1.EvictionReason.EVICTION_REASON_RETENTION],
      [MEMORY_STATUS_STORED, memoryV1.EvictionReason.EVICTION_REASON_UNSPECIFIED],
      [MEMORY_STATUS_STORED, memoryV1.EvictionReason.EVICTION_REASON_UNSPECIFIED],
    ]);
  });

  it("a nonsense retention policy answers INVALID_ARGUMENT naming the field, and logs nothing", async () => {
    const before = await metric("ww_sequenced_lsn");
    const cases: [adminV1.SetRetentionPolicyRequest, string][] = [
      [setPolicy("ns", { mode: adminV1.RetentionMode.RETENTION_MODE_KEEP, maxMemories: -1 }), "policy.max_memories"],
      [setPolicy("ns", { mode: adminV1.RetentionMode.RETENTION_MODE_KEEP, maxAgeSeconds: -5 }), "policy.max_age_seconds"],
      [setPolicy("ns", { mode: 9 as adminV1.RetentionMode }), "policy.mode"],
      [setPolicy("ns", { mode: adminV1.RetentionMode.RETENTION_MODE_UNSPECIFIED }), "policy.mode"],
      [setPolicy("", { mode: adminV1.RetentionMode.RETENTION_MODE_KEEP }), "namespace"],
      [setPolicy("ns", undefined), "policy"],
    ];
    for (const [request, field] of cases) {
      const error = await callError(c.admin.setRetentionPolicy.bind(c.admin), request);
      expect(error.code, field).toBe(3);
      expect(decodeStatusDetails(error).fieldViolations.map((v) => v.field), field).toContain(field);
    }
    expect(await metric("ww_sequenced_lsn")).toBe(before);
    const unchanged = await call(c.admin.getRetentionPolicy.bind(c.admin), adminV1.GetRetentionPolicyRequest.fromPartial({ namespace: "ns" }));
    expect(unchanged.isDefault).toBe(true);
  });
});
