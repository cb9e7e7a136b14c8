/**
 * Issue #16 item 3: one tenant's feedback must never move another tenant's
 * ranking. Each test runs the same story twice from the same start, once
 * with a flood of adversarial Reinforce in tenant A and once without, and
 * compares tenant B's rankings bit for bit (every score, signal and feature
 * as float64 bits). Under SHARED scope, the operator's explicit choice, the
 * flood does move B: the comparison there proves the test can see it.
 */
import { describe, expect, it } from "vitest";
import { walV1 } from "@t4dm/proto";
import {
  embedText,
  LearningState,
  modulationOf,
  planRecall,
  planReinforce,
  planRemember,
  queryTerms,
  rankRecall,
  type Recalled,
  type RecallMode,
} from "../src/index.js";
import { Driver, mulberry32 } from "./support/driver.js";

const DIM = 64;
const A = "tenant-a";
const B = "tenant-b";
const MODES: readonly RecallMode[] = ["semantic", "hybrid", "keyword"];
const FACTS = [
  "the deploy script lives in tools/deploy.sh",
  "deploy to kubernetes with helm upgrade",
  "the cache latency budget is 5 ms",
  "invoices are due at the end of the month",
  "rust builds use cargo and the release profile",
  "python services deploy through the same pipeline",
  "the tax office needs the invoice by march",
  "memory budget for the cache is 2 GiB",
];
const QUERIES = ["how do we deploy", "cache latency budget", "when is the invoice due", "rust release build"];
const T0 = Date.UTC(2026, 3, 1);

/** A fingerprint of a ranking: ids in order and every number's float64 bits. */
function fingerprint(results: readonly Recalled[]): string[] {
  const bits = (values: number[]) => Buffer.from(Float64Array.from(values).buffer).toString("hex");
  return results.map((r) => {
    const s = r.signals;
    const signals = [s.cosine, s.bm25, s.vectorRank ?? -1, s.lexicalRank ?? -1, s.fused, s.recency, s.importance, s.feedback, s.correction];
    return `${r.item.memory.id} ${bits([r.score, r.similarity, ...signals, ...r.features])}`;
  });
}

/** Every mode's ranking of every query in `namespace`; plans nothing, changes nothing. */
function rankings(state: LearningState, namespace: string, at: Date): string[][] {
  return MODES.flatMap((mode) =>
    QUERIES.map((query) =>
      fingerprint(
        rankRecall(state, { namespace, query: embedText(query, DIM), queryTerms: queryTerms(query), mode, topK: FACTS.length, minScore: -Infinity, filter: {} }, at),
      ),
    ),
  );
}

interface Story {
  driver: Driver;
  /** Ids per tenant, so both runs of a story name B's memories and recalls alike. */
  ids: Map<string, number>;
}

function begin(learningScope: walV1.LearningScope, maxScorerAdaptations = 0): Story {
  const driver = new Driver(mulberry32(7), { startTime: T0 });
  driver.start({ seed: 3, embeddingDim: DIM, bufferCapacity: 100, learningScope, maxScorerAdaptations }, new Date(T0));
  const story = { driver, ids: new Map<string, number>() };
  // The same memories in both tenants.
  for (const namespace of [A, B]) FACTS.forEach((fact, i) => remember(story, namespace, fact, new Date(T0 + i * 1000)));
  return story;
}

function context(story: Story, namespace: string, now: Date) {
  return { now, newId: () => `${namespace}-${story.ids.set(namespace, (story.ids.get(namespace) ?? 0) + 1).get(namespace)}` };
}

function remember(story: Story, namespace: string, content: string, now: Date): void {
  const plan = planRemember(
    story.driver.state,
    { namespace, content, kind: walV1.MemoryKind.MEMORY_KIND_EPISODIC, metadata: {}, importance: 0.5, embedding: embedText(content, DIM), always: false, requestId: "" },
    context(story, namespace, now),
  );
  story.driver.commit(plan.operations, now);
}

