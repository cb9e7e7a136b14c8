import { describe, expect, it } from "vitest";
import { stateV1, walV1 } from "@t4dm/proto";
import { embedText, encodeEntry, LearningState, LEGACY_SCORER_FEATURES, planRecall, planReinforce, planRemember, queryTerms, SCORER_FEATURES, stepsOf, type Operation } from "../src/index.js";
import { Driver, mulberry32 } from "./support/driver.js";

const WORDS = "alpha beta gamma delta rust go python deploy kubernetes cache latency memory budget invoice tax cat dog".split(" ");
const DIM = 64;

function text(driver: Driver): string {
  return Array.from({ length: 3 + Math.floor(driver.random() * 5) }, () => WORDS[Math.floor(driver.random() * WORDS.length)]).join(" ");
}

function step(driver: Driver, recalls: { namespace: string; recallId: string }[]): void {
  const time = driver.now();
  const namespace = driver.random() < 0.7 ? "team-a" : "team-b";
  const roll = driver.random();
  if (roll < 0.5) {
    const content = text(driver);
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
    const query = text(driver);
    const mode = (["hybrid", "semantic", "keyword"] as const)[Math.floor(driver.random() * 3)]!;
    const plan = planRecall(
      driver.state,
      { namespace, query: embedText(query, DIM), queryTerms: queryTerms(query), mode, topK: 1 + Math.floor(driver.random() * 5), minScore: -1, filter: {} },
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
  // Per-namespace learning (with a bound of 1 adaptation, so two namespaces' feedback keeps
  // dropping each other's), and shared learning, which trains the gate too.
  const runs = [
    { seed: 1, learningScope: walV1.LearningScope.LEARNING_SCOPE_NAMESPACE, maxScorerAdaptations: 0 },
    { seed: 2, learningScope: walV1.LearningScope.LEARNING_SCOPE_SHARED, maxScorerAdaptations: 0 },
    { seed: 42, learningScope: walV1.LearningScope.LEARNING_SCOPE_NAMESPACE, maxScorerAdaptations: 1 },
  ];
  for (const { seed, learningScope, maxScorerAdaptations } of runs) {
    it(`seed ${seed}, scope ${walV1.learningScopeToJSON(learningScope)}, at most ${maxScorerAdaptations || "the default"} adaptations`, () => {
      const random = mulberry32(seed);
      const driver = new Driver(random, { recordHashes: true });
      driver.start({ seed: 7, embeddingDim: DIM, bufferCapacity: 6, defaultRetention: walV1.RetentionMode.RETENTION_MODE_LEARNED, learningScope, maxScorerAdaptations });
      const recalls: { namespace: string; recallId: string }[] = [];
      for (let i = 0; i < 250; i++) step(driver, recalls);
      const total = driver.log.length;
      expect(total).toBeGreaterThan(300);
      for (const encoded of driver.log) {
        covered.add(encoded.entry.operation!.$case);
        for (const step of stepsOf(encoded.entry.operation)) covered.add(step.$case);
      }
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
    for (const kind of ["remember", "bufferAdd", "bufferPromote", "bufferRemove", "bufferEvidence", "scorerWeightUpdate", "gateWeightUpdate", "traceCreate", "traceDecay", "traceUpdate", "dopamineExpectation", "serotoninMood", "norepinephrineArousal", "acetylcholineEncoding", "clusterUpdate"]) {
      expect(covered.has(kind), kind).toBe(true);
    }
  });

  it("a checkpoint with a legacy 8-input scorer replays to the same bits through the logged widening", () => {
    const driver = new Driver(mulberry32(5));
    // Shared: the code before per-namespace learning trained the one scorer, and wrote no adaptations.
    driver.start({ seed: 7, embeddingDim: DIM, bufferCapacity: 6, defaultRetention: walV1.RetentionMode.RETENTION_MODE_LEARNED, learningScope: walV1.LearningScope.LEARNING_SCOPE_SHARED });
    const recalls: { namespace: string; recallId: string }[] = [];
    for (let i = 0; i < 120; i++) step(driver, recalls);
    // The checkpoint as the code before hybrid recall wrote it: the scorer's first layer takes 8 inputs.
    const snapshot = driver.state.snapshot();
    const first = snapshot.scorer!.layers[0]!;
    const weights = Array.from({ length: first.outputs }, (_, j) => first.weights.slice(j * SCORER_FEATURES, j * SCORER_FEATURES + LEGACY_SCORER_FEATURES)).flat();
    const legacy = Buffer.from(
      stateV1.LearningState.encode({
        ...snapshot,
        scorer: { ...snapshot.scorer!, layers: [{ ...first, inputs: LEGACY_SCORER_FEATURES, weights }, snapshot.scorer!.layers[1]!] },
        // Its traces carry the eight features of their day.
        traces: snapshot.traces.map((trace) => ({ ...trace, items: trace.items.map((item) => ({ ...item, features: item.features.slice(0, LEGACY_SCORER_FEATURES) })) })),
      }).finish(),
    );
    // Restoring keeps its shape, so its bytes (and the hash a checkpoint header records) are unchanged.
    const live = LearningState.decode(legacy);
    expect(live.encode().equals(legacy)).toBe(true);
    expect(live.networks!.scorer.inputs).toBe(LEGACY_SCORER_FEATURES);
    expect(live.traces.get(recalls[0]!.recallId)?.items[0]?.features).toHaveLength(LEGACY_SCORER_FEATURES);

    let lsn = live.appliedLsn;
    const tail: Buffer[] = [];
    const commit = (operations: readonly Operation[], time: Date) => {
      for (const operation of operations) {
        const encoded = encodeEntry(operation, time);
        live.apply(++lsn, encoded.entry);
        tail.push(encoded.payload);
      }
    };
    const time = new Date(Date.UTC(2026, 6, 1));
    const query = "deploy kubernetes cache";
    const recall = planRecall(live, { namespace: "team-a", query: embedText(query, DIM), queryTerms: queryTerms(query), mode: "hybrid", topK: 5, minScore: -1, filter: {} }, { now: time, newId: () => "r-legacy" });
    expect(recall.operations[0]!.$case).toBe("scorerWeightUpdate");
    commit(recall.operations, time);
    expect(live.networks!.scorer.inputs).toBe(SCORER_FEATURES);
    // Traces recorded before the widening (eight features) and after it (twelve) both train the widened scorer.
    for (const { namespace, recallId } of [...recalls, { namespace: "team-a", recallId: "r-legacy" }]) {
      const plan = planReinforce(live, { namespace, recallId, reward: 1, memoryRewards: {} });
      if (plan.found) commit(plan.operations, time);
    }
    expect(live.networks!.scorer.updates).toBeGreaterThan(snapshot.scorer!.updates + 1);

    const replayed = LearningState.decode(legacy);
    tail.forEach((payload, i) => replayed.apply(live.appliedLsn - tail.length + i + 1, walV1.WalEntry.decode(payload)));
    expect(replayed.hash().equals(live.hash())).toBe(true);
  });

  it("refuses a record out of LSN order", () => {
    const state = new LearningState();
    const start = encodeEntry({ $case: "systemStart", value: { version: "t", recoveryMode: "cold", recoveredLsn: 0, seed: 1, embeddingDim: DIM, bufferCapacity: 4, defaultRetention: 0, learningScope: 0, maxScorerAdaptations: 0 } }, new Date(0));
    expect(() => state.apply(2, start.entry)).toThrow(/LSN 2 applied where 1 was expected/);
  });
});
