import { walV1 } from "@t4dm/proto";
import { effectiveEvidence, initialEvidence, PROMOTION_THRESHOLD, type BufferedItem } from "./buffer.js";
import { gateFeatures } from "./gate.js";
import type { LearningState, Networks } from "./learning-state.js";
import type { LayerUpdate } from "./layer-updates.js";
import { sumLayerUpdates } from "./layer-updates.js";
import { combine, mergeRecord, nearDuplicate, valuesOf } from "./merge.js";
import { targetStoreOf } from "./target-store.js";
import { modulationOf } from "./modulation.js";
import { memoryGateFeatures, packFloat32 } from "./packed-floats.js";
import { packRemember } from "./remember-record.js";
import { matchRequest, requestBodyHash } from "./request-match.js";
import { rankRecall, type Recalled, type RecallInput } from "./recall-ranking.js";
import type { Scorer } from "./scorer.js";
import { judge, observe } from "./shadow-guard.js";
import type { TraceState } from "./traces.js";
import { clamp, cosineFloat32, frozenNorm, norm } from "./vector.js";

type Operation = NonNullable<walV1.WalEntry["operation"]>;

/** Base learning rate of the three-factor updates; norepinephrine scales it. */
export const LEARNING_RATE = 0.05;
/** Share of credit a reward gives to other live recalls in the namespace. */
export const CROSS_CREDIT = 0.3;
/** Evidence a recall hit adds (scaled by rank). */
export const HIT_EVIDENCE = 0.05;

/** What the caller supplies that is not state: the record time and fresh ids. */
export interface PlanContext {
  now: Date;
  newId: () => string;
}

export interface RememberInput {
  namespace: string;
  content: string;
  kind: walV1.MemoryKind;
  metadata: Record<string, unknown>;
  importance: number;
  /** Unit length, of the state's dimension. */
  embedding: Float32Array;
  always: boolean;
  requestId: string;
  expireTime?: Date;
}

export type RememberPlan =
  | { decision: "admitted"; memory: walV1.MemoryRecord; admitProbability: number; operations: Operation[] }
  | { decision: "rejected"; admitProbability: number; operations: [] }
  /** A near-duplicate of the buffered memory `memoryId`: merged into it. */
  | { decision: "merged"; memoryId: string; admitProbability: number; operations: Operation[] }
  /** A retry of an admitted request: the memory it created, nothing new to log. */
  | { decision: "duplicate"; memoryId: string; operations: [] }
  /** The request id was used in this namespace for another body: refuse, log nothing. */
  | { decision: "reused"; memoryId: string; operations: [] };

/**
 * What a Remember would log: one REMEMBER record holding the room made in
 * the buffer (promotion, or in a LEARNED namespace eviction with a reason,
 * never a silent drop), the cluster update, arousal and encoding, then the
 * memory itself. A
 * near-duplicate of a buffered memory is merged into it instead (one
 * MEMORY_MERGE). In a KEEP namespace (the default) the gate's probability
 * only weights the memory (its initial evidence); in a LEARNED one a
 * rejection logs nothing.
 */
