/**
 * `node bench/apply-twice.mjs` (REQUEST_IDS=1 to give every Remember a request id): the CPU
 * of applying one REMEMBER record to the projected state when proposed, and of applying the
 * same decoded entry to the durable state when acknowledged (issue #18, item 1). Each round
 * decodes fresh entries from the WAL bytes, as the service does per record; best of R rounds.
 * A micro-measurement for comparing two builds on one machine, not a figure to assert.
 */
import { walV1 } from "@t4dm/proto";
import { BuiltEffects, embedText, encodeEntry, LearningState, planRemember } from "@t4dm/learning";
const DIM = 384, N = 2000, R = Number(process.env.R ?? 10);
const state = new LearningState();
let lsn = 0, clock = Date.UTC(2026, 0, 1), ids = 0;
state.apply(++lsn, encodeEntry({ $case: "systemStart", value: { version: "t", recoveryMode: "cold", recoveredLsn: 0, seed: 7, embeddingDim: DIM, bufferCapacity: 100, defaultRetention: 0, learningScope: 0, maxScorerAdaptations: 0 } }, new Date(clock)).entry);
const base = state.encode();
const words = "alpha beta gamma delta rust go python deploy kubernetes cache latency memory budget invoice tax cat dog".split(" ");
let seed = 1; const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const payloads = [];
for (let i = 0; i < N; i++) {
  const time = new Date((clock += 1000));
  const content = Array.from({ length: 40 }, () => words[Math.floor(rnd() * words.length)]).join(" ");
  const plan = planRemember(state, { namespace: "bench", content, kind: walV1.MemoryKind.MEMORY_KIND_EPISODIC, metadata: { source: "bench", n: i }, importance: rnd(), embedding: embedText(content + i, DIM), always: true, requestId: process.env.REQUEST_IDS ? `r${i}` : "" }, { now: time, newId: () => `id-${++ids}` });
  for (const op of plan.operations) { const e = encodeEntry(op, time); state.apply(++lsn, e.entry); payloads.push(e.payload); }
}
let first = Infinity, second = Infinity;
for (let r = 0; r < R; r++) {
  const entries = payloads.map((p) => walV1.WalEntry.decode(p));
  // As the sequencer does: one BuiltEffects per record, filled by the first apply, taken by the second.
  const built = entries.map(() => new BuiltEffects());
  const a = LearningState.decode(base), b = LearningState.decode(base);
  let t = process.hrtime.bigint();
  entries.forEach((e, i) => a.apply(i + 2, e, built[i]));
  first = Math.min(first, Number(process.hrtime.bigint() - t) / N / 1000);
  t = process.hrtime.bigint();
  entries.forEach((e, i) => b.apply(i + 2, e, built[i]));
  second = Math.min(second, Number(process.hrtime.bigint() - t) / N / 1000);
  if (!a.hash().equals(b.hash())) throw new Error("states differ");
}
console.log(`${N} REMEMBER records (384-d, buffer 100${process.env.REQUEST_IDS ? ", request ids" : ""}), best of ${R}: first apply ${first.toFixed(1)} µs, second apply of the same entry ${second.toFixed(1)} µs per record`);
