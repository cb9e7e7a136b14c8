import { stateV1, walV1 } from "@t4dm/proto";
import { describe, expect, it } from "vitest";
import { type Activation, Mlp, scaledDeltas } from "../src/mlp.js";
import { Prng } from "../src/prng.js";

function bytes(net: Mlp, updates = 0): Uint8Array {
  return stateV1.Network.encode(net.toProto(updates)).finish();
}

function clone(net: Mlp, activations: readonly Activation[]): Mlp {
  return Mlp.fromProto(stateV1.Network.decode(stateV1.Network.encode(net.toProto(0)).finish()), activations);
}

/** What the WAL does to a record: float32 encode, then decode. */
function viaWal(layers: walV1.LayerUpdate[]): walV1.LayerUpdate[] {
  return walV1.GateWeightUpdate.decode(walV1.GateWeightUpdate.encode({ layers }).finish()).layers;
}

function randomInput(prng: Prng, n: number): number[] {
  return Array.from({ length: n }, () => 2 * prng.nextFloat() - 1);
}

describe("Mlp.gradient", () => {
  const cases: { name: string; sizes: number[]; activations: Activation[] }[] = [
    { name: "tanh → sigmoid (the gate)", sizes: [6, 5, 1], activations: ["tanh", "sigmoid"] },
    { name: "tanh → linear (the scorer)", sizes: [4, 7, 1], activations: ["tanh", "linear"] },
    { name: "three layers, every activation", sizes: [5, 4, 3, 1], activations: ["sigmoid", "tanh", "linear"] },
  ];

  for (const { name, sizes, activations } of cases) {
    it(`matches central finite differences: ${name}`, () => {
      const prng = Prng.fromSeed(11);
      const net = Mlp.xavier(sizes, activations, prng);
      // Non-zero biases so their gradients are exercised away from the init point.
      for (const layer of net.layers) for (let j = 0; j < layer.biases.length; j++) layer.biases[j] = 0.3 * (2 * prng.nextFloat() - 1);
      const input = randomInput(prng, sizes[0]!);
      const gradient = net.gradient(input);
      expect(gradient.map((g) => [g.weights.length, g.biases.length])).toEqual(net.layers.map((l) => [l.weights.length, l.biases.length]));

      let checked = 0;
      net.layers.forEach((layer, l) => {
        for (const [params, analytic] of [
          [layer.weights, gradient[l]!.weights],
          [layer.biases, gradient[l]!.biases],
        ] as const) {
          for (let i = 0; i < params.length; i++) {
            const original = params[i]!;
            // Parameters are float32, so measure the step actually taken.
            params[i] = original + 1e-3;
            const up = params[i]!;
            const fUp = net.forward(input);
            params[i] = original - 1e-3;
            const down = params[i]!;
            const fDown = net.forward(input);
            params[i] = original;
            const numeric = (fUp - fDown) / (up - down);
            expect(Math.abs(analytic[i]! - numeric)).toBeLessThan(1e-5 + 1e-4 * Math.abs(numeric));
            checked++;
          }
        }
      });
      expect(checked).toBe(net.layers.reduce((n, l) => n + l.weights.length + l.biases.length, 0));
      // A gradient of all zeros would pass the comparison trivially.
      expect(gradient.every((g) => g.weights.some((x) => Math.abs(x) > 1e-4))).toBe(true);
    });
  }

  it("gives the pre-activation gradient on request: the output gradient without the last squashing", () => {
    for (const activations of [["tanh", "sigmoid"], ["tanh", "tanh"]] as Activation[][]) {
      const prng = Prng.fromSeed(12);
      const net = Mlp.xavier([6, 5, 1], activations, prng);
      const input = randomInput(prng, 6);
      const out = net.forward(input);
      const squash = activations[1] === "sigmoid" ? out * (1 - out) : 1 - out * out;
      const gradient = net.gradient(input);
      const pre = net.gradient(input, { preActivation: true });
      expect(pre[1]!.biases[0]).toBe(1);
      pre.forEach((layer, l) => {
        layer.weights.forEach((g, i) => expect(g * squash).toBeCloseTo(gradient[l]!.weights[i]!, 12));
        layer.biases.forEach((g, i) => expect(g * squash).toBeCloseTo(gradient[l]!.biases[i]!, 12));
      });
    }
  });

  it("rejects an input of the wrong size", () => {
    const net = Mlp.xavier([3, 2, 1], ["tanh", "sigmoid"], Prng.fromSeed(1));
    expect(() => net.forward([1, 2])).toThrow(/expects 3 inputs, got 2/);
    expect(() => net.gradient([1, 2, 3, 4])).toThrow(/expects 3 inputs, got 4/);
  });
});