/** One Recall and one Reinforce in `namespace`; `rewards` picks each returned memory's reward. */
function feedback(story: Story, namespace: string, query: string, now: Date, rewards: (rank: number) => number): void {
  const state = story.driver.state;
  const recall = planRecall(state, { namespace, query: embedText(query, DIM), queryTerms: queryTerms(query), mode: "hybrid", topK: 5, minScore: -Infinity, filter: {} }, context(story, namespace, now));
  story.driver.commit(recall.operations, now);
  const memoryRewards = Object.fromEntries(recall.results.map((r, rank) => [r.item.memory.id, rewards(rank)]));
  const plan = planReinforce(state, { namespace, recallId: recall.recallId, reward: rewards(0), memoryRewards });
  if (!plan.found) throw new Error("the recall just logged has no trace");
  story.driver.commit(plan.operations, now);
}

/** Hundreds of extreme, contradictory rewards in A, with Remembers and Recalls between them. */
function flood(story: Story, from: number): void {
  for (let i = 0; i < 300; i++) {
    const now = new Date(from + i * 1000);
    // Punish the best hits and reward the worst, then the opposite: as much surprise as rewards allow.
    feedback(story, A, QUERIES[i % QUERIES.length]!, now, (rank) => ((rank + i) % 2 === 0 ? -1 : 1));
    if (i % 50 === 0) remember(story, A, `${FACTS[i % FACTS.length]} (note ${i})`, now);
  }
}

/** A's and B's rankings before and after `middle` ran, and B's after its own steps that follow. */
function run(scope: walV1.LearningScope, middle: (story: Story) => void) {
  const story = begin(scope);
  const before = { a: rankings(story.driver.state, A, new Date(T0 + 100_000)), b: rankings(story.driver.state, B, new Date(T0 + 100_000)) };
  middle(story);
  const at = new Date(T0 + 1_000_000);
  const state = story.driver.state;
  const after = { a: rankings(state, A, at), b: rankings(state, B, at), widening: modulationOf(state).recallWidening };
  // B goes on: a new memory (weighed by the gate) and its own feedback (scaled by the learning rate).
  remember(story, B, "the on-call rota is in the wiki", at);
  feedback(story, B, "how do we deploy", at, (rank) => (rank === 2 ? 1 : -0.5));
  return { story, before, after, later: rankings(state, B, new Date(T0 + 2_000_000)) };
}