export function planRemember(state: LearningState, input: RememberInput, context: PlanContext): RememberPlan {
  const networks = requireNetworks(state);
  const match = matchRequest(state, input);
  if (match.kind === "retry") return { decision: "duplicate", memoryId: match.memoryId, operations: [] };
  if (match.kind === "reused") return { decision: "reused", memoryId: match.memoryId, operations: [] };

  const novelty = noveltyOf(state, input.namespace, input.embedding);
  const levels = modulationOf(state).levels;
  const features = gateFeatures({
    embedding: input.embedding,
    projection: networks.gate.projection,
    novelty,
    neuromodulators: levels,
    contentChars: input.content.length,
    kind: input.kind,
    importance: input.importance,
  });
  const probability = Math.fround(networks.gate.admitProbability(features, novelty));
  const twin = nearDuplicate(state.buffer.namespaceItems(input.namespace), input.namespace, input.content, input.embedding);
  if (twin) {
    const incoming = { metadata: input.metadata, importance: Math.fround(input.importance), evidence: initialEvidence({ admitProbability: probability, importance: input.importance }) };
    const record = mergeRecord(twin, combine(valuesOf(twin), incoming), {
      requestId: input.requestId,
      requestBodySha256: input.requestId ? requestBodyHash(input) : new Uint8Array(0),
    });
    return { decision: "merged", memoryId: twin.memory.id, admitProbability: probability, operations: [{ $case: "memoryMerge", value: record }] };
  }
  const gated = !state.retention.keeps(input.namespace) && !input.always;
  const admitted = !gated || probability >= networks.gate.threshold(levels.acetylcholine);
  if (!admitted) return { decision: "rejected", admitProbability: probability, operations: [] };

  const steps: Operation[] = [...makeRoom(state, context.now, 1)];
  const assignment = state.clusters.planAssign(input.namespace, input.embedding);
  steps.push({ $case: "clusterUpdate", value: assignment.record });
  steps.push(state.neuromodulators.planNovelty(novelty));
  steps.push(...state.neuromodulators.planEncoding());
  const memory: walV1.MemoryRecord = {
    id: context.newId(),
    namespace: input.namespace,
    kind: input.kind,
    content: input.content,
    embedding: [],
    embeddingF32: packFloat32(input.embedding),
    metadata: input.metadata,
    importance: Math.fround(input.importance),
    createTime: context.now,
    expireTime: input.expireTime,
    requestId: input.requestId,
    // The gate's real opinion, even when the caller bypassed it: evidence builds on it.
    admitProbability: probability,
    gateFeatures: [],
    gateFeaturesF32: packFloat32(features),
    clusterId: assignment.clusterId,
  };
  steps.push({ $case: "bufferAdd", value: { memory } });
  // One record for the whole Remember (see remember-record.ts).
  return { decision: "admitted", memory, admitProbability: input.always ? 1 : probability, operations: [{ $case: "remember", value: packRemember(steps) }] };
}

/**
 * Promotions (and, in LEARNED namespaces, evictions) that leave room for
 * `incoming` new memories: the item with the least effective evidence goes
 * first; see leaveBuffer. Under per-namespace learning, evidence (which
 * feedback moves) only ranks memories within a namespace; see
 * leastEvidenceOfFullest.
 */
export function makeRoom(state: LearningState, now: Date, incoming: number): Operation[] {
  const excess = Math.min(state.buffer.size + incoming - state.bufferCapacity, state.buffer.size);
  // With room to spare nothing leaves, and nothing needs ranking.
  if (excess <= 0) return [];
  const leaving = state.learnsPerNamespace ? leastEvidenceOfFullest(state.buffer.all(), now, excess) : leastEvidence(state.buffer.all(), now, excess);
  return leaving.map((item) => leaveBuffer(item, now, walV1.RemovalReason.REMOVAL_REASON_CAPACITY, state.retention.keeps(item.memory.namespace)));
}

/**
 * `count` items to leave the buffer, chosen so that no namespace's feedback
 * decides which other namespace gives one up (a memory that leaves the
 * buffer changes its ranking features): each pick comes from the namespace
 * holding the most buffered memories (ties: the one buffered first), and
 * within a namespace the least evidence goes first. With one namespace this
 * is leastEvidence.
 */
