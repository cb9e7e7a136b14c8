import { stateV1, walV1 } from "@t4dm/proto";
import { describe, expect, it } from "vitest";
import {
  MAX_TRACE_ITEMS,
  MAX_TRACED_RECALLS,
  TRACE_DECAY,
  TRACE_FLOOR,
  type TraceInput,
  Traces,
} from "../src/traces.js";

type Operation = NonNullable<walV1.WalEntry["operation"]>;

function logged(operation: Operation): Operation {
  const bytes = walV1.WalEntry.encode({ time: undefined, operation }).finish();
  const decoded = walV1.WalEntry.decode(bytes).operation;
  if (decoded === undefined) throw new Error("operation lost in the round trip");
  return decoded;
}

/** The canonical bytes of the traces, as a checkpoint holds them. */
function bytesOf(traces: Traces): Uint8Array {
  return stateV1.LearningState.encode(stateV1.LearningState.fromPartial({ traces: traces.snapshot() })).finish();
}

function commit(traces: Traces, operations: readonly Operation[]): Operation[] {
  const records = operations.map(logged);
  for (const record of records) expect(traces.apply(record)).toBe(true);
  return records;
}

function items(count: number, prefix = "m"): TraceInput[] {
  return Array.from({ length: count }, (_, i) => ({ memoryId: `${prefix}${i}`, features: [i, 0.1, -i / 3] }));
}

/** A Recall as the service sequences it: decay the namespace, then trace the new results. */
function recall(traces: Traces, recallId: string, namespace: string, count = 3): Operation[] {
  return commit(traces, [
    traces.planDecay(namespace),
    traces.planCreate(recallId, namespace, `${namespace}/ctx`, items(count, `${recallId}-`)),
  ]);
}