describe("Mlp.xavier", () => {
  it("draws Glorot-uniform weights within ±√(6/(fan_in+fan_out)) and zero biases", () => {
    const net = Mlp.xavier([27, 32, 1], ["tanh", "sigmoid"], Prng.fromSeed(3));
    expect(net.layers.map((l) => [l.inputs, l.outputs, l.activation])).toEqual([
      [27, 32, "tanh"],
      [32, 1, "sigmoid"],
    ]);
    for (const layer of net.layers) {
      const limit = Math.sqrt(6 / (layer.inputs + layer.outputs));
      const weights = Array.from(layer.weights);
      expect(Math.max(...weights.map(Math.abs))).toBeLessThanOrEqual(Math.fround(limit));
      // Actually spread over the interval, not squeezed near 0.
      expect(Math.max(...weights)).toBeGreaterThan(0.85 * limit);
      expect(Math.min(...weights)).toBeLessThan(-0.85 * limit);
      expect(Array.from(layer.biases).every((b) => b === 0)).toBe(true);
    }
    // Variance of U(−a, a) is a²/3 = 2/(fan_in+fan_out).
    const first = Array.from(net.layers[0]!.weights);
    const variance = first.reduce((s, w) => s + w * w, 0) / first.length;
    expect(variance).toBeGreaterThan(0.8 * (2 / 59));
    expect(variance).toBeLessThan(1.2 * (2 / 59));
  });

  it("is a function of the seed", () => {
    const a = Mlp.xavier([8, 16, 1], ["tanh", "linear"], Prng.fromSeed(21));
    const b = Mlp.xavier([8, 16, 1], ["tanh", "linear"], Prng.fromSeed(21));
    const c = Mlp.xavier([8, 16, 1], ["tanh", "linear"], Prng.fromSeed(22));
    expect(bytes(a)).toEqual(bytes(b));
    expect(bytes(a)).not.toEqual(bytes(c));
  });

  it("zeroLastLayer starts the output at exactly zero", () => {
    const prng = Prng.fromSeed(4);
    const net = Mlp.xavier([8, 16, 1], ["tanh", "linear"], prng, { zeroLastLayer: true });
    expect(Array.from(net.layers[1]!.weights).every((w) => w === 0)).toBe(true);
    expect(Array.from(net.layers[0]!.weights).some((w) => w !== 0)).toBe(true);
    for (let i = 0; i < 20; i++) expect(net.forward(randomInput(prng, 8))).toBe(0);
  });

  it("rejects shapes that are not a chain ending in one output", () => {
    const prng = Prng.fromSeed(1);
    expect(() => Mlp.xavier([4, 3, 2], ["tanh", "tanh"], prng)).toThrow(/one output/);
    expect(() => Mlp.xavier([4, 3, 1], ["tanh"], prng)).toThrow(/one activation per layer/);
    expect(() => Mlp.xavier([4, 0, 1], ["tanh", "tanh"], prng)).toThrow(/positive integers/);
  });
});