function leastEvidenceOfFullest(items: Iterable<BufferedItem>, now: Date, count: number): BufferedItem[] {
  const byNamespace = new Map<string, BufferedItem[]>();
  for (const item of items) {
    const group = byNamespace.get(item.memory.namespace);
    if (group) group.push(item);
    else byNamespace.set(item.memory.namespace, [item]);
  }
  if (byNamespace.size === 1) return leastEvidence(byNamespace.values().next().value!, now, count);
  const remaining = new Map([...byNamespace].map(([namespace, group]) => [namespace, group.length]));
  const picks = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    let fullest = "";
    let most = 0;
    for (const [namespace, left] of remaining) if (left > most) [fullest, most] = [namespace, left];
    remaining.set(fullest, most - 1);
    picks.set(fullest, (picks.get(fullest) ?? 0) + 1);
  }
  return [...byNamespace].flatMap(([namespace, group]) => (picks.has(namespace) ? leastEvidence(group, now, picks.get(namespace)!) : []));
}

/** Past this many picks a full sort is cheaper than keeping a sorted shortlist. */
const SHORTLIST_LIMIT = 64;

/**
 * The `count` items with the least effective evidence, least first, ties in
 * iteration order: what a stable sort of every item would put first. A full
 * buffer needs room for one memory per Remember, so this keeps a shortlist of
 * `count` instead of sorting the buffer (a sort of 20,000 items per Remember
 * cost ~15 ms).
 */
function leastEvidence(items: Iterable<BufferedItem>, now: Date, count: number): BufferedItem[] {
  const ranked: { item: BufferedItem; evidence: number }[] = [];
  if (count > SHORTLIST_LIMIT) {
    for (const item of items) ranked.push({ item, evidence: effectiveEvidence(item, now) });
    // Stable: ties keep iteration order.
    return ranked
      .sort((a, b) => a.evidence - b.evidence)
      .slice(0, count)
      .map((entry) => entry.item);
  }
  for (const item of items) {
    const evidence = effectiveEvidence(item, now);
    // A later item only displaces one with strictly more evidence, so ties keep iteration order.
    if (ranked.length === count && evidence >= ranked[count - 1]!.evidence) continue;
    let at = ranked.length;
    while (at > 0 && ranked[at - 1]!.evidence > evidence) at -= 1;
    ranked.splice(at, 0, { item, evidence });
    if (ranked.length > count) ranked.pop();
  }
  return ranked.map((entry) => entry.item);
}

/**
 * The record for an item leaving the buffer: promotion to the store its kind
 * chooses when its namespace keeps what it acknowledged (`keep`) or the item
 * earned it, else eviction with `reason`.
 */
export function leaveBuffer(item: BufferedItem, now: Date, reason: walV1.RemovalReason, keep: boolean): Operation {
  if (keep || effectiveEvidence(item, now) >= PROMOTION_THRESHOLD) {
    return { $case: "bufferPromote", value: { memoryId: item.memory.id, targetStore: targetStoreOf(item.memory.kind) } };
  }
  return { $case: "bufferRemove", value: { memoryId: item.memory.id, reason } };
}

export interface RecallPlan {
  recallId: string;
  results: Recalled[];
  operations: Operation[];
}

/**
 * Ranks what the state holds in the namespace (rankRecall) and logs the
 * recall's consequences against the same state. The service ranks against
 * the durable state and plans the records against the projected one; this
 * is both on one state (tests, replays).
 */
export function planRecall(state: LearningState, input: RecallInput, context: PlanContext): RecallPlan {
  const results = rankRecall(state, input, context.now);
  const recallId = context.newId();
  return { recallId, results, operations: planRecallRecords(state, input.namespace, input.query, recallId, results, context.now) };
}

/**
 * What a recall that returned `results` logs, planned against `state` (the
 * projected one, so evidence builds on every earlier record): older traces
 * decay, this recall's traces are created, buffered hits gain evidence,
 * retrieval moves acetylcholine, and a scorer still on the legacy feature
 * count (the one ranking this namespace) is widened first, so this recall's
 * traces fit what Reinforce trains.
 */