describe("Traces", () => {
  it("plans strengths by rank, float32 features, one item per memory", () => {
    const traces = new Traces();
    const planned = traces.planCreate("r1", "ns", "ctx", [
      { memoryId: "a", features: [0.1, 1 / 3] },
      // The shadow guard's ranks travel with the item; absent ones are 0 (unknown).
      { memoryId: "b", features: [2], servedRank: 2, baseRank: 5, learnedRank: 1 },
      { memoryId: "a", features: [9] },
      { memoryId: "c", features: [] },
    ]);
    expect(planned).toEqual({
      $case: "traceCreate",
      value: {
        recallId: "r1",
        namespace: "ns",
        context: "ctx",
        items: [
          { memoryId: "a", strength: 1, features: [Math.fround(0.1), Math.fround(1 / 3)], servedRank: 0, baseRank: 0, learnedRank: 0 },
          { memoryId: "b", strength: Math.fround(0.8), features: [2], servedRank: 2, baseRank: 5, learnedRank: 1 },
          // The duplicate keeps its rank slot: c is third-ranked after it.
          { memoryId: "c", strength: Math.fround(1 / 1.75), features: [], servedRank: 0, baseRank: 0, learnedRank: 0 },
        ],
      },
    });
    expect(logged(planned)).toEqual(planned);
  });

  it("caps the items of one recall at the best ranked", () => {
    const traces = new Traces();
    const planned = traces.planCreate("r", "ns", "ctx", items(MAX_TRACE_ITEMS + 40));
    if (planned.$case !== "traceCreate") throw new Error("not a create");
    expect(planned.value.items).toHaveLength(MAX_TRACE_ITEMS);
    expect(planned.value.items.at(-1)?.memoryId).toBe(`m${MAX_TRACE_ITEMS - 1}`);
    expect(planned.value.items.at(-1)!.strength).toBeGreaterThan(TRACE_FLOOR);
    commit(traces, [planned]);
    expect(traces.get("r")?.items).toHaveLength(MAX_TRACE_ITEMS);
  });

  it("plans without changing anything", () => {
    const traces = new Traces();
    recall(traces, "r1", "a");
    recall(traces, "r2", "b");
    const before = bytesOf(traces);
    traces.planCreate("r3", "a", "ctx", items(5));
    traces.planDecay("a");
    traces.planDecay("");
    traces.planConsume("r1");
    expect(bytesOf(traces)).toEqual(before);
  });

  it("applies a create and answers queries with copies", () => {
    const traces = new Traces();
    recall(traces, "r1", "a");
    recall(traces, "r2", "b");
    recall(traces, "r3", "a");
    const trace = traces.get("r3");
    expect(trace).toEqual({
      recallId: "r3",
      namespace: "a",
      context: "a/ctx",
      items: [
        { memoryId: "r3-0", strength: 1, features: Float32Array.from([0, 0.1, -0]), servedRank: 0, baseRank: 0, learnedRank: 0 },
        { memoryId: "r3-1", strength: Math.fround(0.8), features: Float32Array.from([1, 0.1, -1 / 3]), servedRank: 0, baseRank: 0, learnedRank: 0 },
        { memoryId: "r3-2", strength: Math.fround(1 / 1.5), features: Float32Array.from([2, 0.1, -2 / 3]), servedRank: 0, baseRank: 0, learnedRank: 0 },
      ],
    });
    expect(traces.live("a").map((t) => t.recallId)).toEqual(["r3", "r1"]);
    expect(traces.live("b").map((t) => t.recallId)).toEqual(["r2"]);
    expect(traces.live("none")).toEqual([]);
    expect(traces.get("missing")).toBeUndefined();

    trace!.items[0]!.features[0] = 42;
    expect(traces.get("r3")!.items[0]!.features[0]).toBe(0);
  });

  it("decays only the recalled namespace's older traces, by λ", () => {
    const traces = new Traces();
    recall(traces, "r1", "a");
    recall(traces, "r2", "b");
    recall(traces, "r3", "a");
    const lambda = Math.fround(TRACE_DECAY);
    expect(traces.get("r1")!.items.map((i) => i.strength)).toEqual([
      Math.fround(1 * lambda),
      Math.fround(Math.fround(0.8) * lambda),
      Math.fround(Math.fround(1 / 1.5) * lambda),
    ]);
    expect(traces.get("r2")!.items[0]!.strength).toBe(1);
    expect(traces.get("r3")!.items[0]!.strength).toBe(1);

    commit(traces, [traces.planDecay("")]);
    expect(traces.get("r2")!.items[0]!.strength).toBe(lambda);
    expect(traces.get("r3")!.items[0]!.strength).toBe(lambda);
  });

  it("drops items at the floor and a recall once it has none", () => {
    const traces = new Traces();
    commit(traces, [traces.planCreate("r", "ns", "ctx", items(2))]);
    let ticks = 0;
    while (traces.get("r") !== undefined) {
      commit(traces, [traces.planDecay("ns")]);
      ticks++;
      const live = traces.get("r");
      for (const item of live?.items ?? []) expect(item.strength).toBeGreaterThan(TRACE_FLOOR);
      if (ticks === 42) expect(live?.items.map((i) => i.memoryId)).toEqual(["m0"]);
    }
    // 0.9^44 ≈ 0.0097: the top-ranked item lasts 43 recall ticks.
    expect(ticks).toBe(44);
    expect(traces.size).toBe(0);
    expect(traces.snapshot()).toEqual([]);
  });

  it("consumes a recall: every item zeroed, the recall gone", () => {
    const traces = new Traces();
    recall(traces, "r1", "ns");
    recall(traces, "r2", "ns");
    const updates = traces.planConsume("r1");
    expect(updates).toHaveLength(3);
    expect(updates[0]).toEqual({ $case: "traceUpdate", value: { recallId: "r1", memoryId: "r1-0", strength: 0 } });
    commit(traces, updates);
    expect(traces.get("r1")).toBeUndefined();
    expect(traces.get("r2")?.items).toHaveLength(3);
    expect(traces.planConsume("r1")).toEqual([]);
  });

  it("sets single items by update and ignores unknown targets", () => {
    const traces = new Traces();
    recall(traces, "r", "ns");
    commit(traces, [{ $case: "traceUpdate", value: { recallId: "r", memoryId: "r-1", strength: 0.5 } }]);
    expect(traces.get("r")!.items[1]!.strength).toBe(0.5);
    commit(traces, [{ $case: "traceUpdate", value: { recallId: "r", memoryId: "r-1", strength: TRACE_FLOOR } }]);
    expect(traces.get("r")!.items.map((i) => i.memoryId)).toEqual(["r-0", "r-2"]);
    const before = bytesOf(traces);
    commit(traces, [{ $case: "traceUpdate", value: { recallId: "r", memoryId: "nope", strength: 0.9 } }]);
    commit(traces, [{ $case: "traceUpdate", value: { recallId: "nope", memoryId: "r-0", strength: 0.9 } }]);
    expect(bytesOf(traces)).toEqual(before);
  });

  it("creates nothing for a recall with no results", () => {
    const traces = new Traces();
    commit(traces, [traces.planCreate("empty", "ns", "ctx", [])]);
    expect(traces.get("empty")).toBeUndefined();
    expect(traces.size).toBe(0);
  });

  it("keeps at most the newest recalls, evicting by creation order", () => {
    const traces = new Traces();
    for (let i = 0; i < MAX_TRACED_RECALLS; i++) {
      commit(traces, [traces.planCreate(`r${i}`, `ns${i % 5}`, "ctx", items(1))]);
    }
    // Re-creating r0 makes it the newest, so r1 is now the oldest.
    commit(traces, [traces.planCreate("r0", "ns0", "ctx", items(1))]);
    expect(traces.size).toBe(MAX_TRACED_RECALLS);
    commit(traces, [traces.planCreate("extra", "ns0", "ctx", items(1))]);
    expect(traces.size).toBe(MAX_TRACED_RECALLS);
    expect(traces.get("r1")).toBeUndefined();
    const order = traces.snapshot().map((t) => t.recallId);
    expect(order.slice(0, 2)).toEqual(["r2", "r3"]);
    expect(order.slice(-2)).toEqual(["r0", "extra"]);
  });

  it("ignores records of other components", () => {
    const traces = new Traces();
    recall(traces, "r", "ns");
    const before = bytesOf(traces);
    expect(traces.apply({ $case: "acetylcholineEncoding", value: { encoding: 1 } })).toBe(false);
    expect(traces.apply(undefined)).toBe(false);
    expect(bytesOf(traces)).toEqual(before);
  });

  it("restores a snapshot to the same bytes, and the copy evolves identically", () => {
    const live = new Traces();
    for (let i = 0; i < MAX_TRACED_RECALLS + 30; i++) recall(live, `r${i}`, `ns${i % 4}`, 1 + (i % 5));
    commit(live, live.planConsume("r500"));
    const bytes = bytesOf(live);
    const restored = Traces.restore(stateV1.LearningState.decode(bytes).traces);
    expect(bytesOf(restored)).toEqual(bytes);

    for (let i = 0; i < 40; i++) {
      const records = recall(live, `s${i}`, `ns${i % 3}`);
      for (const record of records) restored.apply(record);
    }
    expect(bytesOf(restored)).toEqual(bytesOf(live));
  });

  it("replays logged records bit for bit, from scratch or from a checkpoint", () => {
    const live = new Traces();
    const log: Operation[] = [];
    let checkpoint: Uint8Array | undefined;
    let checkpointAt = 0;
    for (let i = 0; i < 700; i++) {
      log.push(...recall(live, `r${i}`, `ns${i % 6}`, 1 + (i % 7)));
      if (i % 9 === 0) log.push(...commit(live, live.planConsume(`r${i - 3}`)));
      if (i === 350) {
        checkpoint = bytesOf(live);
        checkpointAt = log.length;
      }
    }
    const cold = new Traces();
    for (const record of log) cold.apply(logged(record));
    expect(bytesOf(cold)).toEqual(bytesOf(live));

    const warm = Traces.restore(stateV1.LearningState.decode(checkpoint!).traces);
    for (const record of log.slice(checkpointAt)) warm.apply(logged(record));
    expect(bytesOf(warm)).toEqual(bytesOf(live));
    expect(live.size).toBeGreaterThan(0);
  });
});
