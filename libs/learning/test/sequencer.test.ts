import { describe, expect, it } from "vitest";
import { walV1 } from "@t4dm/proto";
import { embedText, LearningState, planRecall, planReinforce, planRemember, queryTerms, Sequencer, type Operation, type Ready, type SequencedRecord } from "../src/index.js";
import { mulberry32 } from "./support/driver.js";

const WORDS = "alpha beta gamma delta rust go python deploy kubernetes cache latency memory budget invoice tax cat dog".split(" ");
const DIM = 32;

/** A proposal's waiter: which call it is and the records it was given. */
interface Call {
  id: number;
  records: SequencedRecord[];
  barrier: boolean;
}

/**
 * The sidecar as the sequencer sees it: records arrive in LSN order, a prefix
 * of them becomes durable per ack, at its cap it refuses a suffix, and under
 * sync mode none it can lose an acknowledged tail.
 */
class SidecarModel {
  /** Sent, not yet durable, in LSN order. */
  pending: SequencedRecord[] = [];
  durableLsn = 0;
  full = false;
}

/**
 * Drives a Sequencer through a random interleaving of proposals, barriers,
 * partial acks, cap refusals, lost tails with resends and checkpoints, and
 * checks after every step what the readers' state may hold and how waiters
 * settle. `replica` replays exactly the acknowledged records in LSN order,
 * from their bytes: the durable state must equal it (invariant I1).
 */
class Run {
  readonly sequencer: Sequencer<Call>;
  readonly sidecar = new SidecarModel();
  readonly replica = new LearningState();
  /** The acknowledged bytes per LSN: what a replay of the WAL would read. */
  readonly acknowledged = new Map<number, Buffer>();
  readonly settled = new Map<number, "resolved" | "rejected">();
  readonly calls: Call[] = [];
  private lastResolvedLsn = 0;
  private forgottenThrough = 0;
  private highestAssigned = 0;
  private clock = Date.UTC(2026, 0, 1);
  private ids = 0;
  private readonly recalls: { namespace: string; recallId: string }[] = [];
  counts = { resolved: 0, rejected: 0, refusals: 0, resends: 0, gone: 0, refusedAtCap: 0 };

  constructor(
    readonly random: () => number,
    readonly retainLimit: number,
  ) {
    this.sequencer = new Sequencer<Call>(new LearningState(), retainLimit);
    const start: Operation = {
      $case: "systemStart",
      value: { version: "t", recoveryMode: "cold", recoveredLsn: 0, seed: 7, embeddingDim: DIM, bufferCapacity: 5, defaultRetention: walV1.RetentionMode.RETENTION_MODE_LEARNED, learningScope: 0, maxScorerAdaptations: 0 },
    };
    // As the service starts: its SYSTEM_START is durable before any handler plans.
    this.propose([start]);
    this.ack(1);
  }

  step(): void {
    const roll = this.random();
    if (roll < 0.45) this.proposePlan();
    else if (roll < 0.5) this.barrier();
    else if (roll < 0.8) this.ack();
    else if (roll < 0.83) this.refuseAtCap();
    else if (roll < 0.9) this.freeSpace();
    else if (roll < 0.95) this.loseTail();
    else this.checkpoint();
    this.check();
  }

  /** Ends the run: space freed, every record acknowledged; nothing may be left waiting. */
  drain(): void {
    this.sidecar.full = false;
    this.ack(this.sidecar.pending.length);
    this.check();
    expect(this.sequencer.inFlightRecords).toBe(0);
    for (const call of this.calls) expect(this.settled.has(call.id), `call ${call.id} settled`).toBe(true);
    expect(this.sequencer.projected.hash().equals(this.sequencer.durable.hash())).toBe(true);
  }

  private now(): Date {
    this.clock += Math.floor(this.random() * 60_000);
    return new Date(this.clock);
  }

  private text(): string {
    return Array.from({ length: 2 + Math.floor(this.random() * 4) }, () => WORDS[Math.floor(this.random() * WORDS.length)]).join(" ");
  }