export function planRecallRecords(
  state: LearningState,
  namespace: string,
  query: Float32Array,
  recallId: string,
  results: readonly Recalled[],
  now: Date,
): Operation[] {
  requireNetworks(state);
  const operations: Operation[] = [];
  const widen = state.scorerFor(namespace).planWiden();
  if (widen) operations.push({ $case: "scorerWeightUpdate", value: { ...widen, namespace: state.scorerKeyFor(namespace) } });
  const queryCluster = state.clusters.nearest(namespace, query)?.clusterId;
  if (state.traces.live(namespace).length > 0) operations.push(state.traces.planDecay(namespace));
  const traceContext = `${namespace}#${queryCluster ?? 0}`;
  operations.push(state.traces.planCreate(recallId, namespace, traceContext, results.map((r, i) => ({ memoryId: r.item.memory.id, features: r.features, servedRank: i + 1, baseRank: r.baseRank, learnedRank: r.learnedRank }))));
  results.forEach((result, rank) => {
    // Stored memories' access statistics live in the store, updated by the caller.
    if (result.source === "store") return;
    const id = result.item.memory.id;
    // Gone from this state (promoted and confirmed, or removed) since the ranking: nothing to credit here.
    const item = state.buffer.get(id) ?? state.buffer.getPromoting(id);
    if (!item) return;
    operations.push({
      $case: "bufferEvidence",
      value: {
        memoryId: id,
        evidence: Math.fround(clamp(item.evidence + HIT_EVIDENCE / (1 + rank), 0, 4)),
        accessCount: item.accessCount + 1,
        lastAccessTime: now,
        rewardSum: item.rewardSum,
        rewardCount: item.rewardCount,
      },
    });
  });
  operations.push(...state.neuromodulators.planRetrieval());
  return operations;
}

export interface ReinforceInput {
  namespace: string;
  recallId: string;
  /** In [-1, 1]. */
  reward: number;
  /** Per-memory rewards in [-1, 1], overriding `reward` for those ids. */
  memoryRewards: Record<string, number>;
}

export type ReinforcePlan =
  | { found: false }
  | { found: true; rewardPredictionError: number; credited: number; operations: Operation[] };

/**
 * Signed three-factor learning. Dopamine logs the recall's prediction error
 * δ = reward − V(context), which sets the modulator levels (arousal scales the
 * learning rate). Each credited memory then moves the scorer and the gate by
 * learning rate × eligibility (its trace) × that network's own prediction
 * error for the memory: its reward minus what the network predicted memories
 * with these features earn (the scorer's correction; the gate's 2p − 1).
 * V(context) is one number for every memory a query brings back, so it
 * cannot serve as the baseline of a per-memory prediction: with it, feedback
 * that is mostly negative (or, once ranking works, mostly positive) pushed
 * every score and every admit probability to its bound. Evidence and reward
 * statistics follow, and the recall's traces are consumed.
 *
 * Under NAMESPACE scope (the default) the scorer update names the namespace,
 * so it trains that namespace's adaptation and no other namespace's ranking;
 * the gate, one network for every namespace, learns only under SHARED scope,
 * because its admit probability becomes a new memory's initial evidence, a
 * feature of every namespace's ranking.
 */