describe("learning stays inside its namespace", () => {
  const withFlood = (story: Story) => flood(story, T0 + 200_000);
  const quiet = () => {};

  it("a flood of adversarial Reinforce in A leaves B's ranking bit-identical in every mode, and moves A's", () => {
    const flooded = run(walV1.LearningScope.LEARNING_SCOPE_NAMESPACE, withFlood);
    const calm = run(walV1.LearningScope.LEARNING_SCOPE_NAMESPACE, quiet);

    expect(flooded.before).toEqual(calm.before);
    expect(flooded.after.b).toEqual(calm.after.b);
    expect(flooded.after.a).not.toEqual(calm.after.a);
    // What B does next (a Remember the gate weighs, its own Reinforce) ends where it ends without the flood.
    expect(flooded.after.widening).toBe(calm.after.widening);
    expect(flooded.later).toEqual(calm.later);
    expect(flooded.later).not.toEqual(flooded.after.b); // B's own feedback did move B
    expect(flooded.story.driver.state.networks!.gate.updates).toBe(0);
  });

  it("only a namespace that gave feedback holds learned state: 0, then 1 after A's feedback", () => {
    const story = begin(walV1.LearningScope.LEARNING_SCOPE_NAMESPACE);
    rankings(story.driver.state, B, new Date(T0 + 100_000));
    expect(story.driver.state.adaptedNamespaces).toBe(0);
    feedback(story, A, "how do we deploy", new Date(T0 + 100_000), () => 1);
    expect(story.driver.state.adaptedNamespaces).toBe(1);
    expect(story.driver.state.networks!.adaptations.get(A)).toBeDefined();
  });

  it("under the SHARED scope (the operator's choice) A's feedback does move B's ranking", () => {
    const flooded = run(walV1.LearningScope.LEARNING_SCOPE_SHARED, withFlood);
    const calm = run(walV1.LearningScope.LEARNING_SCOPE_SHARED, quiet);
    expect(flooded.after.b).not.toEqual(calm.after.b);
    expect(flooded.story.driver.state.adaptedNamespaces).toBe(0);
    expect(flooded.story.driver.state.networks!.gate.updates).toBeGreaterThan(0);
  });

  it("checkpoint and replay keep each namespace's adaptation: same bytes, same rankings", () => {
    const { story } = run(walV1.LearningScope.LEARNING_SCOPE_NAMESPACE, withFlood);
    const at = new Date(T0 + 3_000_000);
    const restored = LearningState.decode(story.driver.state.encode());
    const replayed = story.driver.replay();
    expect(restored.hash()).toEqual(story.driver.state.hash());
    expect(replayed.hash()).toEqual(story.driver.state.hash());
    for (const namespace of [A, B]) {
      expect(rankings(restored, namespace, at)).toEqual(rankings(story.driver.state, namespace, at));
      expect(rankings(replayed, namespace, at)).toEqual(rankings(story.driver.state, namespace, at));
    }
  });

  it("holds at most the bound: the least recently updated adaptation goes back to the prior, and a lower bound at start trims", () => {
    const story = begin(walV1.LearningScope.LEARNING_SCOPE_NAMESPACE, 2);
    const state = story.driver.state;
    const at = new Date(T0 + 100_000);
    const c = "tenant-c";
    for (const [i, fact] of FACTS.slice(0, 4).entries()) remember(story, c, fact, new Date(T0 + 50_000 + i));
    feedback(story, A, "how do we deploy", at, () => 1);
    feedback(story, B, "how do we deploy", at, () => 1);
    expect(state.scorerFor(A)).not.toBe(state.networks!.scorer);
    feedback(story, c, "how do we deploy", at, () => 1);
    expect(state.adaptedNamespaces).toBe(2);
    expect(state.networks!.adaptations.get(A)).toBeUndefined();
    expect(state.scorerFor(A)).toBe(state.networks!.scorer); // A ranks with the prior again

    story.driver.commit([{ $case: "systemStart", value: { version: "t", recoveryMode: "warm", recoveredLsn: 0, seed: 3, embeddingDim: DIM, bufferCapacity: 100, defaultRetention: 0, learningScope: 0, maxScorerAdaptations: 1 } }], at);
    expect(state.adaptedNamespaces).toBe(1);
    expect(state.networks!.adaptations.get(c)).toBeDefined();
    expect(story.driver.replay().hash()).toEqual(state.hash());
  });

  it("A's rewards do not decide whether B's memory leaves a full buffer (which changes B's features)", () => {
    const story = (withFeedback: boolean) => {
      // begin() fills the buffer exactly: A's memories, then B's, at the same instants.
      const driver = new Driver(mulberry32(7), { startTime: T0 });
      driver.start({ seed: 3, embeddingDim: DIM, bufferCapacity: 2 * FACTS.length, learningScope: walV1.LearningScope.LEARNING_SCOPE_NAMESPACE }, new Date(T0));
      const told: Story = { driver, ids: new Map() };
      for (const namespace of [A, B]) FACTS.forEach((fact, i) => remember(told, namespace, fact, new Date(T0 + i * 1000)));
      // Rewards raise A's evidence above B's.
      if (withFeedback) for (let i = 0; i < 20; i++) feedback(told, A, QUERIES[i % QUERIES.length]!, new Date(T0 + 50_000 + i), () => 1);
      // A third tenant's Remember makes room.
      remember(told, "tenant-c", "the on-call rota is in the wiki", new Date(T0 + 60_000));
      return rankings(driver.state, B, new Date(T0 + 70_000));
    };
    // (Evidence across namespaces, the rule under SHARED, would send one of B's memories instead of A's.)
    expect(story(true)).toEqual(story(false));
  });

  it("a recall id of another namespace finds nothing and plans nothing", () => {
    const story = begin(walV1.LearningScope.LEARNING_SCOPE_NAMESPACE);
    const state = story.driver.state;
    const now = new Date(T0 + 100_000);
    const recall = planRecall(state, { namespace: A, query: embedText("deploy", DIM), topK: 3, minScore: -Infinity, filter: {} }, context(story, A, now));
    story.driver.commit(recall.operations, now);
    const hash = state.hash();
    expect(planReinforce(state, { namespace: B, recallId: recall.recallId, reward: 1, memoryRewards: {} })).toEqual({ found: false });
    expect(state.hash()).toEqual(hash);
  });
});