  /** A Remember, Recall or Reinforce planned against `projected`, as a handler does. */
  private proposePlan(): void {
    const time = this.now();
    const state = this.sequencer.projected;
    const namespace = this.random() < 0.7 ? "team-a" : "team-b";
    const context = { now: time, newId: () => `id-${++this.ids}` };
    const roll = this.random();
    if (roll < 0.55) {
      const content = this.text();
      const plan = planRemember(
        state,
        { namespace, content, kind: walV1.MemoryKind.MEMORY_KIND_EPISODIC, metadata: {}, importance: this.random(), embedding: embedText(content, DIM), always: this.random() < 0.5, requestId: this.random() < 0.2 ? `req-${this.ids}` : "" },
        context,
      );
      this.propose(plan.operations, time);
    } else if (roll < 0.85 || this.recalls.length === 0) {
      const query = this.text();
      const plan = planRecall(state, { namespace, query: embedText(query, DIM), queryTerms: queryTerms(query), mode: "hybrid", topK: 3, minScore: -1, filter: {} }, context);
      if (this.propose(plan.operations, time)) this.recalls.push({ namespace, recallId: plan.recallId });
    } else {
      const { namespace: ns, recallId } = this.recalls.splice(Math.floor(this.random() * this.recalls.length), 1)[0]!;
      const plan = planReinforce(state, { namespace: ns, recallId, reward: this.random() * 2 - 1, memoryRewards: {} });
      if (plan.found) this.propose(plan.operations, time);
    }
  }

  private propose(operations: readonly Operation[], time = this.now()): boolean {
    if (operations.length === 0) return false;
    const call: Call = { id: this.calls.length, records: [], barrier: false };
    const before = this.sequencer.lastAssignedLsn;
    const proposal = this.sequencer.propose(operations, time, call);
    if (!proposal.accepted) {
      // Refused before sequencing: no LSN given, nothing waits.
      expect(this.sequencer.walFull).toBe(true);
      expect(this.sequencer.lastAssignedLsn).toBe(before);
      this.counts.refusedAtCap += 1;
      return false;
    }
    expect(proposal.records.map((r) => r.lsn)).toEqual(operations.map((_, i) => before + 1 + i));
    call.records = proposal.records;
    this.highestAssigned = Math.max(this.highestAssigned, this.sequencer.lastAssignedLsn);
    this.calls.push(call);
    this.sidecar.pending.push(...proposal.records);
    return true;
  }

  private barrier(): void {
    const call: Call = { id: this.calls.length, records: [], barrier: true };
    if (this.sequencer.barrier(call)) this.calls.push(call);
    else expect(this.sequencer.lastAssignedLsn).toBe(this.sequencer.durable.appliedLsn);
  }

  /** The sidecar makes a prefix of what it received durable and says so. */
  private ack(count = Math.floor(this.random() * (this.sidecar.pending.length + 1))): void {
    for (const record of this.sidecar.pending.splice(0, count)) {
      expect(record.lsn).toBe(this.sidecar.durableLsn + 1);
      this.sidecar.durableLsn = record.lsn;
      const known = this.acknowledged.get(record.lsn);
      if (known) {
        // A resend of a lost record: the same bytes again.
        expect(Buffer.compare(known, record.payload)).toBe(0);
        continue;
      }
      this.acknowledged.set(record.lsn, record.payload);
      this.replica.apply(record.lsn, walV1.WalEntry.decode(record.payload));
    }
    this.take(this.sequencer.acknowledge(this.sidecar.durableLsn, this.sidecar.full));
  }

  /** The WAL reaches its cap: it acks what it has, then refuses every record from one in flight on. */
  private refuseAtCap(): void {
    this.sidecar.full = true;
    this.take(this.sequencer.acknowledge(this.sidecar.durableLsn, true));
    // Records re-sent after a loss were acknowledged once; the cap refuses only new ones.
    const resent = this.sidecar.pending.filter((r) => r.lsn <= this.sequencer.durable.appliedLsn).length;
    const at = resent + Math.floor(this.random() * (this.sidecar.pending.length - resent + 1));
    if (at === this.sidecar.pending.length) return;
    const fromLsn = this.sidecar.pending[at]!.lsn;
    this.sidecar.pending.splice(at);
    const ready = this.sequencer.refuseFrom(fromLsn);
    expect(ready.applied).toEqual([]);
    this.take(ready);
    this.counts.refusals += 1;
    // The sequence continues at fromLsn, from the state the sidecar will have.
    expect(this.sequencer.lastAssignedLsn).toBe(fromLsn - 1);
  }

  private freeSpace(): void {
    this.sidecar.full = false;
    this.take(this.sequencer.acknowledge(this.sidecar.durableLsn, false));
  }

