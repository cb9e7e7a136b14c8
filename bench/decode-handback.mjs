/**
 * `node bench/decode-handback.mjs` (N=20000 by default): whether a worker thread decoding WAL
 * records ahead of the applying thread would relieve it (issue #18, item 4). Over N planned
 * REMEMBER records (384-d, request ids) it measures the applying thread's CPU per record for
 *   - decoding in place: `WalEntry.decode` of each payload, as recovery does today;
 *   - taking decoded records from a worker: the worker decoded every batch (~1 MiB, as the
 *     sidecar streams them) beforehand and posts the decoded entries; the main thread's busy time
 *     while it receives them (structured-clone deserialization; `performance.eventLoopUtilization`)
 *     is what a decode-ahead worker would cost it at best, before it applies anything.
 * Best of R rounds (R=5). A micro-measurement for one machine, not a figure to assert.
 */
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import { performance } from "node:perf_hooks";
import { walV1 } from "@t4dm/proto";

const BATCH_BYTES = 1 << 20;

if (!isMainThread && parentPort) {
  const port = parentPort;
  /** @type {walV1.WalEntry[][]} */
  let decoded = [];
  port.on("message", (/** @type {{ kind: string, batches: Uint8Array[][] }} */ message) => {
    if (message.kind === "decode") {
      decoded = message.batches.map((batch) => batch.map((payload) => walV1.WalEntry.decode(payload)));
      port.postMessage({ kind: "decoded" });
    } else if (message.kind === "send") {
      for (const batch of decoded) port.postMessage({ kind: "batch", entries: batch });
    } else process.exit(0);
  });
} else {
  const { plannedRememberPayloads } = await import("./lib/remember-records.mjs");
  const N = Number(process.env.N ?? 20000), R = Number(process.env.R ?? 5);
  const payloads = plannedRememberPayloads(N);
  // Batches of about 1 MiB, each payload a view into its batch's bytes, as a recovery batch decodes.
  /** @type {Uint8Array[][]} */
  const batches = [];
  for (let at = 0; at < payloads.length;) {
    /** @type {Buffer[]} */
    const batch = [];
    let bytes = 0;
    while (at < payloads.length && bytes < BATCH_BYTES) {
      const payload = /** @type {Buffer} */ (payloads[at++]);
      bytes += payload.length;
      batch.push(payload);
    }
    const joined = Buffer.concat(batch);
    let offset = 0;
    batches.push(batch.map((payload) => joined.subarray(offset, (offset += payload.length))));
  }

  const worker = new Worker(new URL(import.meta.url));
  const next = (/** @type {string} */ kind) => new Promise((resolve) => worker.once("message", (message) => message.kind === kind && resolve(message)));
  let inPlace = Infinity, handBack = Infinity;
  for (let r = 0; r < R; r++) {
    const started = process.hrtime.bigint();
    let decodedCount = 0;
    for (const batch of batches) for (const payload of batch) decodedCount += walV1.WalEntry.decode(payload).operation ? 1 : 0;
    inPlace = Math.min(inPlace, Number(process.hrtime.bigint() - started) / decodedCount / 1000);

    const ready = next("decoded");
    worker.postMessage({ kind: "decode", batches });
    await ready;
    let received = 0;
    const all = new Promise((/** @type {(value?: unknown) => void} */ resolve) => {
      const onMessage = (/** @type {{ kind: string, entries: unknown[] }} */ message) => {
        if (message.kind !== "batch") return;
        received += message.entries.length;
        if (received === payloads.length) worker.off("message", onMessage), resolve();
      };
      worker.on("message", onMessage);
    });
    const before = performance.eventLoopUtilization();
    worker.postMessage({ kind: "send" });
    await all;
    const busy = performance.eventLoopUtilization(before);
    handBack = Math.min(handBack, (busy.active * 1000) / received);
    console.log(`round ${r + 1}: in place ${inPlace.toFixed(2)} µs, from a worker ${handBack.toFixed(2)} µs per record (best so far)`);
  }
  worker.postMessage({ kind: "stop" });
  console.log(`${payloads.length} records (${batches.length} batches of ~1 MiB), best of ${R}: decoding in place costs the applying thread ${inPlace.toFixed(2)} µs per record; receiving them decoded from a worker costs it ${handBack.toFixed(2)} µs (${(handBack / inPlace).toFixed(2)}x)`);
}
