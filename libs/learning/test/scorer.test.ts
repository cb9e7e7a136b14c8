import { stateV1, walV1 } from "@t4dm/proto";
import { describe, expect, it } from "vitest";
import { Mlp } from "../src/mlp.js";
import { Prng } from "../src/prng.js";
import { FUSED_FEATURE, HYBRID_SCORER_FEATURES, LEGACY_SCORER_FEATURES, Scorer, SCORER_FEATURES, scorerFeatures as rawFeatures, type ScorerFeatureInput } from "../src/scorer.js";

/** A candidate; without its own fused base it is ranked by cosine (SEMANTIC mode). */
type Candidate = Omit<ScorerFeatureInput, "bm25" | "fused"> & Partial<Pick<ScorerFeatureInput, "bm25" | "fused">>;

function scorerFeatures(c: Candidate): Float32Array {
  return rawFeatures({ bm25: 0, fused: c.cosine, ...c });
}

/** What the WAL does to a record: float32 encode, then decode. */
function logged(layers: walV1.LayerUpdate[]): walV1.ScorerWeightUpdate {
  return walV1.ScorerWeightUpdate.decode(walV1.ScorerWeightUpdate.encode({ layers, namespace: "", guard: undefined }).finish());
}

function bytes(scorer: Scorer): Uint8Array {
  return stateV1.Network.encode(scorer.snapshot()).finish();
}

function candidate(prng: Prng, overrides: Partial<Candidate> = {}): Candidate {
  const rewardCount = Math.floor(prng.nextFloat() * 5);
  return {
    cosine: 2 * prng.nextFloat() - 1,
    ageSeconds: prng.nextFloat() * 30 * 86_400,
    accessCount: Math.floor(prng.nextFloat() * 20),
    rewardSum: rewardCount * (2 * prng.nextFloat() - 1),
    rewardCount,
    clusterMatch: prng.nextFloat() < 0.5,
    fromBuffer: prng.nextFloat() < 0.5,
    importance: prng.nextFloat(),
    evidence: prng.nextFloat(),
    kind: 1,
    ...overrides,
  };
}

/** Candidate indexes, best first; ties broken by index so the order is total. */
function ranking(scores: number[]): number[] {
  return scores.map((score, index) => ({ score, index })).sort((a, b) => b.score - a.score || a.index - b.index).map((x) => x.index);
}

describe("scorerFeatures", () => {
  it("computes the fifteen bounded features in order", () => {
    const features = rawFeatures({
      cosine: 0.8,
      ageSeconds: 86_400,
      accessCount: 3,
      rewardSum: 1.5,
      rewardCount: 3,
      clusterMatch: true,
      fromBuffer: false,
      importance: 0.25,
      evidence: 0.6,
      bm25: 3,
      vectorRank: 2,
      lexicalRank: 4,
      fused: 0.9,
      kind: 3,
    });
    expect(features).toHaveLength(SCORER_FEATURES);
    // The kind as working, semantic, procedural flags: a semantic memory.
    expect(Array.from(features)).toEqual([0.8, Math.exp(-1), Math.log1p(3) / 5, 0.5, 1, 0, 0.25, 0.6, 0.75, 0.5, 0.25, 0.9, 0, 1, 0].map(Math.fround));
  });

  it("caps and clamps out-of-range inputs", () => {
    const features = scorerFeatures({
      cosine: 1.0000001,
      ageSeconds: -50, // clock skew: treat as brand new
      accessCount: 1e9,
      rewardSum: -40,
      rewardCount: 0, // no rewards yet: the sum is divided by 1
      clusterMatch: false,
      fromBuffer: true,
      importance: 7,
      evidence: -1,
      kind: 99, // not a kind: no flag
    });
    expect(Array.from(features)).toEqual([1, 1, 1, -1, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0]);
    expect(() => scorerFeatures({ ...candidate(Prng.fromSeed(1)), cosine: Number.NaN })).toThrow(/finite/);
  });
});

