/**
 * `node bench/replay-apply.mjs` (N=30000 by default): the CPU of replaying REMEMBER records in one
 * process — decode each WAL payload and apply it to a fresh state, as recovery does — over N planned
 * Remembers (384-d, request ids, learned retention, buffer 100). Best of 3 rounds printed each round.
 * A micro-measurement for comparing two builds on one machine (issue #18, item 4), not a figure to assert.
 */
import { walV1 } from "@t4dm/proto";
import { embedText, encodeEntry, LearningState, planRemember } from "@t4dm/learning";
const DIM = 384, N = Number(process.env.N ?? 30000);
const state = new LearningState();
let lsn = 0, clock = Date.UTC(2026, 0, 1), ids = 0;
/** @type {Buffer[]} */
const payloads = [];
/** @param {import("@t4dm/learning").Operation} op @param {Date} time */
const push = (op, time) => { const e = encodeEntry(op, time); state.apply(++lsn, e.entry); payloads.push(e.payload); };
push({ $case: "systemStart", value: { version: "t", recoveryMode: "cold", recoveredLsn: 0, seed: 7, embeddingDim: DIM, bufferCapacity: 100, defaultRetention: 2, learningScope: 0, maxScorerAdaptations: 0 } }, new Date(clock));
const words = "alpha beta gamma delta rust go python deploy kubernetes cache latency memory budget invoice tax cat dog".split(" ");
let seed = 1; const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
for (let i = 0; i < N; i++) {
  const time = new Date((clock += 1000));
  const content = Array.from({ length: 40 }, () => words[Math.floor(rnd() * words.length)]).join(" ");
  const plan = planRemember(state, { namespace: "bench", content, kind: walV1.MemoryKind.MEMORY_KIND_EPISODIC, metadata: { source: "bench", n: i }, importance: 0, embedding: embedText(content + i, DIM), always: true, requestId: `r${i}` }, { now: time, newId: () => `id-${++ids}` });
  for (const op of plan.operations) push(op, time);
}
for (let r = 0; r < 3; r++) {
  const replayed = new LearningState();
  const started = process.hrtime.bigint();
  payloads.forEach((payload, i) => replayed.apply(i + 1, walV1.WalEntry.decode(payload)));
  const us = Number(process.hrtime.bigint() - started) / payloads.length / 1000;
  console.log(`${payloads.length} records: ${us.toFixed(2)} µs per record (decode + apply), ${(1e6 / us).toFixed(0)} records/s`);
}
