/**
 * makeRoom: nothing leaves while the buffer has room, and once it is full the
 * items with the least effective evidence leave first, exactly as the plain
 * comparator sort (the definition) would pick them, ties in buffer order.
 */
import { walV1 } from "@t4dm/proto";
import { describe, expect, it } from "vitest";
import { effectiveEvidence } from "../src/buffer.js";
import { embedText, leaveBuffer, makeRoom, planRemember, type LearningState, type Operation } from "../src/index.js";
import { Driver, mulberry32 } from "./support/driver.js";

const DIM = 32;

/** The definition: sort the whole buffer by effective evidence, take from the least. */
function reference(state: LearningState, now: Date, incoming: number): Operation[] {
  const operations: Operation[] = [];
  const candidates = [...state.buffer.all()].sort((a, b) => effectiveEvidence(a, now) - effectiveEvidence(b, now));
  let size = state.buffer.size;
  for (const item of candidates) {
    if (size + incoming <= state.bufferCapacity) break;
    operations.push(leaveBuffer(item, now, walV1.RemovalReason.REMOVAL_REASON_CAPACITY, state.retention.keeps(item.memory.namespace)));
    size -= 1;
  }
  return operations;
}

/**
 * A buffer of `count` memories at `capacity`, with evidence from seeded
 * importances. With `ties`, every memory is created at the same instant with
 * the same gate opinion, so evidence only takes four values and many items tie.
 */
function filled(capacity: number, count: number, seed: number, ties = false): Driver {
  const driver = new Driver(mulberry32(seed));
  driver.start({ seed, embeddingDim: DIM, bufferCapacity: capacity });
  const instant = driver.now();
  for (let i = 0; i < count; i++) {
    const time = ties ? instant : driver.now();
    // Distinct words, so no two are near-duplicates (those would merge instead of adding).
    const content = `alpha${i} beta${i * 7} gamma${i * 13}`;
    const plan = planRemember(
      driver.state,
      {
        namespace: "ns",
        content,
        kind: walV1.MemoryKind.MEMORY_KIND_EPISODIC,
        metadata: {},
        // A coarse grid, so several memories tie.
        importance: Math.floor(driver.random() * 4) / 4,
        embedding: embedText(content, DIM),
        always: true,
        requestId: "",
      },
      driver.context(time),
    );
    if (ties && plan.decision === "admitted") plan.memory.admitProbability = 0.5;
    driver.commit(plan.operations, time);
  }
  return driver;
}

describe("makeRoom", () => {
  it("plans nothing while the buffer has room", () => {
    const driver = filled(50, 20, 1);
    expect(driver.state.buffer.size).toBe(20);
    expect(makeRoom(driver.state, driver.now(), 1)).toEqual([]);
    expect(makeRoom(driver.state, driver.now(), 30)).toEqual([]);
  });

  it("picks the same items as the full comparator sort once the buffer is full", () => {
    // Small picks go through a shortlist, large ones (over 64) through a full sort: both are checked.
    const cases = [[2, 40, false], [3, 40, false], [4, 40, true], [5, 100, true]] as const;
    for (const [seed, capacity, ties] of cases) {
      const driver = filled(capacity, capacity * 3, seed, ties);
      expect(driver.state.buffer.size).toBe(capacity);
      const now = driver.now();
      for (const incoming of [1, 2, 7, 40, 65, capacity + 5]) {
        const planned = makeRoom(driver.state, now, incoming);
        expect(planned).toHaveLength(Math.min(incoming, capacity));
        expect(planned).toEqual(reference(driver.state, now, incoming));
      }
    }
  });
});
