/**
 * The learning test: a synthetic task where some memories are useful to some
 * queries and others only look like them. After a few hundred Reinforce calls
 * the scorer must rank the useful ones clearly above plain cosine ranking, and
 * the gate must admit useful kinds more readily than noise.
 *
 * Everything goes through the real pipeline (plan → WAL bytes → apply), seeded
 * and deterministic; the numbers are printed so they can be quoted.
 */
import { walV1 } from "@t4dm/proto";
import { beforeAll, describe, expect, it } from "vitest";
import { GATE_WARMUP_UPDATES } from "../src/gate.js";
import { cosine, embedText, planRecall, planReinforce, planRemember, type LearningState } from "../src/index.js";
import { feedbackTask } from "@t4dm/testkit";
import { Driver, mulberry32 } from "./support/driver.js";

const {
  ARRIVAL_INTERVAL,
  ARRIVING_DISTRACTOR_TEMPLATES,
  ARRIVING_FACTS,
  DISTRACTOR_TEMPLATES,
  fill,
  HELD_OUT_QUERY_TEMPLATES,
  NOISE_PROBE_TEMPLATES,
  shuffled,
  STORED_FACTS,
  TOPICS,
  TRAINING_QUERY_TEMPLATES,
} = feedbackTask;

const DIM = 384; // the service's default T4DM_EMBEDDING_DIM
const NAMESPACE = "agent";
const EPISODES = 300; // Recall + Reinforce pairs in training
const TRAIN_TOP_K = 10;
const EVAL_K = 5;
/**
 * Required lead of the learned ranking over cosine, in precision@5 (absolute):
 * one more useful memory in every top 5 on average, 15 of the 75 top-5 slots
 * of the held-out queries. Cosine is built to sit near 0 here (every topic has
 * more distractors than slots), so a reshuffle that is not learning would not
 * get there, and anything less would be learning that barely shows.
 */
const SCORER_MARGIN = 0.2;
/**
 * Required lead of the gate's admit probability for useful kinds over noise,
 * after training: 20 points, the width of the band the admission threshold
 * moves in with acetylcholine (0.35 … 0.65), so the order holds in any mode.
 */
const GATE_MARGIN = 0.2;

function precision(ids: readonly string[], useful: ReadonlySet<string>): number {
  return ids.filter((id) => useful.has(id)).length / ids.length;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, x) => sum + x, 0) / values.length;
}

interface Query {
  topic: number;
  text: string;
  embedding: Float32Array;
}

interface Evaluation {
  /** Mean precision@5 of planRecall's ranking (the scorer). */
  learned: number;
  /** Mean precision@5 of plain cosine ranking of the same candidates. */
  cosine: number;
  /** Every query's scorer ranking equals its cosine ranking, and every score is the float32 cosine. */
  identicalToCosine: boolean;
  /**
   * A reference point, not asserted: precision@5 of a ranker told which
   * memories are answers, ordering only those by cosine. The scorer's only
   * query-dependent inputs are cosine and cluster match, so this is roughly
   * the best it can hope for here.
   */
  answersByCosine: number;
}

interface GateProbe {
  /** Mean admit probability of new useful-kind memories. */
  useful: number;
  /** Mean admit probability of new noise-kind memories. */
  noise: number;
  usefulAdmitted: number;
  noiseAdmitted: number;
  probes: number;
}

interface Arrival {
  topic: number;
  content: string;
  useful: boolean;
}

class Scenario {
  readonly random = mulberry32(20260101);
  readonly driver = new Driver(this.random);

  constructor(readonly learningScope: walV1.LearningScope) {}
  /** Per topic, the ids of the memories that answer its queries. */
  readonly useful: Set<string>[] = TOPICS.map(() => new Set());
  /** Every useful memory, whatever its topic. */
  readonly anyUseful = new Set<string>();
  readonly heldOut: Query[] = [];
  /** Memories still to arrive during training, in arrival order. */
  private arrivals: Arrival[] = [];
  reinforceCalls = 0;

  get state(): LearningState {
    return this.driver.state;
  }

