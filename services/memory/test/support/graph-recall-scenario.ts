import { expect, it } from "vitest";
import { memoryV1 } from "@t4dm/proto";
import { call, connectClients, makeDataDir, startPod, type Pod } from "@t4dm/testkit";

const { MEMORY_TYPE_SEMANTIC: SEMANTIC, MEMORY_TYPE_PROCEDURAL: PROCEDURAL, MEMORY_TYPE_EPISODIC: EPISODIC } = memoryV1.MemoryType;
const { RECALL_MODE_HYBRID: HYBRID, RECALL_MODE_SEMANTIC: SEMANTIC_MODE, RECALL_MODE_KEYWORD: KEYWORD } = memoryV1.RecallMode;
const STORED = memoryV1.MemoryStatus.MEMORY_STATUS_STORED;
const FROM_STORE = memoryV1.MemorySource.MEMORY_SOURCE_STORE;

const FACT = "the quarzite ledger is reconciled every friday by the finance bot";
const HOWTO = "to rotate the vexbolt signing key run tools/rotate-key.sh then restart the gateway";
const EPISODE = "yesterday the team lunch was pizza at the corner place";

/**
 * Recall of semantic and procedural memories once they live in the graph
 * store, through a real pod (`env` picks the graph backend): found in every
 * mode, filtered by metadata and kinds before ranking, gone once forgotten,
 * and still found after a restart of the pod.
 */
export function graphRecallScenario(env: () => Record<string, string>): void {
  it("finds promoted semantic and procedural memories in HYBRID, SEMANTIC and KEYWORD, filters them, and forgets them, across a restart", async () => {
    const data = makeDataDir();
    const namespace = `graph-recall-${Date.now()}`;
    let pod: Pod | undefined;
    let clients: ReturnType<typeof connectClients> | undefined;
    const open = async () => {
      pod = await startPod({ dataDir: data.dir, env: { T4DM_EMBEDDING_DIM: "64", ...env() } });
      clients = connectClients(pod.grpcAddr);
      return clients;
    };
    const shut = async () => {
      clients?.close();
      await pod?.stop();
    };
    try {
      let c = await open();
      const remember = (content: string, type: memoryV1.MemoryType, metadata: Record<string, unknown>) =>
        call(c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace, content, type, metadata, importance: 0.9, admission: 2 }));
      const recall = (partial: Partial<memoryV1.RecallRequest>) =>
        call(c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace, topK: 5, ...partial }));
      const ids = (response: memoryV1.RecallResponse) => response.memories.map((m) => m.memory!.id);

      const fact = (await remember(FACT, SEMANTIC, { team: "finance" })).memory!.id;
      const howto = (await remember(HOWTO, PROCEDURAL, { team: "platform" })).memory!.id;
      const episode = (await remember(EPISODE, EPISODIC, { team: "finance" })).memory!.id;
      await call(c.memory.consolidate.bind(c.memory), memoryV1.ConsolidateRequest.fromPartial({ namespace }));
      // Store writes follow the WAL asynchronously: wait until all three are stored.
      const deadline = Date.now() + 30_000;
      for (const id of [fact, howto, episode]) {
        for (;;) {
          const got = await call(c.memory.getMemory.bind(c.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace, id }));
          if (got.memory?.status === STORED) break;
          if (Date.now() > deadline) throw new Error(`memory ${id} never reached the store: ${JSON.stringify(got.memory?.status)}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }

      const checkFound = async () => {
        for (const mode of [HYBRID, SEMANTIC_MODE, KEYWORD]) {
          const byFact = await recall({ query: "when is the quarzite ledger reconciled", mode });
          expect(ids(byFact), `mode ${mode}`).toContain(fact);
          const hit = byFact.memories.find((m) => m.memory!.id === fact)!;
          expect(hit.source).toBe(FROM_STORE);
          expect(hit.memory!.status).toBe(STORED);
          expect(ids(await recall({ query: "rotate the vexbolt signing key", mode })), `mode ${mode}`).toContain(howto);
        }
        // KEYWORD ranks by the words: the rare one picks the graph-held memory first.
        expect(ids(await recall({ query: "quarzite", mode: KEYWORD }))[0]).toBe(fact);
      };
      await checkFound();

      // Filters apply before ranking, in the graph store too.
      const platformOnly = await recall({ query: "quarzite ledger vexbolt key", mode: HYBRID, filters: [{ key: "team", condition: { $case: "equals", value: "platform" } }] });
      expect(ids(platformOnly)).toContain(howto);
      expect(ids(platformOnly)).not.toContain(fact);
      const episodicOnly = await recall({ query: "quarzite ledger reconciled pizza lunch", mode: HYBRID, types: [EPISODIC] });
      expect(ids(episodicOnly)).toContain(episode);
      expect(ids(episodicOnly)).not.toContain(fact);
      const semanticOnly = await recall({ query: "quarzite ledger reconciled pizza lunch", mode: HYBRID, types: [SEMANTIC] });
      expect(ids(semanticOnly)).toEqual([fact]);

      // A recall hit counts as an access of the graph-held memory.
      const before = (await call(c.memory.getMemory.bind(c.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace, id: fact }))).memory!;
      await recall({ query: "quarzite", mode: KEYWORD });
      const accessDeadline = Date.now() + 10_000;
      for (;;) {
        const after = (await call(c.memory.getMemory.bind(c.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace, id: fact }))).memory!;
        if (after.accessCount > before.accessCount) break;
        if (Date.now() > accessDeadline) throw new Error(`the recall's access never reached the graph-held memory (${after.accessCount})`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }

      // Restart: the graph store's indexes are back (persisted or rebuilt).
      await shut();
      c = await open();
      await checkFound();

      await call(c.memory.forget.bind(c.memory), memoryV1.ForgetRequest.fromPartial({ namespace, ids: [fact] }));
      for (const mode of [HYBRID, SEMANTIC_MODE, KEYWORD]) {
        expect(ids(await recall({ query: "when is the quarzite ledger reconciled", mode }))).not.toContain(fact);
      }
    } finally {
      await shut();
      data.remove();
    }
  });
}
