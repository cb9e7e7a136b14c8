import { describe, expect, it } from "vitest";
import { walV1 } from "@t4dm/proto";
import {
  embedText,
  encodeEntry,
  LearningState,
  planRecall,
  planReinforce,
  planRemember,
  type EncodedEntry,
  type Operation,
} from "../src/index.js";

/** Seeded PRNG for reproducible operation sequences. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = "alpha beta gamma delta rust go python deploy kubernetes cache latency memory budget invoice tax cat dog".split(" ");
const DIM = 64;

/** Drives a state the way the memory service does: plan, encode, decode, apply in LSN order. */
class Driver {
  readonly state = new LearningState();
  readonly log: EncodedEntry[] = [];
  readonly hashes: Buffer[] = [];
  private ids = 0;
  private clock = Date.UTC(2026, 0, 1);

  constructor(readonly random: () => number) {}

  now(): Date {
    this.clock += Math.floor(this.random() * 60_000);
    return new Date(this.clock);
  }

  commit(operations: Operation[], time: Date): void {
    for (const operation of operations) {
      const encoded = encodeEntry(operation, time);
      this.log.push(encoded);
      this.state.apply(this.log.length, encoded.entry);
      this.hashes.push(this.state.hash());
    }
  }

  context(time: Date) {
    return { now: time, newId: () => `id-${++this.ids}` };
  }

  text(): string {
    return Array.from({ length: 3 + Math.floor(this.random() * 5) }, () => WORDS[Math.floor(this.random() * WORDS.length)]).join(" ");
  }
}

function step(driver: Driver, recalls: { namespace: string; recallId: string }[]): void {
  const time = driver.now();
  const namespace = driver.random() < 0.7 ? "team-a" : "team-b";
  const roll = driver.random();
  if (roll < 0.5) {
    const content = driver.text();
    const plan = planRemember(
      driver.state,
      {
        namespace,
        content,
        kind: driver.random() < 0.8 ? walV1.MemoryKind.MEMORY_KIND_EPISODIC : walV1.MemoryKind.MEMORY_KIND_SEMANTIC,
        metadata: { source: "test", score: Math.floor(driver.random() * 10) },
        importance: driver.random(),
        embedding: embedText(content, DIM),
        always: driver.random() < 0.3,
        requestId: driver.random() < 0.2 ? `req-${Math.floor(driver.random() * 20)}` : "",
      },
      driver.context(time),
    );
    driver.commit(plan.operations, time);
  } else if (roll < 0.8) {
    const plan = planRecall(
      driver.state,
      { namespace, query: embedText(driver.text(), DIM), topK: 1 + Math.floor(driver.random() * 5), minScore: -1, filter: {} },
      driver.context(time),
    );
    driver.commit(plan.operations, time);
    recalls.push({ namespace, recallId: plan.recallId });
  } else if (recalls.length > 0) {
    const { namespace: ns, recallId } = recalls.splice(Math.floor(driver.random() * recalls.length), 1)[0]!;
    const plan = planReinforce(driver.state, { namespace: ns, recallId, reward: driver.random() * 2 - 1, memoryRewards: {} });
    if (plan.found) driver.commit(plan.operations, time);
  }
}

describe("invariant I1: checkpoint at any LSN + replay equals the live state, bit for bit", () => {
  const covered = new Set<string>();
  for (const seed of [1, 2, 42]) {
    it(`seed ${seed}`, () => {
      const random = mulberry32(seed);
      const driver = new Driver(random);
      driver.commit([{ $case: "systemStart", value: { version: "t", recoveryMode: "cold", recoveredLsn: 0, seed: 7, embeddingDim: DIM, bufferCapacity: 6 } }], driver.now());
      const recalls: { namespace: string; recallId: string }[] = [];
      for (let i = 0; i < 250; i++) step(driver, recalls);
      const total = driver.log.length;
      expect(total).toBeGreaterThan(300);
      for (const encoded of driver.log) covered.add(encoded.entry.operation!.$case);
      expect(driver.state.buffer.size).toBeLessThanOrEqual(6);

      // A cold replay from LSN 1 reaches the same hash at every LSN.
      const cold = new LearningState();
      driver.log.forEach((encoded, i) => {
        cold.apply(i + 1, walV1.WalEntry.decode(encoded.payload));
        expect(cold.hash().equals(driver.hashes[i]!), `cold replay at LSN ${i + 1}`).toBe(true);
      });

      // Checkpoints at random LSNs, restored from their bytes, then the tail.
      for (let k = 0; k < 4; k++) {
        const at = 1 + Math.floor(random() * (total - 1));
        const replay = new LearningState();
        for (let lsn = 1; lsn <= at; lsn++) replay.apply(lsn, walV1.WalEntry.decode(driver.log[lsn - 1]!.payload));
        const restored = LearningState.decode(replay.encode());
        expect(restored.hash().equals(driver.hashes[at - 1]!)).toBe(true);
        for (let lsn = at + 1; lsn <= total; lsn++) {
          restored.apply(lsn, walV1.WalEntry.decode(driver.log[lsn - 1]!.payload));
          if (lsn % 7 === 0 || lsn === total) expect(restored.hash().equals(driver.hashes[lsn - 1]!), `checkpoint ${at}, LSN ${lsn}`).toBe(true);
        }
      }
    });
  }

  it("the runs exercised promotion, eviction, learning, traces and clusters", () => {
    for (const kind of ["bufferAdd", "bufferPromote", "bufferRemove", "bufferEvidence", "scorerWeightUpdate", "gateWeightUpdate", "traceCreate", "traceDecay", "traceUpdate", "dopamineExpectation", "serotoninMood", "norepinephrineArousal", "acetylcholineEncoding", "clusterUpdate"]) {
      expect(covered.has(kind), kind).toBe(true);
    }
  });

  it("refuses a record out of LSN order", () => {
    const state = new LearningState();
    const start = encodeEntry({ $case: "systemStart", value: { version: "t", recoveryMode: "cold", recoveredLsn: 0, seed: 1, embeddingDim: DIM, bufferCapacity: 4 } }, new Date(0));
    expect(() => state.apply(2, start.entry)).toThrow(/LSN 2 applied where 1 was expected/);
  });
});