describe("Mlp.apply", () => {
  const activations: Activation[] = ["tanh", "sigmoid"];

  it("adds float32 deltas: w ← fround(w + fround(Δ))", () => {
    const prng = Prng.fromSeed(8);
    const net = Mlp.xavier([3, 2, 1], activations, prng);
    const before = net.layers.map((l) => ({ w: Array.from(l.weights), b: Array.from(l.biases) }));
    // Doubles on purpose: apply must round them exactly as the WAL would.
    const update: walV1.LayerUpdate = { layer: 0, weights: [0.1, -0.2, 1e-9, 0.3, 0.123456789, -1], biases: [0.5, -0.25], full: false };
    net.apply([update]);
    net.layers[0]!.weights.forEach((w, i) => expect(w).toBe(Math.fround(before[0]!.w[i]! + Math.fround(update.weights[i]!))));
    net.layers[0]!.biases.forEach((b, i) => expect(b).toBe(Math.fround(before[0]!.b[i]! + update.biases[i]!)));
    expect(Array.from(net.layers[1]!.weights)).toEqual(before[1]!.w);
  });

  it("replaces values when full is set", () => {
    const net = Mlp.xavier([3, 2, 1], activations, Prng.fromSeed(8));
    net.apply([{ layer: 1, weights: [0.1, 0.2], biases: [0.3], full: true }]);
    expect(Array.from(net.layers[1]!.weights)).toEqual([Math.fround(0.1), Math.fround(0.2)]);
    expect(Array.from(net.layers[1]!.biases)).toEqual([Math.fround(0.3)]);
  });

  it("gives the same bits whether the record is applied as planned or after a WAL round trip", () => {
    const prng = Prng.fromSeed(9);
    const live = Mlp.xavier([6, 5, 1], activations, prng);
    const replay = clone(live, activations);
    for (let step = 0; step < 50; step++) {
      const input = randomInput(prng, 6);
      const record = scaledDeltas(live.gradient(input), 0.37 * (2 * prng.nextFloat() - 1));
      const logged = viaWal(record);
      expect(logged).toEqual(record); // the planner already rounded to float32
      live.apply(record);
      replay.apply(logged);
    }
    expect(bytes(replay)).toEqual(bytes(live));
  });

  it("throws on a record that does not fit, and changes nothing", () => {
    const net = Mlp.xavier([3, 2, 1], activations, Prng.fromSeed(10));
    const before = bytes(net);
    const good: walV1.LayerUpdate = { layer: 0, weights: [1, 1, 1, 1, 1, 1], biases: [1, 1], full: false };
    const bad: [walV1.LayerUpdate, RegExp][] = [
      [{ layer: 1, weights: [1, 1, 1], biases: [1], full: false }, /has 3 weights and 1 biases; the layer \(2→1\) has 2 and 1/],
      [{ layer: 1, weights: [1, 1], biases: [], full: false }, /has 2 weights and 0 biases/],
      [{ layer: 1, weights: [], biases: [], full: true }, /has 0 weights and 0 biases/],
      [{ layer: 2, weights: [1], biases: [1], full: false }, /layer 2; the network has 2/],
      [{ layer: 1, weights: [Number.NaN, 0], biases: [0], full: false }, /non-finite/],
      [{ layer: 1, weights: [1e39, 0], biases: [0], full: false }, /non-finite/], // beyond float32
      [good, /layer 0 twice/],
    ];
    for (const [update, message] of bad) {
      // The valid first update must not be applied when a later one is rejected.
      expect(() => net.apply([good, update])).toThrow(message);
      expect(bytes(net)).toEqual(before);
    }
    // A sum that overflows float32 is as corrupt as a NaN.
    net.apply([{ layer: 1, weights: [3e38, 0], biases: [0], full: true }]);
    expect(() => net.apply([{ layer: 1, weights: [3e38, 0], biases: [0], full: false }])).toThrow(/non-finite/);
  });
});

