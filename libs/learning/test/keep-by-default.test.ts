/**
 * Retention planning: under KEEP (the default) nothing acknowledged leaves
 * the buffer except by promotion, the gate never rejects, and near-duplicates
 * merge into the buffered memory with everything combined; under LEARNED the
 * old learned discarding stays; the operator's limits end the oldest.
 */
import { walV1 } from "@t4dm/proto";
import { describe, expect, it } from "vitest";
import { embedText, LearningState, planConsolidation, planRemember, planRetention, stepsOf, type Operation, type RememberInput } from "../src/index.js";
import { Driver, mulberry32 } from "./support/driver.js";

const DIM = 32;
const KEEP = walV1.RetentionMode.RETENTION_MODE_KEEP;
const LEARNED = walV1.RetentionMode.RETENTION_MODE_LEARNED;

function started(defaultRetention: walV1.RetentionMode, bufferCapacity = 4): Driver {
  const driver = new Driver(mulberry32(9));
  driver.start({ seed: 5, embeddingDim: DIM, bufferCapacity, defaultRetention });
  return driver;
}

function input(content: string, overrides: Partial<RememberInput> = {}): RememberInput {
  return {
    namespace: "ns",
    content,
    kind: walV1.MemoryKind.MEMORY_KIND_EPISODIC,
    metadata: {},
    // No importance hint: the case that used to be discarded.
    importance: 0,
    embedding: embedText(content, DIM),
    always: false,
    requestId: "",
    ...overrides,
  };
}

/** Plans and commits a Remember; returns the plan. */
function remember(driver: Driver, content: string, overrides: Partial<RememberInput> = {}) {
  const time = driver.now();
  const plan = planRemember(driver.state, input(content, overrides), driver.context(time));
  driver.commit(plan.operations, time);
  return plan;
}

const distinct = (i: number) => `alpha${i} beta${i * 7} gamma${i * 13}`;
const cases = (operations: readonly Operation[]) => operations.map((operation) => operation.$case);
/** Every logged change, a REMEMBER record's steps included. */
const logged = (driver: Driver) => driver.log.flatMap((entry) => stepsOf(entry.entry.operation));

describe("retention KEEP (the default)", () => {
  it("never rejects and never evicts under buffer pressure: every memory is buffered, promoting, or promoted", () => {
    const driver = started(walV1.RetentionMode.RETENTION_MODE_UNSPECIFIED);
    const planned = [];
    for (let i = 0; i < 30; i++) planned.push(remember(driver, distinct(i)));
    expect(planned.map((plan) => plan.decision)).toEqual(planned.map(() => "admitted"));
    expect(logged(driver).some((operation) => operation.$case === "bufferRemove")).toBe(false);
    const promoted = logged(driver).filter((operation) => operation.$case === "bufferPromote").length;
    expect(promoted + driver.state.buffer.size).toBe(30);
  });

  it("the gate weights but never rejects: a sequence LEARNED rejects most of is admitted whole", () => {
    const decisions = (mode: walV1.RetentionMode) => {
      const driver = started(mode, 100);
      return Array.from({ length: 40 }, (_, i) => remember(driver, `deploy cache note ${i % 5} x${i}`).decision);
    };
    expect(decisions(LEARNED).filter((d) => d === "rejected").length).toBeGreaterThan(10);
    expect(decisions(KEEP).filter((d) => d !== "admitted")).toEqual([]);
  });

  it("Consolidate LIGHT and DEEP promote every buffered memory and evict none", () => {
    for (const deep of [false, true]) {
      const driver = started(KEEP, 100);
      for (let i = 0; i < 9; i++) remember(driver, distinct(i));
      const plan = planConsolidation(driver.state, "ns", deep, driver.now());
      expect(plan.evicted).toBe(0);
      expect(plan.promoted).toBe(9);
      expect(cases(plan.operations).filter((c) => c === "bufferRemove")).toEqual([]);
    }
  });

  it("a near-duplicate Remember merges into the buffered memory: its id, metadata combined, higher importance, evidence added", () => {
    const driver = started(KEEP, 100);
    const first = remember(driver, "the deploy script is tools/deploy.sh", { metadata: { source: "chat", owner: "ops" }, importance: 0.2 });
    expect(first.decision).toBe("admitted");
    const id = first.decision === "admitted" ? first.memory.id : "";
    const before = driver.state.buffer.get(id)!.evidence;
    const second = remember(driver, "the deploy script is tools/deploy.sh", { metadata: { source: "ticket", ticket: 42 }, importance: 0.7, requestId: "r2" });
    expect(second).toMatchObject({ decision: "merged", memoryId: id });
    expect(cases(second.operations)).toEqual(["memoryMerge"]);
    const kept = driver.state.buffer.get(id)!;
    // The newer Remember's value wins a key both have; keys of either side are kept.
    expect(kept.memory.metadata).toEqual({ owner: "ops", source: "ticket", ticket: 42 });
    expect(kept.memory.importance).toBeCloseTo(0.7, 6);
    expect(kept.evidence).toBeGreaterThan(before);
    expect(driver.state.buffer.size).toBe(1);
    // A retry of the merged request answers the memory it was merged into.
    expect(planRemember(driver.state, input("the deploy script is tools/deploy.sh", { metadata: { source: "ticket", ticket: 42 }, importance: 0.7, requestId: "r2" }), driver.context(driver.now()))).toMatchObject({ decision: "duplicate", memoryId: id });
    // Replay (cold, and from a checkpoint) gives the same state.
    expect(driver.replay().hash().equals(driver.state.hash())).toBe(true);
    expect(LearningState.decode(driver.state.encode()).hash().equals(driver.state.hash())).toBe(true);
  });

  it("merges only the same words: a close embedding with other words (another time, a negation) is its own memory", () => {
    const driver = started(KEEP, 100);
    const same = Float32Array.from(embedText("the standup is at 3pm", DIM));
    const first = remember(driver, "the standup is at 3pm", { embedding: same });
    expect(first.decision).toBe("admitted");
    // The same embedding on purpose: only the words tell these apart.
    expect(remember(driver, "the standup is at 4pm", { embedding: same }).decision).toBe("admitted");
    expect(remember(driver, "the standup is not at 3pm", { embedding: same }).decision).toBe("admitted");
    // Case, accents, punctuation and spacing aside, it is the same memory.
    expect(remember(driver, "  The STANDUP is at 3PM!", { embedding: same }).decision).toBe("merged");
    expect(driver.state.buffer.size).toBe(3);
    const plan = planConsolidation(driver.state, "ns", true, driver.now());
    expect(plan.merged).toBe(0);
  });

  it("Consolidate DEEP merges near-duplicates into the stronger one: merged id recorded with its keeper, metadata combined", () => {
    const driver = started(KEEP, 100);
    const strong = remember(driver, "the deploy script is tools/deploy.sh", { metadata: { a: 1 }, importance: 0.9 });
    const strongId = strong.decision === "admitted" ? strong.memory.id : "";
    // A Remember would merge at once; a duplicate pair can still be buffered (an import, an older build's
    // WAL): add one by its record — a copy, in "ns", of one remembered elsewhere.
    const weak = remember(driver, "the deploy script is tools/deploy.sh", { namespace: "other", metadata: { b: 2 } });
    const weakId = "weak-in-ns";
    const copied = driver.state.buffer.get(weak.decision === "admitted" ? weak.memory.id : "")!.memory;
    driver.commit([{ $case: "bufferAdd", value: walV1.BufferAdd.fromPartial({ memory: { ...copied, id: weakId, namespace: "ns" } }) }], driver.now());
    const plan = planConsolidation(driver.state, "ns", true, driver.now());
    expect(plan.merged).toBe(1);
    expect(plan.evicted).toBe(0);
    const merge = plan.operations.find((operation) => operation.$case === "memoryMerge");
    expect(merge?.value).toMatchObject({ intoId: strongId, mergedId: weakId, metadata: { a: 1, b: 2 } });
    driver.commit(plan.operations, driver.now());
    expect(driver.state.outbox.evictions.get(weakId)).toMatchObject({ mergedIntoId: strongId });
  });
});

