// @ts-check
/**
 * Load shared by bench/recovery.mjs and bench/checkpoint.mjs: seeded
 * Remember requests (client-made 384-d embeddings, ~256 B content, admission
 * ALWAYS), and the calls that fill the WAL or the learning state through the
 * real memory service. Only public RPCs are used, as a user would.
 */
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { call, connectClients, connectSidecar, mulberry32 } from "@t4dm/testkit";
import { memoryV1 } from "@t4dm/proto";
import { content, unitVectors } from "./remember-load.mjs";

export const DIM = 384;
export const CONTENT_BYTES = 256;
/** The memory service's default T4DM_MAX_BATCH_SIZE. */
export const MAX_BATCH = 100;

/** A seeded source of Remember requests. Pure apart from its PRNG state. @param {number} seed */
export function requestMaker(seed) {
  const rng = mulberry32(seed);
  let serial = 0;
  /** A unit-length vector of `DIM` floats with uniform components: every memory novel. */
  const embedding = () => /** @type {number[]} */ (unitVectors(rng, 1, DIM)[0]);
  return {
    embedding,
    /**
     * @param {string} namespace
     * @param {{ requestId?: boolean, importance?: number }} [options] requestId: set an idempotency key (fills the
     *   state's request-key table); importance: fixed instead of uniform in [0, 1)
     * @returns {import("@t4dm/proto").memoryV1.RememberRequest}
     */
    remember(namespace, options = {}) {
      serial += 1;
      return memoryV1.RememberRequest.fromPartial({
        namespace,
        content: content(rng, `#${serial}`, CONTENT_BYTES),
        embedding: embedding(),
        importance: options.importance ?? rng(),
        admission: memoryV1.AdmissionMode.ADMISSION_MODE_ALWAYS,
        requestId: options.requestId ? `bench-${seed}-${serial}` : "",
      });
    },
  };
}

/** @typedef {ReturnType<typeof connectClients>} Clients */

/** Admin GetStatus. @param {Clients} clients */
export function adminStatus(clients) {
  return call(clients.admin.getStatus.bind(clients.admin), {});
}

/** The sidecar's own GetStatus (WAL bytes, durable LSN). @param {string} sidecarAddr */
export async function sidecarStatus(sidecarAddr) {
  const client = connectSidecar(sidecarAddr);
  try {
    return await call(client.getStatus.bind(client), {});
  } finally {
    client.close();
  }
}

/**
 * Runs `callers` loops of BatchRemember (`batch` requests each, spread over
 * `namespaces` round-robin) until `done(highestLsn)` says so. Resolves with
 * the number of memories remembered and the highest LSN any response carried.
 * @param {Clients} clients
 * @param {{ seed: number, callers: number, batch: number, namespaces: string[], requestIds?: boolean, importance?: number,
 *   done: (highestLsn: number, remembered: number) => boolean }} options
 */
export async function rememberUntil(clients, { seed, callers, batch, namespaces, requestIds = false, importance, done }) {
  const maker = requestMaker(seed);
  let highestLsn = 0;
  let remembered = 0;
  let turn = 0;
  const batchRemember = clients.memory.batchRemember.bind(clients.memory);
  const loops = Array.from({ length: callers }, async () => {
    while (!done(highestLsn, remembered)) {
      const requests = Array.from({ length: batch }, () => maker.remember(namespaces[turn++ % namespaces.length] ?? "bench", { requestId: requestIds, importance }));
      const response = await call(batchRemember, memoryV1.BatchRememberRequest.fromPartial({ requests }));
      for (const r of response.responses) highestLsn = Math.max(highestLsn, Number(r.lsn));
      remembered += response.responses.length;
    }
  });
  await Promise.all(loops);
  return { remembered, highestLsn };
}

/**
 * Fills the learning state towards its capacities with public calls:
 * `memories` memories into the buffer (with idempotency keys, over `namespaces`,
 * which also fills every namespace's clusters), then `recalls` recalls (the
 * newest of which keep eligibility traces) of which every other one is
 * reinforced (weight updates, dopamine expectations per context, evidence).
 * @param {Clients} clients
 * @param {{ seed: number, memories: number, namespaces: string[], recalls: number, callers?: number }} options
 */
export async function fillState(clients, { seed, memories, namespaces, recalls, callers = 4 }) {
  const started = Date.now();
  const batch = Math.min(MAX_BATCH, Math.max(1, Math.ceil(memories / callers)));
  // Exactly `memories`: with the buffer's capacity at least that, nothing is evicted.
  let claimed = 0;
  const maker = requestMaker(seed);
  let turn = 0;
  const batchRemember = clients.memory.batchRemember.bind(clients.memory);
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (claimed < memories) {
        const n = Math.min(batch, memories - claimed);
        claimed += n;
        const requests = Array.from({ length: n }, () => maker.remember(namespaces[turn++ % namespaces.length] ?? "bench", { requestId: true }));
        await call(batchRemember, memoryV1.BatchRememberRequest.fromPartial({ requests }));
      }
    }),
  );
  const rememberMs = Date.now() - started;
  const recall = clients.memory.recall.bind(clients.memory);
  const reinforce = clients.memory.reinforce.bind(clients.memory);
  let next = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < recalls) {
        const i = next++;
        const namespace = namespaces[i % namespaces.length] ?? "bench";
        const response = await call(recall, memoryV1.RecallRequest.fromPartial({ namespace, queryEmbedding: maker.embedding(), topK: 10 }));
        // Reinforce every other recall; the rest keep their traces.
        if (i % 2 === 0) await call(reinforce, memoryV1.ReinforceRequest.fromPartial({ namespace, recallId: response.recallId, reward: i % 4 === 0 ? 1 : -0.5 }));
      }
    }),
  );
  return { remembered: memories, recalls, rememberMs, recallMs: Date.now() - started - rememberMs };
}

/** Sizes of the files directly in `dir` matching `pattern`, in bytes. @param {string} dir @param {RegExp} pattern */
export function filesBytes(dir, pattern) {
  let total = 0;
  /** @type {{ name: string, bytes: number }[]} */
  const files = [];
  for (const name of readdirSync(dir)) {
    if (!pattern.test(name)) continue;
    const bytes = statSync(path.join(dir, name)).size;
    files.push({ name, bytes });
    total += bytes;
  }
  return { total, files };
}

/** A fresh directory under `root`. @param {string} root @param {string} prefix */
export function freshDir(root, prefix) {
  return mkdtempSync(path.join(root, prefix));
}