  /** Sync mode none: the sidecar comes back without an acknowledged tail; what it lost is sent again. */
  private loseTail(): void {
    if (this.sidecar.durableLsn === 0) return;
    const expected = 1 + Math.floor(this.random() * this.sidecar.durableLsn);
    const applied = this.sequencer.durable.appliedLsn;
    const lost = this.sequencer.lost(expected);
    if (expected > applied) {
      expect(lost.kind).toBe("none-lost");
      return;
    }
    if (lost.kind === "gone") {
      // Only what a checkpoint covers, or what the bound (on records proposed) let go of, is no longer retained.
      expect(expected <= this.forgottenThrough || this.highestAssigned - expected >= this.retainLimit).toBe(true);
      this.counts.gone += 1;
      return;
    }
    expect(lost.kind).toBe("resend");
    if (lost.kind !== "resend") return;
    expect(lost.records.map((r) => r.lsn)).toEqual(Array.from({ length: applied - expected + 1 }, (_, i) => expected + i));
    for (const record of lost.records) expect(Buffer.compare(record.payload, this.acknowledged.get(record.lsn)!)).toBe(0);
    expect(this.sequencer.sidecarDurableLsn).toBe(expected - 1);
    // As the stream does: they go in front of what it still had unacknowledged.
    const first = this.sidecar.pending[0]?.lsn ?? Infinity;
    this.sidecar.durableLsn = expected - 1;
    this.sidecar.pending = [...lost.records.filter((r) => r.lsn < first), ...this.sidecar.pending];
    this.counts.resends += 1;
  }

  /** A checkpoint at the applied LSN committed. */
  private checkpoint(): void {
    this.forgottenThrough = this.sequencer.durable.appliedLsn;
    this.sequencer.forgetThrough(this.forgottenThrough);
  }

  private take(ready: Ready<Call>): void {
    for (const { waiter, lsn } of ready.resolved) {
      expect(this.settled.has(waiter.id), `call ${waiter.id} settles once`).toBe(false);
      this.settled.set(waiter.id, "resolved");
      this.counts.resolved += 1;
      expect(lsn).toBeGreaterThanOrEqual(this.lastResolvedLsn);
      this.lastResolvedLsn = lsn;
      // Told "durable": its records are what the WAL holds, and the readers' state has them.
      expect(lsn).toBeLessThanOrEqual(this.sequencer.durable.appliedLsn);
      for (const record of waiter.records) expect(Buffer.compare(record.payload, this.acknowledged.get(record.lsn)!)).toBe(0);
    }
    for (const waiter of ready.rejected) {
      expect(this.settled.has(waiter.id), `call ${waiter.id} settles once`).toBe(false);
      expect(waiter.barrier).toBe(false);
      this.settled.set(waiter.id, "rejected");
      this.counts.rejected += 1;
    }
    for (const { lsn, entry } of ready.applied) expect(Buffer.from(walV1.WalEntry.encode(entry).finish()).equals(this.acknowledged.get(lsn)!)).toBe(true);
  }

  private check(): void {
    const durable = this.sequencer.durable;
    // Readers never hold a record the sidecar has not acknowledged...
    expect(durable.appliedLsn).toBe(this.replica.appliedLsn);
    // ...and hold exactly what a replay of the acknowledged records gives (I1).
    expect(durable.hash().equals(this.replica.hash()), `durable at LSN ${durable.appliedLsn} equals the replay`).toBe(true);
  }
}

describe("the sequencer keeps readers on exactly the acknowledged records (I1 as a unit property)", () => {
  it("for random interleavings of proposals, partial acks, cap refusals, lost tails and checkpoints", () => {
    const totals = { resolved: 0, rejected: 0, refusals: 0, resends: 0, gone: 0, refusedAtCap: 0 };
    for (let seed = 1; seed <= 40; seed++) {
      const random = mulberry32(seed);
      const run = new Run(random, seed % 4 === 0 ? 8 : 100_000);
      for (let i = 0; i < 60; i++) run.step();
      run.drain();
      for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += run.counts[key];
    }
    // Every path was taken, many times over.
    for (const [path, count] of Object.entries(totals)) expect(count, path).toBeGreaterThan(5);
  });

  it("a barrier refused nothing of its own: a cap refusal moves it to what remains, and it resolves", () => {
    const run = new Run(mulberry32(7), 100);
    const { sequencer } = run;
    const time = new Date(Date.UTC(2026, 0, 2));
    const first = { id: 1, records: [], barrier: false };
    const second = { id: 2, records: [], barrier: false };
    const barrier = { id: 3, records: [], barrier: true };
    const neuro = (value: number): Operation => ({ $case: "serotoninMood", value: { mood: value, reward: value } });
    sequencer.propose([neuro(0.1)], time, first);
    const proposal = sequencer.propose([neuro(0.2), neuro(0.3)], time, second);
    expect(sequencer.barrier(barrier)).toBe(true);
    const refusedFrom = proposal.accepted ? proposal.records[1]!.lsn : 0;
    const ready = sequencer.refuseFrom(refusedFrom);
    expect(ready.dropped).toBe(1);
    // The whole call fails (one of its records will never be durable); the barrier stays.
    expect(ready.rejected).toEqual([second]);
    expect(ready.resolved).toEqual([]);
    expect(sequencer.lastAssignedLsn).toBe(refusedFrom - 1);
    // Refused at the cap before it gets an LSN; the cap-exempt shutdown is taken.
    expect(sequencer.propose([neuro(0.4)], time, { id: 4, records: [], barrier: false })).toEqual({ accepted: false, reason: "wal-full" });
    expect(sequencer.propose([{ $case: "systemShutdown", value: { reason: "test" } }], time, { id: 5, records: [], barrier: false }).accepted).toBe(true);
    const acked = sequencer.acknowledge(refusedFrom - 1, true);
    expect(acked.resolved.map((s) => s.waiter.id)).toEqual([1, 3]);
  });
});