  setUp(): void {
    this.driver.start({ seed: 11, embeddingDim: DIM, bufferCapacity: 200, defaultRetention: walV1.RetentionMode.RETENTION_MODE_LEARNED, learningScope: this.learningScope });
    const initial: Arrival[] = [];
    const later: Arrival[] = [];
    TOPICS.forEach((topic, t) => {
      for (const content of topic.facts.slice(0, STORED_FACTS)) initial.push({ topic: t, content, useful: true });
      for (const template of DISTRACTOR_TEMPLATES) initial.push({ topic: t, content: fill(template, topic.terms, this.random), useful: false });
      for (const content of topic.facts.slice(STORED_FACTS, ARRIVING_FACTS)) later.push({ topic: t, content, useful: true });
      for (const template of ARRIVING_DISTRACTOR_TEMPLATES) later.push({ topic: t, content: fill(template, topic.terms, this.random), useful: false });
    });
    // Shuffled, so the order of arrival (novelty, modulator levels) does not tell the kinds apart.
    for (const arrival of shuffled(initial, this.random)) this.admit(arrival);
    this.arrivals = shuffled(later, this.random);
    TOPICS.forEach((topic, t) => {
      for (const template of HELD_OUT_QUERY_TEMPLATES) this.heldOut.push(this.query(t, fill(template, topic.terms, this.random)));
    });
  }

  get arrivalsLeft(): number {
    return this.arrivals.length;
  }

  /** One episode: perhaps a new memory arrives; then a recall with a training phrasing, and a reward for what helped. */
  episode(episode: number): number {
    if (episode > 0 && episode % ARRIVAL_INTERVAL === 0 && this.arrivals.length > 0) this.admit(this.arrivals.shift()!);
    const t = episode % TOPICS.length;
    const template = TRAINING_QUERY_TEMPLATES[Math.floor(this.random() * TRAINING_QUERY_TEMPLATES.length)]!;
    const query = this.query(t, fill(template, TOPICS[t]!.terms, this.random));
    const time = this.driver.now();
    const recall = planRecall(
      this.state,
      { namespace: NAMESPACE, query: query.embedding, topK: TRAIN_TOP_K, minScore: -Infinity, filter: {} },
      this.driver.context(time),
    );
    this.driver.commit(recall.operations, time);
    const ids = recall.results.map((r) => r.item.memory.id);
    const useful = this.useful[t]!;
    const hit = precision(ids, useful);
    // +1: it answers this query. −1: chit-chat, useless to any query. 0: an answer to another topic's question, no opinion.
    const memoryReward = (id: string): number => (useful.has(id) ? 1 : this.anyUseful.has(id) ? 0 : -1);
    const plan = planReinforce(this.state, {
      namespace: NAMESPACE,
      recallId: recall.recallId,
      reward: 2 * hit - 1,
      memoryRewards: Object.fromEntries(ids.map((id) => [id, memoryReward(id)])),
    });
    if (!plan.found) throw new Error("the recall's trace is missing");
    this.driver.commit(plan.operations, time);
    this.reinforceCalls++;
    return hit;
  }

  /** Precision@5 on the held-out phrasings, over every memory in the namespace; plans only, changes nothing. */
  evaluate(): Evaluation {
    const time = this.driver.now();
    const learned: number[] = [];
    const plain: number[] = [];
    const ceiling: number[] = [];
    let identicalToCosine = true;
    for (const query of this.heldOut) {
      const plan = planRecall(
        this.state,
        { namespace: NAMESPACE, query: query.embedding, topK: 1_000, minScore: -Infinity, filter: {} },
        this.driver.context(time),
      );
      // Plain cosine ranking, ties broken by id as planRecall breaks them.
      const byCosine = [...this.state.buffer.all()]
        .map((item) => ({ id: item.memory.id, similarity: Math.fround(cosine(query.embedding, item.embedding)) }))
        .sort((a, b) => b.similarity - a.similarity || (a.id < b.id ? -1 : 1));
      const ranked = plan.results.map((r) => r.item.memory.id);
      if (ranked.length !== byCosine.length || ranked.some((id, i) => id !== byCosine[i]!.id)) identicalToCosine = false;
      if (plan.results.some((r) => r.score !== Math.fround(r.similarity))) identicalToCosine = false;
      learned.push(precision(ranked.slice(0, EVAL_K), this.useful[query.topic]!));
      plain.push(precision(byCosine.slice(0, EVAL_K).map((x) => x.id), this.useful[query.topic]!));
      const answers = byCosine.filter((x) => this.anyUseful.has(x.id));
      ceiling.push(precision(answers.slice(0, EVAL_K).map((x) => x.id), this.useful[query.topic]!));
    }
    return { learned: mean(learned), cosine: mean(plain), identicalToCosine, answersByCosine: mean(ceiling) };
  }

