import { describe, expect, it } from "vitest";
import { stateV1, walV1 } from "@t4dm/proto";
import { embedText, findReusedRequestIds, LearningState, planRemember, type RememberInput } from "../src/index.js";
import { Driver, mulberry32 } from "./support/driver.js";

const DIM = 32;

function started(): Driver {
  const driver = new Driver(mulberry32(3));
  driver.start({ seed: 5, embeddingDim: DIM, bufferCapacity: 10 });
  return driver;
}

function input(overrides: Partial<RememberInput> = {}): RememberInput {
  const content = overrides.content ?? "the deploy script is tools/deploy.sh";
  return {
    namespace: "tenant-a",
    content,
    kind: walV1.MemoryKind.MEMORY_KIND_EPISODIC,
    metadata: { source: "chat", tags: ["ops", "deploy"] },
    importance: 0.3,
    embedding: embedText(content, DIM),
    always: true,
    requestId: "same-key",
    ...overrides,
  };
}

/** Plans and commits a Remember the way the service does; returns the plan. */
function remember(driver: Driver, request: RememberInput) {
  const time = driver.now();
  const plan = planRemember(driver.state, request, driver.context(time));
  driver.commit(plan.operations, time);
  return plan;
}

function admittedId(plan: ReturnType<typeof remember>): string {
  if (plan.decision !== "admitted") throw new Error(`expected an admission, got ${plan.decision}`);
  return plan.memory.id;
}

describe("planRemember: request ids", () => {
  it("answers a retry with the memory the first call created and logs nothing", () => {
    const driver = started();
    const first = admittedId(remember(driver, input()));
    const logged = driver.log.length;
    // Metadata in another key order is the same body.
    const retry = remember(driver, input({ metadata: { tags: ["ops", "deploy"], source: "chat" } }));
    expect(retry).toEqual({ decision: "duplicate", memoryId: first, operations: [] });
    expect(driver.log.length).toBe(logged);
    expect(driver.state.buffer.size).toBe(1);
  });

  it("treats the same id in another namespace as another request", () => {
    const driver = started();
    const a = admittedId(remember(driver, input()));
    const plan = remember(driver, input({ namespace: "tenant-b", content: "tenant b's own note" }));
    expect(plan.decision).toBe("admitted");
    const b = admittedId(plan);
    expect(b).not.toBe(a);
    expect(driver.state.buffer.get(b)?.memory).toMatchObject({ namespace: "tenant-b", content: "tenant b's own note", requestId: "same-key" });
    // Both keys are kept, each answering in its own namespace.
    expect(remember(driver, input())).toMatchObject({ decision: "duplicate", memoryId: a });
    expect(remember(driver, input({ namespace: "tenant-b", content: "tenant b's own note" }))).toMatchObject({ decision: "duplicate", memoryId: b });
  });

  it.each([
    ["content", { content: "something else entirely" }],
    ["kind", { kind: walV1.MemoryKind.MEMORY_KIND_SEMANTIC }],
    ["metadata", { metadata: { source: "email" } }],
    ["importance", { importance: 0.9 }],
  ] as const)("refuses the same id in the same namespace with another %s, logging nothing", (_field, change) => {
    const driver = started();
    const first = admittedId(remember(driver, input()));
    const logged = driver.log.length;
    expect(remember(driver, input(change))).toEqual({ decision: "reused", memoryId: first, operations: [] });
    expect(driver.log.length).toBe(logged);
  });

  it("does not compare the embedding or the admission mode", () => {
    const driver = started();
    const first = admittedId(remember(driver, input()));
    expect(remember(driver, input({ embedding: embedText("another vector", DIM), always: false }))).toMatchObject({ decision: "duplicate", memoryId: first });
  });

  it("keeps keys, scoped, through a checkpoint and through a cold replay of the WAL", () => {
    const driver = started();
    const a = admittedId(remember(driver, input()));
    const b = admittedId(remember(driver, input({ namespace: "tenant-b", content: "b" })));
    for (const state of [LearningState.decode(driver.state.encode()), driver.replay()]) {
      expect(state.hash().equals(driver.state.hash())).toBe(true);
      const context = { now: new Date(), newId: () => "fresh" };
      expect(planRemember(state, input(), context)).toMatchObject({ decision: "duplicate", memoryId: a });
      expect(planRemember(state, input({ namespace: "tenant-b", content: "b" }), context)).toMatchObject({ decision: "duplicate", memoryId: b });
      expect(planRemember(state, input({ namespace: "tenant-c" }), context).decision).toBe("admitted");
      expect(planRemember(state, input({ content: "changed" }), context).decision).toBe("reused");
    }
  });

  it("restores an unscoped key of an older checkpoint unchanged, matching only its held memory's namespace", () => {
    const driver = started();
    const held = admittedId(remember(driver, input({ requestId: "" })));
    const snapshot = driver.state.snapshot();
    // As written before keys were scoped: no namespace, no body hash.
    snapshot.requestKeys = [
      stateV1.RequestKey.fromPartial({ requestId: "old-held", memoryId: held }),
      stateV1.RequestKey.fromPartial({ requestId: "old-gone", memoryId: "promoted-long-ago" }),
    ];
    const bytes = stateV1.LearningState.encode(snapshot).finish();
    const restored = LearningState.decode(bytes);
    // Restored as written, so the checkpoint's state hash still verifies.
    expect(Buffer.from(restored.encode()).equals(Buffer.from(bytes))).toBe(true);
    const context = { now: new Date(), newId: () => "fresh" };
    expect(planRemember(restored, input({ requestId: "old-held" }), context)).toMatchObject({ decision: "duplicate", memoryId: held });
    expect(planRemember(restored, input({ requestId: "old-held", content: "changed" }), context).decision).toBe("reused");
    expect(planRemember(restored, input({ requestId: "old-held", namespace: "tenant-b" }), context).decision).toBe("admitted");
    // The memory it named is no longer held: its namespace is unknown, so it matches nowhere.
    expect(planRemember(restored, input({ requestId: "old-gone", content: "lunch is at noon on fridays" }), context).decision).toBe("admitted");
  });
});

describe("findReusedRequestIds (a batch, before anything is sequenced)", () => {
  it("finds ids reused for another body in the state or earlier in the batch, per namespace", () => {
    const driver = started();
    remember(driver, input({ requestId: "k1" }));
    const batch = [
      input({ requestId: "k1" }), // a retry: fine
      input({ requestId: "k1", content: "other" }), // reused against the state
      input({ requestId: "k2" }),
      input({ requestId: "k2" }), // the same item twice: fine
      input({ requestId: "k3", content: "x" }),
      input({ requestId: "k3", content: "y" }), // reused within the batch
      input({ requestId: "k3", content: "y", namespace: "tenant-b" }), // another namespace: fine
      input({ requestId: "" }),
      input({ requestId: "", content: "no key, no check" }),
    ];
    expect(findReusedRequestIds(driver.state, batch)).toEqual([1, 5]);
  });
});

describe("restored request keys", () => {
  it("hold their own copy of the body hash, not a view of the checkpoint body", () => {
    const driver = started();
    remember(driver, input());
    const body = driver.state.encode();
    const restored = LearningState.decode(body);
    const [key] = restored.requestKeys.entries();
    expect(key!.bodySha256.byteLength).toBe(32);
    // A view would keep (and, posted to the encoder worker, copy) the whole body.
    expect(key!.bodySha256.buffer.byteLength).toBe(32);
  });
});
