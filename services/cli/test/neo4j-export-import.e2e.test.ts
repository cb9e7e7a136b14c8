import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { memoryV1 } from "@t4dm/proto";
import { connectClients, makeDataDir, startPod, type Pod } from "@t4dm/testkit";
import { asOps, dumpItems, KEYS, memoriesOf, runCli, settled, writeKeys, type Clients } from "./support/cli-harness.js";

const T = memoryV1.MemoryType;

describe("t4dm import into the Neo4j-backed setup", () => {
  const keyDir = makeDataDir("t4dm-cli-keys-");
  const work = makeDataDir("t4dm-cli-dumps-");
  const pods: Pod[] = [];
  const clients: Clients[] = [];
  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(pods.map((pod) => pod.stop()));
    keyDir.remove();
    work.remove();
  });

  it("embedded → export → import into a pod on Neo4j: the same memories, facts, procedures and Recall answers; twice is the same", async () => {
    const connection = inject("neo4j");
    // The Neo4j server is shared by the run's test files: a namespace of this run's own.
    const namespace = `export-${Date.now()}`;
    const base = { T4DM_API_KEYS_FILE: writeKeys(keyDir.dir), T4DM_EMBEDDING_DIM: "32", T4DM_BUFFER_CAPACITY: "2", T4DM_RATE_LIMIT: "0" };
    const neo4jEnv = { ...base, T4DM_NEO4J_URI: connection.uri, T4DM_NEO4J_USER: connection.user, T4DM_NEO4J_PASSWORD: connection.password };
    const [source, target] = await Promise.all([startPod({ env: base }), startPod({ env: neo4jEnv })]);
    pods.push(source, target);
    const src = connectClients(source.grpcAddr);
    const dst = connectClients(target.grpcAddr);
    clients.push(src, dst);

    const memories = [
      { content: "the deploy script is tools/deploy.sh", type: T.MEMORY_TYPE_EPISODIC, metadata: { team: "infra" } },
      { content: "the office cat is called Miso", type: T.MEMORY_TYPE_SEMANTIC },
      { content: "paris is the capital of france", type: T.MEMORY_TYPE_SEMANTIC, metadata: { source: "atlas" } },
      { content: "to release, tag the commit and run the deploy script", type: T.MEMORY_TYPE_PROCEDURAL },
      { content: "the staging database is postgres 15", type: T.MEMORY_TYPE_EPISODIC },
    ];
    for (const m of memories) await asOps(src.memory.remember.bind(src.memory), memoryV1.RememberRequest.fromPartial({ namespace, admission: 2, importance: 0.5, ...m }));
    for (const [object, year] of [["acme", 2024], ["globex", 2025]] as const) {
      await asOps(src.knowledge.upsertFact.bind(src.knowledge), memoryV1.UpsertFactRequest.fromPartial({ namespace, subject: "ada", predicate: "works_at", object, validStartTime: new Date(Date.UTC(year, 0, 1)) }));
    }
    const procedure = await asOps(src.knowledge.upsertProcedure.bind(src.knowledge), memoryV1.UpsertProcedureRequest.fromPartial({ namespace, name: "release", trigger: "when a release is due", steps: [{ action: "tag" }] }));
    await asOps(src.knowledge.recordProcedureOutcome.bind(src.knowledge), memoryV1.RecordProcedureOutcomeRequest.fromPartial({ namespace, procedureId: procedure.procedure!.id, success: true }));
    await settled(src, namespace);

    const dumpFile = path.join(work.dir, "dump.jsonl");
    const exported = await runCli(["export", "--addr", source.grpcAddr, "--namespace", namespace, "--api-key", KEYS.ops], { stdoutFile: dumpFile });
    expect(exported.code, exported.stderr).toBe(0);
    for (let round = 1; round <= 2; round++) {
      const imported = await runCli(["import", "--addr", target.grpcAddr, "--api-key", KEYS.ops], { stdin: dumpFile });
      expect(imported.code, imported.stderr).toBe(0);
      if (round === 2) expect(imported.stderr).toMatch(new RegExp(`${memories.length} already there`));
      await settled(dst, namespace);
      expect(await memoriesOf(dst, namespace)).toEqual(await memoriesOf(src, namespace));
      const again = await runCli(["export", "--addr", target.grpcAddr, "--namespace", namespace, "--api-key", KEYS.ops]);
      expect(dumpItems(again.stdout)).toEqual(dumpItems(readFileSync(dumpFile, "utf8")));
    }
    for (const query of ["deploy script", "capital of france", "cat"]) {
      const recall = (c: Clients) => asOps(c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace, query, topK: 5, readOnly: true }));
      const [a, b] = await Promise.all([recall(src), recall(dst)]);
      expect(b.memories.map((r) => r.memory!.id), query).toEqual(a.memories.map((r) => r.memory!.id));
    }
  });
});
