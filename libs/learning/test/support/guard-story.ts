/**
 * A namespace of the synthetic feedback task (libs/testkit feedback-task.ts:
 * useful facts per topic, chit-chat distractors that repeat the query words)
 * driven through the real pipeline, for the shadow guard's tests: floods of
 * feedback on training phrasings, ranking quality measured on held-out ones.
 */
import { walV1 } from "@t4dm/proto";
import { feedbackTask } from "@t4dm/testkit";
import { embedText, planRecall, planReinforce, planRemember, queryTerms, rankRecall, type LearningState, type Recalled } from "../../src/index.js";
import { FUSED_FEATURE } from "../../src/scorer.js";
import { Driver, mulberry32 } from "./driver.js";

const { DISTRACTOR_TEMPLATES, fill, HELD_OUT_QUERY_TEMPLATES, STORED_FACTS, TOPICS, TRAINING_QUERY_TEMPLATES } = feedbackTask;

export const DIM = 64;
export const NAMESPACE = "guarded";
const TOP_K = 10;
const T0 = Date.UTC(2026, 5, 1);

/** Picks each returned memory's reward from its rank, the result count, and whether it is useful to the query. */
export type Rewarder = (rank: number, count: number, useful: boolean) => number;

/** The harmful flood: full inversion of what was shown (the best gets −1, the worst +1). */
export const invertShown: Rewarder = (rank, count) => (count < 2 ? 0 : (2 * rank) / (count - 1) - 1);
/** Honest feedback: +1 for a useful memory, −1 for the rest. */
export const honest: Rewarder = (_rank, _count, useful) => (useful ? 1 : -1);

export class GuardStory {
  readonly driver: Driver;
  private readonly random: () => number;
  private readonly topicOf = new Map<string, number>();
  private clock = T0;
  private ids = 0;
  readonly heldOut: { topic: number; text: string }[] = [];

  /** `distractors` per topic (at most 8): with none, the fused base already ranks well and feedback can only keep or spoil it. */
  constructor(seed: number, distractors: number) {
    this.random = mulberry32(seed);
    this.driver = new Driver(this.random, { startTime: T0 });
    this.driver.start({ seed, embeddingDim: DIM, bufferCapacity: 200 }, new Date(T0));
    TOPICS.forEach((topic, t) => {
      for (const fact of topic.facts.slice(0, STORED_FACTS)) this.remember(fact, t);
      for (const template of DISTRACTOR_TEMPLATES.slice(0, distractors)) this.remember(fill(template, topic.terms, this.random), undefined);
      for (const template of HELD_OUT_QUERY_TEMPLATES) this.heldOut.push({ topic: t, text: fill(template, topic.terms, this.random) });
    });
  }

  /** `episodes` Recall + Reinforce pairs on training phrasings, topics in turn. */
  feedback(episodes: number, rewarder: Rewarder): void {
    for (let i = 0; i < episodes; i++) {
      const topic = i % TOPICS.length;
      const text = fill(TRAINING_QUERY_TEMPLATES[i % TRAINING_QUERY_TEMPLATES.length]!, TOPICS[topic]!.terms, this.random);
      const now = this.tick();
      const recall = planRecall(this.driver.state, this.query(text, TOP_K), { now, newId: () => `r${++this.ids}` });
      this.driver.commit(recall.operations, now);
      const count = recall.results.length;
      const memoryRewards = Object.fromEntries(recall.results.map((r, rank) => [r.item.memory.id, rewarder(rank, count, this.topicOf.get(r.item.memory.id) === topic)]));
      const plan = planReinforce(this.driver.state, { namespace: NAMESPACE, recallId: recall.recallId, reward: 0, memoryRewards });
      if (!plan.found) throw new Error("the recall just logged has no trace");
      this.driver.commit(plan.operations, now);
    }
  }

  /**
   * Mean reciprocal rank (in the top 10) of the first useful memory over the
   * held-out phrasings, by three rankings of `state`: the one served, the
   * unlearned (fused base) one, and the full learned one (trust 1: what
   * serving would be without the guard).
   */
  heldOutMrr(state: LearningState = this.driver.state): { served: number; base: number; learned: number } {
    const scorer = state.scorerFor(NAMESPACE);
    const sums = { served: 0, base: 0, learned: 0 };
    const now = new Date(this.clock);
    for (const { topic, text } of this.heldOut) {
      // Every memory, so the rankings order the same set.
      const results = rankRecall(state, this.query(text, 1000), now);
      sums.served += this.reciprocalRank(results, topic, (r) => r.score);
      sums.base += this.reciprocalRank(results, topic, (r) => r.features[FUSED_FEATURE]!);
      sums.learned += this.reciprocalRank(results, topic, (r) => r.features[FUSED_FEATURE]! + scorer.correction(r.features));
    }
    const n = this.heldOut.length;
    return { served: sums.served / n, base: sums.base / n, learned: sums.learned / n };
  }

  get trust(): number {
    return this.driver.state.scorerFor(NAMESPACE).trust;
  }

  private reciprocalRank(results: readonly Recalled[], topic: number, score: (r: Recalled) => number): number {
    const order = [...results].sort((a, b) => score(b) - score(a) || b.similarity - a.similarity || (a.item.memory.id < b.item.memory.id ? -1 : 1));
    const first = order.findIndex((r) => this.topicOf.get(r.item.memory.id) === topic);
    return first < 0 || first >= TOP_K ? 0 : 1 / (first + 1);
  }

  private query(text: string, topK: number) {
    return { namespace: NAMESPACE, query: embedText(text, DIM), queryTerms: queryTerms(text), mode: "hybrid" as const, topK, minScore: -Infinity, filter: {} };
  }

  private remember(content: string, topic: number | undefined): void {
    const now = this.tick();
    const plan = planRemember(
      this.driver.state,
      { namespace: NAMESPACE, content, kind: walV1.MemoryKind.MEMORY_KIND_EPISODIC, metadata: {}, importance: 0.5, embedding: embedText(content, DIM), always: true, requestId: "" },
      { now, newId: () => `m${++this.ids}` },
    );
    if (plan.decision !== "admitted") throw new Error(`"${content}" was not admitted: ${plan.decision}`);
    if (topic !== undefined) this.topicOf.set(plan.memory.id, topic);
    this.driver.commit(plan.operations, now);
  }

  private tick(): Date {
    this.clock += 1000;
    return new Date(this.clock);
  }
}