describe("Scorer", () => {
  it("ranks exactly by the fused base until it is trained", () => {
    const scorer = Scorer.init(Prng.fromSeed(2));
    const prng = Prng.fromSeed(3);
    const features = Array.from({ length: 200 }, () => scorerFeatures(candidate(prng, { bm25: 5 * prng.nextFloat(), fused: prng.nextFloat() })));
    for (const f of features) expect(scorer.score(f)).toBe(f[FUSED_FEATURE]);
    expect(ranking(features.map((f) => scorer.score(f)))).toEqual(ranking(features.map((f) => f[FUSED_FEATURE]!)));
  });

  it("learns from reward to rank a rewarded memory above a more similar unrewarded one", () => {
    const scorer = Scorer.init(Prng.fromSeed(4));
    const prng = Prng.fromSeed(5);
    // Recalled memories come back with a reward history; feedback says the rewarded ones helped.
    for (let step = 0; step < 40; step++) {
      const good = step % 2 === 0;
      const f = scorerFeatures(candidate(prng, { rewardSum: good ? 0.8 : -0.8, rewardCount: 1 }));
      scorer.apply(logged(scorer.plan(f, good ? 1 : -1, 0.02)));
    }
    expect(scorer.updates).toBe(40);

    const shared = candidate(Prng.fromSeed(6));
    const similarButBad = scorerFeatures({ ...shared, cosine: 0.7, rewardSum: -0.8, rewardCount: 1 });
    const lessSimilarButGood = scorerFeatures({ ...shared, cosine: 0.5, rewardSum: 0.8, rewardCount: 1 });
    expect(Scorer.init(Prng.fromSeed(4)).score(similarButBad)).toBeGreaterThan(Scorer.init(Prng.fromSeed(4)).score(lessSimilarButGood));
    expect(scorer.score(lessSimilarButGood)).toBeGreaterThan(scorer.score(similarButBad));

    // On fresh candidates, past reward now outweighs a cosine gap of 0.2 almost always.
    const test = Prng.fromSeed(7);
    let correct = 0;
    for (let i = 0; i < 200; i++) {
      const base = candidate(test, { cosine: 0.2 + 0.6 * test.nextFloat() });
      const good = scorerFeatures({ ...candidate(test), cosine: base.cosine - 0.2, rewardSum: 0.8, rewardCount: 1 });
      const bad = scorerFeatures({ ...base, rewardSum: -0.8, rewardCount: 1 });
      if (scorer.score(good) > scorer.score(bad)) correct++;
    }
    expect(correct).toBeGreaterThan(190);
  });

  it("learns the reward memories earn, and stops there: one-signed feedback does not run to the bound", () => {
    const scorer = Scorer.init(Prng.fromSeed(14));
    const prng = Prng.fromSeed(15);
    const noise = (): Float32Array => scorerFeatures(candidate(prng, { rewardSum: -0.9, rewardCount: 1 }));
    const useful = (): Float32Array => scorerFeatures(candidate(prng, { rewardSum: 0.9, rewardCount: 1 }));
    // Mostly bad news, as when distractors fill the first recalls: the old
    // push-by-RPE rule drove every correction to −1 here.
    for (let step = 0; step < 400; step++) {
      const features = step % 5 === 0 ? useful() : noise();
      scorer.apply(logged(scorer.learn(features, step % 5 === 0 ? 0.5 : -0.5, 1, 0.05)));
    }
    const mean = (make: () => Float32Array): number => {
      let sum = 0;
      for (let i = 0; i < 100; i++) sum += scorer.correction(make());
      return sum / 100;
    };
    expect(mean(useful)).toBeGreaterThan(0.3);
    expect(mean(useful)).toBeLessThan(0.7);
    expect(mean(noise)).toBeLessThan(-0.3);
    expect(mean(noise)).toBeGreaterThan(-0.7);
    // A zero correction learns nothing from a reward it already predicts.
    const fresh = Scorer.init(Prng.fromSeed(14));
    expect(fresh.learn(noise(), 0, 1, 0.05).every((layer) => layer.weights.every((x) => x === 0) && layer.biases.every((x) => x === 0))).toBe(true);
  });

  it("applies a WAL-decoded record identically to two copies", () => {
    const prng = Prng.fromSeed(8);
    const live = Scorer.init(Prng.fromSeed(9));
    const a = Scorer.restore(live.snapshot());
    const b = Scorer.restore(live.snapshot());
    for (let step = 0; step < 50; step++) {
      const record = live.plan(scorerFeatures(candidate(prng)), 2 * prng.nextFloat() - 1, 0.05);
      const decoded = walV1.ScorerWeightUpdate.decode(walV1.ScorerWeightUpdate.encode({ layers: record, namespace: "", guard: undefined }).finish());
      live.apply({ layers: record });
      a.apply(decoded);
      b.apply(walV1.ScorerWeightUpdate.decode(walV1.ScorerWeightUpdate.encode(decoded).finish()));
    }
    expect(bytes(a)).toEqual(bytes(b));
    expect(bytes(a)).toEqual(bytes(live));
    // And it really learned something: no longer plain cosine.
    const f = scorerFeatures(candidate(prng));
    expect(a.score(f)).not.toBe(f[FUSED_FEATURE]);
  });

  it("plans without changing itself and trains the zeroed last layer first", () => {
    const scorer = Scorer.init(Prng.fromSeed(10));
    const before = bytes(scorer);
    const plan = scorer.plan(scorerFeatures(candidate(Prng.fromSeed(11))), 1, 0.1);
    expect(bytes(scorer)).toEqual(before);
    // With the output weights at zero nothing flows back to the hidden layer yet.
    expect(plan[0]!.weights.every((x) => x === 0)).toBe(true);
    expect(plan[1]!.weights.some((x) => x !== 0)).toBe(true);
    expect(plan[1]!.biases).toEqual([Math.fround(0.1)]);
  });

  it("snapshots and restores exactly and refuses a network of the wrong shape", () => {
    const scorer = Scorer.init(Prng.fromSeed(12));
    const prng = Prng.fromSeed(13);
    for (let i = 0; i < 3; i++) scorer.apply(logged(scorer.plan(scorerFeatures(candidate(prng)), 1, 0.1)));
    const restored = Scorer.restore(stateV1.Network.decode(bytes(scorer)));
    expect(restored.updates).toBe(3);
    expect(bytes(restored)).toEqual(bytes(scorer));
    const f = scorerFeatures(candidate(prng));
    expect(restored.score(f)).toBe(scorer.score(f));

    const net = scorer.snapshot();
    const wide = { ...net, layers: [{ ...net.layers[0]!, inputs: 9, weights: new Array(9 * 16).fill(0) }, net.layers[1]!] };
    expect(() => Scorer.restore(wide)).toThrow(/takes 9 features; expected one of 8, 12, 15/);
    expect(() => Scorer.restore({ ...net, layers: [net.layers[0]!] })).toThrow(/1 layers; expected 2/);
    expect(() => Scorer.restore(undefined)).toThrow(/no scorer network/);
    expect(() => scorer.apply({ layers: [{ layer: 1, weights: [1], biases: [1], full: false }] })).toThrow(/1 weights/);
    expect(scorer.updates).toBe(3);
  });

  it("draws its legacy eight inputs exactly as before and starts as wide as before kind features, the new inputs at zero", () => {
    const scorer = Scorer.init(Prng.fromSeed(16));
    // A fresh scorer is as wide as the code before kind features made it, so old WALs replay to their state.
    expect(scorer.inputs).toBe(HYBRID_SCORER_FEATURES);
    // What Scorer.init drew before hybrid recall.
    const old = Mlp.xavier([8, 16, 1], ["tanh", "tanh"], Prng.fromSeed(16), { zeroLastLayer: true }).toProto(0).layers[0]!;
    const wide = scorer.snapshot().layers[0]!;
    const width = HYBRID_SCORER_FEATURES;
    for (let j = 0; j < wide.outputs; j++) {
      expect(wide.weights.slice(j * width, j * width + LEGACY_SCORER_FEATURES)).toEqual(old.weights.slice(j * 8, j * 8 + 8));
      expect(wide.weights.slice(j * width + LEGACY_SCORER_FEATURES, (j + 1) * width).every((w) => w === 0)).toBe(true);
    }
  });

  it("widens a scorer from before kind features at a logged update, changing no score, and then learns from kind", () => {
    const scorer = Scorer.init(Prng.fromSeed(19));
    const prng = Prng.fromSeed(20);
    for (let i = 0; i < 5; i++) scorer.apply(logged(scorer.learn(scorerFeatures(candidate(prng)), 1, 1, 0.1)));
    const probes = Array.from({ length: 50 }, () => scorerFeatures(candidate(prng, { kind: 1 + Math.floor(prng.nextFloat() * 4) })));
    const before = probes.map((f) => scorer.score(f));
    scorer.apply(logged(scorer.planWiden()!.layers));
    expect(scorer.inputs).toBe(SCORER_FEATURES);
    expect(probes.map((f) => scorer.score(f))).toEqual(before);
    // Rewarding semantic memories and punishing episodic ones, all else equal, moves the kind weights.
    const semantic = scorerFeatures(candidate(Prng.fromSeed(21), { kind: 3 }));
    const episodic = scorerFeatures(candidate(Prng.fromSeed(21), { kind: 1 }));
    for (let i = 0; i < 20; i++) {
      scorer.apply(logged(scorer.learn(semantic, 1, 1, 0.1)));
      scorer.apply(logged(scorer.learn(episodic, -1, 1, 0.1)));
    }
    expect(scorer.score(semantic)).toBeGreaterThan(scorer.score(episodic));
  });

  it("keeps a legacy (8-input) scorer's shape and scores until a logged widening, which changes no score", () => {
    const legacy = legacyScorer(17);
    const prng = Prng.fromSeed(18);
    // Old records: eight-wide deltas from eight-feature traces.
    for (let i = 0; i < 5; i++) legacy.apply(logged(legacy.learn(scorerFeatures(candidate(prng)).subarray(0, 8), 1, 1, 0.1)));
    expect(legacy.inputs).toBe(LEGACY_SCORER_FEATURES);
    const probes = Array.from({ length: 50 }, () => scorerFeatures(candidate(prng, { bm25: 3 * prng.nextFloat(), lexicalRank: 1 })));
    const before = probes.map((f) => legacy.score(f));
    const widen = legacy.planWiden()!;
    expect(widen.layers).toHaveLength(1);
    legacy.apply(logged(widen.layers));
    expect(legacy.inputs).toBe(SCORER_FEATURES);
    expect(legacy.planWiden()).toBeUndefined();
    expect(probes.map((f) => legacy.score(f))).toEqual(before);
    // A replay through the same records ends in the same bytes.
    const replayed = Scorer.restore(legacyScorer(17).snapshot());
    const again = Prng.fromSeed(18);
    for (let i = 0; i < 5; i++) replayed.apply(logged(replayed.learn(scorerFeatures(candidate(again)).subarray(0, 8), 1, 1, 0.1)));
    replayed.apply(logged(widen.layers));
    expect(bytes(replayed)).toEqual(bytes(legacy));
    // An eight-feature trace still trains the widened scorer, leaving the new inputs' weights alone.
    legacy.apply(logged(legacy.learn(probes[0]!.subarray(0, 8), 1, 1, 0.1)));
    const first = legacy.snapshot().layers[0]!;
    for (let j = 0; j < first.outputs; j++) expect(first.weights.slice(j * SCORER_FEATURES + 8, (j + 1) * SCORER_FEATURES).every((w) => w === 0)).toBe(true);
  });
});

/** A scorer as the code before hybrid recall made it: eight inputs. */
function legacyScorer(seed: number): Scorer {
  const net = Scorer.init(Prng.fromSeed(seed)).snapshot();
  const first = net.layers[0]!;
  const weights: number[] = [];
  for (let j = 0; j < first.outputs; j++) weights.push(...first.weights.slice(j * first.inputs, j * first.inputs + LEGACY_SCORER_FEATURES));
  return Scorer.restore({ ...net, layers: [{ ...first, inputs: LEGACY_SCORER_FEATURES, weights }, net.layers[1]!] });
}