describe("Mlp.toProto / fromProto", () => {
  const activations: Activation[] = ["sigmoid", "tanh", "linear"];

  it("round-trips exactly through the encoded checkpoint", () => {
    const prng = Prng.fromSeed(12);
    const net = Mlp.xavier([5, 4, 3, 1], activations, prng);
    net.apply(scaledDeltas(net.gradient(randomInput(prng, 5)), 0.5));
    const encoded = bytes(net, 17);
    const decoded = stateV1.Network.decode(encoded);
    expect(decoded.updates).toBe(17);
    const restored = Mlp.fromProto(decoded, activations);
    expect(bytes(restored, 17)).toEqual(encoded);
    restored.layers.forEach((layer, l) => {
      expect(layer.activation).toBe(activations[l]);
      expect(layer.weights).toEqual(net.layers[l]!.weights);
      expect(layer.biases).toEqual(net.layers[l]!.biases);
    });
    const input = randomInput(prng, 5);
    expect(restored.forward(input)).toBe(net.forward(input));
  });

  it("live and checkpoint-plus-replay end in identical bytes", () => {
    const prng = Prng.fromSeed(13);
    const live = Mlp.xavier([6, 5, 1], ["tanh", "sigmoid"], prng);
    const log: walV1.LayerUpdate[][] = [];
    let checkpoint: Uint8Array | undefined;
    for (let step = 0; step < 40; step++) {
      if (step === 15) checkpoint = bytes(live, step);
      const record = viaWal(scaledDeltas(live.gradient(randomInput(prng, 6)), 2 * prng.nextFloat() - 1));
      log.push(record);
      live.apply(record);
    }
    const replay = Mlp.fromProto(stateV1.Network.decode(checkpoint!), ["tanh", "sigmoid"]);
    for (const record of log.slice(15)) replay.apply(record);
    expect(bytes(replay)).toEqual(bytes(live));
  });

  it("rejects a checkpoint that does not describe a valid network", () => {
    const net = Mlp.xavier([3, 2, 1], ["tanh", "sigmoid"], Prng.fromSeed(14)).toProto(0);
    const layer0 = net.layers[0]!;
    const layer1 = net.layers[1]!;
    expect(() => Mlp.fromProto(net, ["tanh"])).toThrow(/2 layers; expected 1/);
    expect(() => Mlp.fromProto({ ...net, layers: [{ ...layer0, weights: layer0.weights.slice(1) }, layer1] }, ["tanh", "sigmoid"])).toThrow(
      /5 weights/,
    );
    expect(() => Mlp.fromProto({ ...net, layers: [layer0, { ...layer1, inputs: 3, weights: [0, 0, 0] }] }, ["tanh", "sigmoid"])).toThrow(
      /takes 3 inputs but layer 0 gives 2/,
    );
    expect(() => Mlp.fromProto({ ...net, layers: [layer0, { ...layer1, biases: [Number.NaN] }] }, ["tanh", "sigmoid"])).toThrow(/non-finite/);
    expect(() => Mlp.fromProto({ ...net, layers: [] }, [])).toThrow(/at least one layer/);
  });
});

describe("scaledDeltas", () => {
  it("is scale × gradient rounded to float32, as a delta", () => {
    const gradient = [{ weights: Float64Array.of(1, -2, 1 / 3), biases: Float64Array.of(0.1) }];
    expect(scaledDeltas(gradient, 0.5)).toEqual([
      { layer: 0, weights: [0.5, -1, Math.fround(1 / 6)], biases: [Math.fround(0.05)], full: false },
    ]);
  });

  it("refuses a scale or a result a float32 record cannot carry", () => {
    const gradient = [{ weights: Float64Array.of(1e30), biases: Float64Array.of(0) }];
    expect(() => scaledDeltas(gradient, Number.NaN)).toThrow(/finite/);
    expect(() => scaledDeltas(gradient, 1e10)).toThrow(/overflows float32/);
  });
});
