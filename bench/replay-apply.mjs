/**
 * `node bench/replay-apply.mjs` (N=30000 by default): the CPU of replaying REMEMBER records in one
 * process — decode each WAL payload and apply it to a fresh state, as recovery does — over N planned
 * Remembers (384-d, request ids, learned retention, buffer 100). Best of 3 rounds printed each round.
 * A micro-measurement for comparing two builds on one machine (issue #18, item 4), not a figure to assert.
 */
import { walV1 } from "@t4dm/proto";
import { LearningState } from "@t4dm/learning";
import { plannedRememberPayloads } from "./lib/remember-records.mjs";
const payloads = plannedRememberPayloads(Number(process.env.N ?? 30000));
for (let r = 0; r < 3; r++) {
  const replayed = new LearningState();
  const started = process.hrtime.bigint();
  payloads.forEach((payload, i) => replayed.apply(i + 1, walV1.WalEntry.decode(payload)));
  const us = Number(process.hrtime.bigint() - started) / payloads.length / 1000;
  console.log(`${payloads.length} records: ${us.toFixed(2)} µs per record (decode + apply), ${(1e6 / us).toFixed(0)} records/s`);
}
