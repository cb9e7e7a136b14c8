import { stateV1, walV1 } from "@t4dm/proto";
import { describe, expect, it } from "vitest";
import { Gate, GATE_FEATURES, GATE_PROJECTION_DIM, GATE_WARMUP_UPDATES, gateFeatures, type GateFeatureInput } from "../src/gate.js";
import { Prng } from "../src/prng.js";
import { normalize } from "../src/vector.js";

const DIM = 64;

function randomEmbedding(prng: Prng, dim = DIM): Float32Array {
  return normalize(Array.from({ length: dim }, () => prng.nextGaussian()));
}

function input(gate: Gate, embedding: Float32Array, overrides: Partial<GateFeatureInput> = {}): GateFeatureInput {
  return {
    embedding,
    projection: gate.projection,
    novelty: 0.5,
    neuromodulators: { dopamine: 0.5, serotonin: 0.5, norepinephrine: 0.5, acetylcholine: 0.5 },
    contentChars: 120,
    kind: walV1.MemoryKind.MEMORY_KIND_EPISODIC,
    importance: 0.5,
    ...overrides,
  };
}

/** What the WAL does to a record: float32 encode, then decode. */
function logged(layers: walV1.LayerUpdate[]): walV1.GateWeightUpdate {
  return walV1.GateWeightUpdate.decode(walV1.GateWeightUpdate.encode({ layers }).finish());
}

function snapshotBytes(gate: Gate): Uint8Array {
  const { gate: net, projection } = gate.snapshot();
  return stateV1.LearningState.encode(stateV1.LearningState.fromPartial({ gate: net, gateProjection: projection })).finish();
}

describe("gateFeatures", () => {
  const gate = Gate.init(Prng.fromSeed(1), DIM);

  it("lays out 16 projected + novelty + 4 neuromodulators + length + kind one-hot + importance", () => {
    const features = gateFeatures(
      input(gate, randomEmbedding(Prng.fromSeed(2)), {
        novelty: 0.9,
        neuromodulators: { dopamine: 0.1, serotonin: 0.2, norepinephrine: 0.3, acetylcholine: 0.4 },
        contentChars: 100,
        kind: walV1.MemoryKind.MEMORY_KIND_SEMANTIC,
        importance: 0.7,
      }),
    );
    expect(features).toHaveLength(GATE_FEATURES);
    expect(Array.from(features.slice(GATE_PROJECTION_DIM))).toEqual(
      [0.9, 0.1, 0.2, 0.3, 0.4, Math.log1p(100) / 10, 0, 0, 1, 0, 0.7].map(Math.fround),
    );
    const projected = Array.from(features.slice(0, GATE_PROJECTION_DIM));
    expect(projected.every((x) => x > -1 && x < 1)).toBe(true);
    expect(projected.some((x) => Math.abs(x) > 0.1)).toBe(true);
  });

  it("projects as tanh(P·e) with e rescaled to RMS 1", () => {
    const embedding = randomEmbedding(Prng.fromSeed(3));
    const features = gateFeatures(input(gate, embedding));
    for (let k = 0; k < GATE_PROJECTION_DIM; k++) {
      let sum = 0;
      for (let i = 0; i < DIM; i++) sum += gate.projection[k * DIM + i]! * embedding[i]!;
      expect(features[k]).toBeCloseTo(Math.tanh(Math.sqrt(DIM) * sum), 6);
    }
  });

  it("gives projected features of order one, whatever the embedding's norm", () => {
    // The reason for the rescaling: a unit embedding projected directly gives ~1/√dim.
    const dim = 384;
    const wide = Gate.init(Prng.fromSeed(4), dim);
    const prng = Prng.fromSeed(5);
    const values: number[] = [];
    for (let n = 0; n < 100; n++) {
      const unit = randomEmbedding(prng, dim);
      const features = gateFeatures(input(wide, unit));
      const scaled = gateFeatures(input(wide, unit.map((x) => 7 * x)));
      for (let k = 0; k < GATE_PROJECTION_DIM; k++) expect(scaled[k]).toBeCloseTo(features[k]!, 5);
      values.push(...features.slice(0, GATE_PROJECTION_DIM));
    }
    const sd = Math.sqrt(values.reduce((s, x) => s + x * x, 0) / values.length);
    // tanh of a standard normal has SD ≈ 0.63.
    expect(sd).toBeGreaterThan(0.5);
    expect(sd).toBeLessThan(0.75);
    expect(Array.from(gateFeatures(input(wide, new Float32Array(dim))).slice(0, GATE_PROJECTION_DIM))).toEqual(new Array(16).fill(0));
  });

  it("caps and clamps its scalar inputs", () => {
    const embedding = randomEmbedding(Prng.fromSeed(6));
    const huge = gateFeatures(input(gate, embedding, { novelty: 3, contentChars: 1e9, importance: -2, kind: 0 }));
    expect(huge[16]).toBe(1);
    expect(huge[21]).toBe(1);
    expect(huge[26]).toBe(0);
    expect(Array.from(huge.slice(22, 26))).toEqual([0, 0, 0, 0]);
    expect(gateFeatures(input(gate, embedding, { contentChars: 0 }))[21]).toBe(0);
    for (const kind of [1, 2, 3, 4]) {
      const oneHot = Array.from(gateFeatures(input(gate, embedding, { kind })).slice(22, 26));
      expect(oneHot).toEqual([1, 2, 3, 4].map((k) => (k === kind ? 1 : 0)));
    }
  });

  it("rejects a projection of the wrong size and non-finite inputs", () => {
    expect(() => gateFeatures(input(gate, randomEmbedding(Prng.fromSeed(7), DIM + 1)))).toThrow(/expected 16×65/);
    expect(() => gateFeatures(input(gate, randomEmbedding(Prng.fromSeed(7)), { novelty: Number.NaN }))).toThrow(/finite/);
    const broken = randomEmbedding(Prng.fromSeed(7));
    broken[3] = Number.POSITIVE_INFINITY;
    expect(() => gateFeatures(input(gate, broken))).toThrow(/finite embedding/);
  });
});