describe("a record's effect is built once for the projected and the durable state", () => {
  it("the durable apply reuses the buffered memory the projected apply built, and later changes to one never reach the other", () => {
    const run = new Run(mulberry32(3), 100);
    const { sequencer } = run;
    const time = new Date(Date.UTC(2026, 0, 2));
    const content = "the deploy script is tools/deploy.sh";
    const plan = planRemember(
      sequencer.projected,
      { namespace: "team-a", content, kind: walV1.MemoryKind.MEMORY_KIND_EPISODIC, metadata: { b: 1, a: 2 }, importance: 0.9, embedding: embedText(content, DIM), always: true, requestId: "req-1" },
      { now: time, newId: () => "m-1" },
    );
    const add = sequencer.propose(plan.operations, time, { id: 1, records: [], barrier: false });
    if (!add.accepted) throw new Error("refused");
    // Changed in the projected state only, while the add becomes durable and these stay in flight.
    const other = embedText("something else entirely", DIM);
    sequencer.propose(
      [
        { $case: "memoryMerge", value: { namespace: "team-a", intoId: "m-1", mergedId: "", metadata: { c: 3 }, importance: 0.1, evidence: 0.2, requestId: "", requestBodySha256: new Uint8Array(0) } },
        { $case: "bufferReembed", value: { memories: [{ memoryId: "m-1", embedding: Array.from(other), embeddingF32: new Uint8Array(0) }] } },
      ],
      time,
      { id: 2, records: [], barrier: false },
    );
    sequencer.acknowledge(add.records[add.records.length - 1]!.lsn, false);

    const durable = sequencer.durable.buffer.get("m-1")!;
    const projected = sequencer.projected.buffer.get("m-1")!;
    expect(durable.memory.importance).toBeCloseTo(0.9);
    expect(projected.memory.importance).toBeCloseTo(0.1);
    expect(Array.from(projected.embedding)).not.toEqual(Array.from(durable.embedding));
    // Readers hold exactly the replay of the acknowledged add.
    const replay = new LearningState();
    for (const [lsn, payload] of run.acknowledged) replay.apply(lsn, walV1.WalEntry.decode(payload));
    for (const record of add.records) replay.apply(record.lsn, walV1.WalEntry.decode(record.payload));
    expect(sequencer.durable.hash().equals(replay.hash())).toBe(true);
    // Before the merge, both states held the one memory object the projected apply built.
    const bothBuilt = new Sequencer<number>(replay, 10);
    const second = planRemember(bothBuilt.projected, { namespace: "team-b", content: "another memory", kind: walV1.MemoryKind.MEMORY_KIND_EPISODIC, metadata: {}, importance: 0.5, embedding: embedText("another memory", DIM), always: true, requestId: "req-2" }, { now: time, newId: () => "m-2" });
    const proposed = bothBuilt.propose(second.operations, time, 1);
    if (!proposed.accepted) throw new Error("refused");
    bothBuilt.acknowledge(proposed.records[proposed.records.length - 1]!.lsn, false);
    expect(bothBuilt.durable.buffer.get("m-2")!.memory).toBe(bothBuilt.projected.buffer.get("m-2")!.memory);
    expect(bothBuilt.durable.buffer.get("m-2")!.embedding).toBe(bothBuilt.projected.buffer.get("m-2")!.embedding);
    // So did the request key's body hash (logged in the record) and the cluster's centroid.
    expect(bothBuilt.durable.requestKeys.get("team-b", "req-2")!.bodySha256).toBe(bothBuilt.projected.requestKeys.get("team-b", "req-2")!.bodySha256);
    const centroidIn = (state: LearningState) => (state.clusters as unknown as { namespaces: Map<string, { centroid: Float32Array }[]> }).namespaces.get("team-b")![0]!.centroid;
    expect(centroidIn(bothBuilt.durable)).toBe(centroidIn(bothBuilt.projected));
  });
});