export function planReinforce(state: LearningState, input: ReinforceInput): ReinforcePlan {
  const networks = requireNetworks(state);
  const trace = state.traces.get(input.recallId);
  if (!trace || trace.namespace !== input.namespace) return { found: false };

  const reward = state.neuromodulators.planReward(trace.context, input.reward);
  const learningRate = LEARNING_RATE * modulationOf(state).learningRateScale;
  const scorer = state.scorerFor(input.namespace);
  // Judged before any of this feedback is learned, so the comparison is a held-out one.
  const guard = judgeScorer(scorer, trace, input);
  const gateLearns = !state.learnsPerNamespace;
  const scorerDeltas: LayerUpdate[][] = [];
  const gateDeltas: LayerUpdate[][] = [];
  // Per memory: evidence and reward statistics gained from this reward.
  const gains = new Map<string, { evidence: number; reward: number; count: number }>();
  const credited = new Set<string>();

  const credit = (memoryId: string, strength: number, features: Float32Array, share: number) => {
    const memoryReward = input.memoryRewards[memoryId] ?? input.reward;
    const eligibility = strength * share;
    if (eligibility === 0) return;
    credited.add(memoryId);
    scorerDeltas.push(scorer.learn(features, memoryReward, eligibility, learningRate));
    const item = state.buffer.get(memoryId) ?? state.buffer.getPromoting(memoryId);
    if (!item) return;
    const gateFeatures = gateLearns ? memoryGateFeatures(item.memory) : undefined;
    if (gateFeatures && gateFeatures.length > 0) gateDeltas.push(networks.gate.learn(gateFeatures, memoryReward, eligibility, learningRate));
    const gain = gains.get(memoryId) ?? { evidence: 0, reward: 0, count: 0 };
    gain.evidence += memoryReward * eligibility;
    gain.reward += memoryReward * share;
    gain.count += 1;
    gains.set(memoryId, gain);
  };
  for (const item of trace.items) credit(item.memoryId, item.strength, item.features, 1);
  for (const other of state.traces.live(input.namespace)) {
    if (other.recallId === input.recallId) continue;
    for (const item of other.items) credit(item.memoryId, item.strength, item.features, CROSS_CREDIT);
  }

  const operations: Operation[] = [...reward.records];
  if (scorerDeltas.length > 0) {
    operations.push({ $case: "scorerWeightUpdate", value: { layers: sumLayerUpdates(scorerDeltas), namespace: state.scorerTargetFor(input.namespace), guard } });
  }
  if (gateDeltas.length > 0) operations.push({ $case: "gateWeightUpdate", value: { layers: sumLayerUpdates(gateDeltas) } });
  for (const [memoryId, gain] of gains) {
    const item = (state.buffer.get(memoryId) ?? state.buffer.getPromoting(memoryId))!;
    operations.push({
      $case: "bufferEvidence",
      value: {
        memoryId,
        evidence: Math.fround(clamp(item.evidence + gain.evidence, 0, 4)),
        accessCount: item.accessCount,
        lastAccessTime: item.lastAccessTime,
        rewardSum: Math.fround(item.rewardSum + gain.reward),
        rewardCount: item.rewardCount + gain.count,
      },
    });
  }
  operations.push(...state.traces.planConsume(input.recallId));
  return { found: true, rewardPredictionError: reward.rpe, credited: credited.size, operations };
}

/**
 * The shadow guard of `scorer` after judging the recall's served and full
 * learned rankings against the unlearned one, with the rewards given as
 * labels; undefined (the guard stays as it is) when the rewards judge no
 * order or the trace predates the guard (no ranks).
 */
function judgeScorer(scorer: Scorer, trace: TraceState, input: ReinforceInput): walV1.ScorerGuard | undefined {
  if (trace.items.some((item) => item.baseRank === 0 || item.learnedRank === 0 || item.servedRank === 0)) return undefined;
  const differences = judge(trace.items.map((item) => ({ ...item, reward: input.memoryRewards[item.memoryId] ?? input.reward })));
  return differences === undefined ? undefined : observe(scorer.guard, differences);
}

/** 1 − the highest similarity to the namespace's clusters and buffered memories. */
export function noveltyOf(state: LearningState, namespace: string, embedding: Float32Array): number {
  let best = state.clusters.nearest(namespace, embedding)?.similarity ?? 0;
  // cosine(embedding, item), with the query's norm computed once and each item's remembered.
  const queryNorm = norm(embedding);
  for (const item of state.buffer.namespaceItems(namespace)) best = Math.max(best, cosineFloat32(embedding, queryNorm, item.embedding, frozenNorm(item.embedding)));
  return clamp(1 - best, 0, 1);
}

function requireNetworks(state: LearningState): Networks {
  if (!state.networks) throw new Error("the learning state is not initialised (no SYSTEM_START applied)");
  return state.networks;
}