describe("Gate", () => {
  it("initializes from the seed: projection N(0, 1/√dim), then Xavier 27→32→1", () => {
    const a = Gate.init(Prng.fromSeed(10), 256);
    expect(snapshotBytes(Gate.init(Prng.fromSeed(10), 256))).toEqual(snapshotBytes(a));
    expect(snapshotBytes(Gate.init(Prng.fromSeed(11), 256))).not.toEqual(snapshotBytes(a));
    expect(a.embeddingDim).toBe(256);
    expect(a.updates).toBe(0);
    expect(a.net.layers.map((l) => [l.inputs, l.outputs, l.activation])).toEqual([
      [27, 32, "tanh"],
      [32, 1, "sigmoid"],
    ]);
    const p = Array.from(a.projection);
    expect(p).toHaveLength(16 * 256);
    const sd = Math.sqrt(p.reduce((s, x) => s + x * x, 0) / p.length);
    expect(sd).toBeGreaterThan(0.95 / 16);
    expect(sd).toBeLessThan(1.05 / 16);
  });

  it("trusts the novelty heuristic at first and the network after 200 updates", () => {
    const gate = Gate.init(Prng.fromSeed(12), DIM);
    const features = gateFeatures(input(gate, randomEmbedding(Prng.fromSeed(13)), { novelty: 0.2 }));
    const heuristic = 0.35 + 0.65 * 0.2;
    expect(gate.admitProbability(features, 0.2)).toBeCloseTo(heuristic, 12);
    const zero = logged(gate.plan(features, 0, 0.1));
    for (let i = 0; i < 100; i++) gate.apply(zero);
    const net = gate.net.forward(features);
    expect(net).not.toBeCloseTo(heuristic, 3);
    expect(gate.admitProbability(features, 0.2)).toBeCloseTo((net + heuristic) / 2, 12);
    for (let i = 0; i < 100; i++) gate.apply(zero);
    expect(gate.updates).toBe(GATE_WARMUP_UPDATES);
    expect(gate.updates).toBe(200);
    expect(gate.admitProbability(features, 0.2)).toBe(net);
    expect(gate.admitProbability(features, 1)).toBe(net);
  });

  it("lowers its threshold as acetylcholine (encoding) rises", () => {
    const gate = Gate.init(Prng.fromSeed(14), DIM);
    expect(gate.threshold(0.5)).toBe(0.5);
    expect(gate.threshold(1)).toBeCloseTo(0.35, 12);
    expect(gate.threshold(0)).toBeCloseTo(0.65, 12);
    expect(gate.threshold(0.9)).toBeLessThan(gate.threshold(0.1));
    expect(gate.threshold(10)).toBe(0.2);
    expect(gate.threshold(-10)).toBe(0.8);
  });

  it("plans signed updates without changing itself", () => {
    const gate = Gate.init(Prng.fromSeed(15), DIM);
    const features = gateFeatures(input(gate, randomEmbedding(Prng.fromSeed(16))));
    const before = snapshotBytes(gate);
    const p0 = gate.net.forward(features);
    const up = gate.plan(features, 1, 0.5);
    const down = gate.plan(features, -1, 0.5);
    expect(snapshotBytes(gate)).toEqual(before);
    expect(down[0]!.weights).toEqual(up[0]!.weights.map((x) => -x));

    const raised = Gate.restore(gate.snapshot(), DIM);
    raised.apply(logged(up));
    expect(raised.net.forward(features)).toBeGreaterThan(p0);
    const lowered = Gate.restore(gate.snapshot(), DIM);
    lowered.apply(logged(down));
    expect(lowered.net.forward(features)).toBeLessThan(p0);
  });

  it("learns to admit what was worth it and reject what was not", () => {
    const gate = Gate.init(Prng.fromSeed(17), DIM);
    const prng = Prng.fromSeed(18);
    // Useful memories: important, procedural. Useless: unimportant, working memory chatter.
    const sample = (useful: boolean): Float32Array =>
      gateFeatures(
        input(gate, randomEmbedding(prng), {
          novelty: prng.nextFloat(),
          importance: useful ? 0.8 + 0.2 * prng.nextFloat() : 0.2 * prng.nextFloat(),
          kind: useful ? walV1.MemoryKind.MEMORY_KIND_PROCEDURAL : walV1.MemoryKind.MEMORY_KIND_WORKING,
        }),
      );
    const heldOut = Array.from({ length: 40 }, (_, i) => ({ useful: i % 2 === 0, features: sample(i % 2 === 0) }));
    const gap = (): number => {
      const mean = (useful: boolean): number => {
        const xs = heldOut.filter((x) => x.useful === useful).map((x) => gate.net.forward(x.features));
        return xs.reduce((s, x) => s + x, 0) / xs.length;
      };
      return mean(true) - mean(false);
    };
    expect(Math.abs(gap())).toBeLessThan(0.2);
    for (let step = 0; step < 400; step++) {
      const useful = step % 2 === 0;
      gate.apply(logged(gate.plan(sample(useful), useful ? 1 : -1, 0.5)));
    }
    expect(gap()).toBeGreaterThan(0.5);
    const admitted = heldOut.filter((x) => gate.admitProbability(x.features, 0.5) >= gate.threshold(0.5));
    expect(admitted.every((x) => x.useful)).toBe(true);
    expect(admitted.length).toBeGreaterThan(15);
  });

  it("learns to predict what a kind earns, and plenty of praise for one kind does not lift the others", () => {
    const gate = Gate.init(Prng.fromSeed(24), DIM);
    const prng = Prng.fromSeed(25);
    const sample = (kind: number): Float32Array => gateFeatures(input(gate, randomEmbedding(prng), { novelty: prng.nextFloat(), kind }));
    const SEMANTIC = walV1.MemoryKind.MEMORY_KIND_SEMANTIC;
    const EPISODIC = walV1.MemoryKind.MEMORY_KIND_EPISODIC;
    const WORKING = walV1.MemoryKind.MEMORY_KIND_WORKING;
    const mean = (kind: number): number => {
      let sum = 0;
      for (let i = 0; i < 100; i++) sum += gate.net.forward(sample(kind));
      return sum / 100;
    };
    // Useful memories are recalled and rewarded nine times as often as noise,
    // as once ranking works; a neutral kind (reward 0) is recalled too.
    for (let step = 0; step < 600; step++) {
      const roll = step % 20;
      const [kind, reward] = roll < 18 ? [SEMANTIC, 1] : roll === 18 ? [EPISODIC, -1] : [WORKING, 0];
      gate.apply(logged(gate.learn(sample(kind), reward, 1, 0.1)));
    }
    expect(mean(SEMANTIC)).toBeGreaterThan(0.85);
    expect(mean(EPISODIC)).toBeLessThan(0.3);
    expect(Math.abs(mean(WORKING) - 0.5)).toBeLessThan(0.2);
  });

  it("applies a WAL-decoded record identically to two copies and counts it", () => {
    const live = Gate.init(Prng.fromSeed(19), DIM);
    const replay = Gate.restore(live.snapshot(), DIM);
    const prng = Prng.fromSeed(20);
    for (let step = 0; step < 30; step++) {
      const record = logged(live.plan(gateFeatures(input(live, randomEmbedding(prng))), 2 * prng.nextFloat() - 1, 0.3));
      live.apply(record);
      replay.apply(walV1.GateWeightUpdate.decode(walV1.GateWeightUpdate.encode(record).finish()));
    }
    expect(replay.updates).toBe(30);
    expect(snapshotBytes(replay)).toEqual(snapshotBytes(live));
  });

  it("snapshots and restores exactly", () => {
    const gate = Gate.init(Prng.fromSeed(21), DIM);
    gate.apply(logged(gate.plan(gateFeatures(input(gate, randomEmbedding(Prng.fromSeed(22)))), 1, 0.2)));
    const state = stateV1.LearningState.decode(snapshotBytes(gate));
    const restored = Gate.restore({ gate: state.gate!, projection: state.gateProjection }, DIM);
    expect(restored.updates).toBe(1);
    expect(restored.projection).toEqual(gate.projection);
    expect(snapshotBytes(restored)).toEqual(snapshotBytes(gate));
  });

  it("refuses a record or a checkpoint that does not fit", () => {
    const gate = Gate.init(Prng.fromSeed(23), DIM);
    const before = snapshotBytes(gate);
    expect(() => gate.apply({ layers: [{ layer: 0, weights: [1], biases: [1], full: false }] })).toThrow(/layer 0/);
    expect(gate.updates).toBe(0);
    expect(snapshotBytes(gate)).toEqual(before);

    const snapshot = gate.snapshot();
    expect(() => Gate.restore(snapshot, DIM + 1)).toThrow(/expected 16×65/);
    expect(() => Gate.restore({ gate: undefined, projection: snapshot.projection }, DIM)).toThrow(/no gate network/);
    expect(() => Gate.restore({ ...snapshot, projection: [...snapshot.projection.slice(1), Number.NaN] }, DIM)).toThrow(/non-finite/);
    const eightFeatures = { ...snapshot.gate, layers: [{ ...snapshot.gate.layers[0]!, inputs: 8 }, snapshot.gate.layers[1]!] };
    expect(() => Gate.restore({ ...snapshot, gate: eightFeatures }, DIM)).toThrow(/takes 8 features; expected 27/);
  });
});