  /** What the gate says to new memories of either kind (without ALWAYS); the probes are never applied. */
  probeGate(): GateProbe {
    const time = this.driver.now();
    const probeRandom = mulberry32(7); // the same probes every time
    const useful: number[] = [];
    const noise: number[] = [];
    let usefulAdmitted = 0;
    let noiseAdmitted = 0;
    for (const topic of TOPICS) {
      const probes = [
        ...topic.facts.slice(ARRIVING_FACTS).map((content) => ({ content, useful: true })),
        ...NOISE_PROBE_TEMPLATES.map((template) => ({ content: fill(template, topic.terms, probeRandom), useful: false })),
      ];
      for (const probe of probes) {
        const plan = planRemember(this.state, this.memory(probe.content, probe.useful, false), this.driver.context(time));
        if (plan.decision === "duplicate" || plan.decision === "reused") throw new Error(`a probe was answered as ${plan.decision}`);
        (probe.useful ? useful : noise).push(plan.admitProbability);
        if (plan.decision === "admitted") {
          if (probe.useful) usefulAdmitted++;
          else noiseAdmitted++;
        }
      }
    }
    return { useful: mean(useful), noise: mean(noise), usefulAdmitted, noiseAdmitted, probes: useful.length };
  }

  private admit({ topic, content, useful }: Arrival): void {
    const time = this.driver.now(1_000);
    const plan = planRemember(this.state, this.memory(content, useful, true), this.driver.context(time));
    if (plan.decision !== "admitted") throw new Error("an ALWAYS memory was not admitted");
    this.driver.commit(plan.operations, time);
    if (useful) {
      this.useful[topic]!.add(plan.memory.id);
      this.anyUseful.add(plan.memory.id);
    }
  }

  /** Useful kinds are semantic notes (long, concrete); noise is episodic chatter. Same importance for both. */
  private memory(content: string, useful: boolean, always: boolean) {
    return {
      namespace: NAMESPACE,
      content,
      kind: useful ? walV1.MemoryKind.MEMORY_KIND_SEMANTIC : walV1.MemoryKind.MEMORY_KIND_EPISODIC,
      metadata: {},
      importance: 0.5,
      embedding: embedText(content, DIM),
      always,
      requestId: "",
    };
  }

  private query(topic: number, text: string): Query {
    return { topic, text, embedding: embedText(text, DIM) };
  }
}