describe("retention LEARNED (explicit)", () => {
  it("keeps the learned discarding: weak memories are evicted under pressure and by LIGHT, with reasons", () => {
    const driver = started(LEARNED);
    for (let i = 0; i < 8; i++) remember(driver, distinct(i), { always: true });
    expect(logged(driver).some((operation) => operation.$case === "bufferRemove" && operation.value.reason === walV1.RemovalReason.REMOVAL_REASON_CAPACITY)).toBe(true);
    const plan = planConsolidation(driver.state, "ns", false, driver.now());
    expect(plan.evicted).toBeGreaterThan(0);
  });

  it("a namespace policy overrides the default, and only for that namespace", () => {
    const driver = started(KEEP);
    driver.commit([{ $case: "retentionPolicySet", value: { namespace: "ns", mode: LEARNED, maxMemories: 0, maxAgeSeconds: 0 } }], driver.now());
    expect(driver.state.retention.keeps("ns")).toBe(false);
    expect(driver.state.retention.keeps("elsewhere")).toBe(true);
    expect(driver.replay().hash().equals(driver.state.hash())).toBe(true);
  });
});

describe("planRetention", () => {
  const now = new Date("2026-01-10T00:00:00Z");
  const at = (id: string, daysAgo: number) => ({ id, createTime: new Date(now.getTime() - daysAgo * 86_400_000) });
  const policy = (maxMemories: number, maxAgeSeconds: number): walV1.RetentionPolicySet => ({ namespace: "ns", mode: KEEP, maxMemories, maxAgeSeconds });

  it("ends nothing without limits", () => {
    expect(planRetention(undefined, [at("a", 9)], now)).toEqual([]);
    expect(planRetention(policy(0, 0), [at("a", 9)], now)).toEqual([]);
  });

  it("ends the oldest beyond max memories and those older than max age, with reason RETENTION", () => {
    const memories = [at("c", 1), at("a", 5), at("b", 3), at("a", 5), at("d", 0)];
    expect(planRetention(policy(2, 0), memories, now)).toEqual([
      { $case: "memoryDelete", value: { namespace: "ns", memoryIds: ["a", "b"], reason: walV1.RemovalReason.REMOVAL_REASON_RETENTION } },
    ]);
    expect(planRetention(policy(0, 2 * 86_400), memories, now)[0]?.value).toMatchObject({ memoryIds: ["a", "b"] });
    expect(planRetention(policy(10, 0), memories, now)).toEqual([]);
  });
});