// The scorer learns in both scopes (per namespace by default, one shared scorer by the operator's
// choice); the gate, one network for every namespace, learns only when learning is shared.
describe.each([
  { scope: walV1.LearningScope.LEARNING_SCOPE_NAMESPACE, name: "per namespace", gateLearns: false },
  { scope: walV1.LearningScope.LEARNING_SCOPE_SHARED, name: "shared", gateLearns: true },
])("learning from Reinforce on a synthetic task, learning $name", ({ scope, gateLearns }) => {
  const scenario = new Scenario(scope);
  let initialMemories = 0;
  let before: Evaluation;
  let after: Evaluation;
  let gateBefore: GateProbe;
  let gateAfter: GateProbe;
  const trainingPrecision: number[] = [];

  beforeAll(() => {
    scenario.setUp();
    initialMemories = scenario.state.buffer.size;
    before = scenario.evaluate();
    gateBefore = scenario.probeGate();
    for (let episode = 0; episode < EPISODES; episode++) trainingPrecision.push(scenario.episode(episode));
    after = scenario.evaluate();
    gateAfter = scenario.probeGate();
    const f = (x: number) => x.toFixed(3);
    const gate = (probe: GateProbe) =>
      `useful ${f(probe.useful)}, noise ${f(probe.noise)} (admitted ${probe.usefulAdmitted}/${probe.probes} vs ${probe.noiseAdmitted}/${probe.probes})`;
    console.log(
      [
        `learning test: ${TOPICS.length} topics, ${initialMemories} memories before training and ${scenario.state.buffer.size} after, ` +
          `${scenario.heldOut.length} held-out queries, ${scenario.reinforceCalls} Reinforce calls`,
        `  training precision@${TRAIN_TOP_K}: first 50 episodes ${f(mean(trainingPrecision.slice(0, 50)))}, last 50 ${f(mean(trainingPrecision.slice(-50)))}`,
        `  precision@${EVAL_K} before training: cosine ${f(before.cosine)}, scorer ${f(before.learned)} (same ranking as cosine: ${before.identicalToCosine})`,
        `  precision@${EVAL_K} after training:  cosine ${f(after.cosine)}, scorer ${f(after.learned)} ` +
          `(ceiling for a ranker told which memories are answers, then cosine: ${f(after.answersByCosine)})`,
        `  gate admit probability before training: ${gate(gateBefore)}`,
        `  gate admit probability after training:  ${gate(gateAfter)}, ${scenario.state.networks!.gate.updates} gate updates`,
      ].join("\n"),
    );
  });

  it("keeps every memory in the buffer and learns only through logged records", () => {
    expect(scenario.arrivalsLeft).toBe(0);
    expect(scenario.state.buffer.size).toBe(TOPICS.length * (ARRIVING_FACTS + DISTRACTOR_TEMPLATES.length + ARRIVING_DISTRACTOR_TEMPLATES.length));
    expect(scenario.reinforceCalls).toBe(EPISODES);
    // One update per Reinforce, and the widening to the kind features at the first recall.
    expect(scenario.state.scorerFor(NAMESPACE).updates).toBe(EPISODES + 1);
    // A cold replay of the log reaches the same state: all the learning is in the records.
    expect(scenario.driver.replay().hash().equals(scenario.state.hash())).toBe(true);
  });

  it("ranks exactly by cosine before any feedback, and cosine favours the distractors", () => {
    expect(before.identicalToCosine).toBe(true);
    expect(before.learned).toBe(before.cosine);
    // The task is built so that plain similarity is a poor guide.
    expect(before.cosine).toBeLessThanOrEqual(0.2);
    expect(after.cosine).toBeLessThanOrEqual(0.2);
  });

  it("after a few hundred Reinforce calls, beats cosine precision@5 by a clear margin on held-out phrasings", () => {
    expect(after.identicalToCosine).toBe(false);
    expect(after.learned).toBeGreaterThanOrEqual(after.cosine + SCORER_MARGIN);
    expect(mean(trainingPrecision.slice(-50))).toBeGreaterThan(mean(trainingPrecision.slice(0, 50)));
  });

  it.runIf(gateLearns)("after training, the gate admits useful kinds more readily than noise", () => {
    expect(scenario.state.networks!.gate.updates).toBeGreaterThanOrEqual(GATE_WARMUP_UPDATES); // the network alone decides now
    expect(gateAfter.useful).toBeGreaterThanOrEqual(gateAfter.noise + GATE_MARGIN);
    expect(gateAfter.useful - gateAfter.noise).toBeGreaterThan(gateBefore.useful - gateBefore.noise);
    expect(gateAfter.usefulAdmitted).toBeGreaterThan(gateAfter.noiseAdmitted);
  });

  it.runIf(!gateLearns)("leaves the gate and the shared prior untouched", () => {
    expect(scenario.state.networks!.gate.updates).toBe(0);
    expect(scenario.state.networks!.scorer.updates).toBeLessThanOrEqual(1); // at most the widening
    expect(scenario.state.adaptedNamespaces).toBe(1);
  });
});
