/**
 * Hybrid recall through a real pod (built-in hashing embedder): keyword
 * candidates from the buffer and the embedded store's FTS5 index, fused with
 * the vector candidates; explain; read_only; and Recall as a read whose
 * learning records Reinforce still finds.
 */
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryV1 } from "@t4dm/proto";
import { decodeStatusDetails } from "@t4dm/rpc";
import { call, callError, connectClients, makeDataDir, startPod, type Pod } from "@t4dm/testkit";

const NS = "hybrid";
const { RECALL_MODE_HYBRID: HYBRID, RECALL_MODE_SEMANTIC: SEMANTIC, RECALL_MODE_KEYWORD: KEYWORD } = memoryV1.RecallMode;

// Questions that share "what", "does", "have" with the query; the answer shares only "Alice".
const PET = "Alice adopted a cat named Tom last spring";
const DISTRACTORS = [
  "What does the release checklist have in it?",
  "What does Bob have for lunch on Fridays?",
  "Does the office have a printer that works?",
  "What does the staging cluster have for memory?",
  "What does a good postmortem have in common with this one?",
  "Where does the team have its weekly sync, and what does it cover?",
];
// One rare word among words every distractor of this group repeats.
const RARE = "zyxorbital runs on host pluto-7";
const RARE_DISTRACTORS = Array.from({ length: 8 }, (_, i) => `where is the deploy config for service number ${i}`);

describe("hybrid recall", () => {
  let pod: Pod;
  let clients: ReturnType<typeof connectClients>;
  let petId: string;

  const remember = (content: string) =>
    call(clients.memory.remember.bind(clients.memory), memoryV1.RememberRequest.fromPartial({ namespace: NS, content, admission: 2, importance: 0.9 }));
  const recall = (partial: Partial<memoryV1.RecallRequest>) =>
    call(clients.memory.recall.bind(clients.memory), memoryV1.RecallRequest.fromPartial({ namespace: NS, topK: 3, ...partial }));
  const contents = (response: memoryV1.RecallResponse) => response.memories.map((m) => m.memory?.content);
  const metric = async (name: string) => {
    const text = await (await fetch(`${pod.httpUrl}/metrics`)).text();
    return Number(text.split("\n").find((l) => l.startsWith(`${name} `))?.split(" ").at(-1));
  };

  beforeAll(async () => {
    pod = await startPod({ env: { T4DM_EMBEDDING_DIM: "64" } });
    clients = connectClients(pod.grpcAddr);
    // The first memories are promoted to the embedded store, the distractors stay buffered: both are searched.
    const rare = await remember(RARE);
    const pet = await remember(PET);
    petId = pet.memory!.id;
    for (const content of RARE_DISTRACTORS) await remember(content);
    await call(clients.memory.consolidate.bind(clients.memory), memoryV1.ConsolidateRequest.fromPartial({ namespace: NS }));
    // Wait until the promoted ones are in the store (store writes follow the WAL asynchronously).
    const deadline = Date.now() + 20_000;
    for (const id of [rare.memory!.id, pet.memory!.id]) {
      for (;;) {
        const got = await call(clients.memory.getMemory.bind(clients.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: NS, id }));
        if (got.memory?.status === memoryV1.MemoryStatus.MEMORY_STATUS_STORED) break;
        if (Date.now() > deadline) throw new Error(`memory ${id} never reached the store: ${JSON.stringify(got.memory)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    for (const content of DISTRACTORS) await remember(content);
  });
  afterAll(async () => {
    clients?.close();
    await pod?.stop();
  });

  it("KEYWORD finds a stored memory by an exact rare word the hashing embedder ranks below its look-alikes", async () => {
    const query = "where is the deploy config for zyxorbital";
    expect(contents(await recall({ query, mode: SEMANTIC }))).not.toContain(RARE);
    const keyword = await recall({ query, mode: KEYWORD });
    expect(contents(keyword)[0]).toBe(RARE);
    expect(keyword.memories[0]!.source).toBe(memoryV1.MemorySource.MEMORY_SOURCE_STORE);
  });

  // Every term of this query is in the cat memory, which the hashing embedder ranks third (it reads
  // "does ... have" as much as the names). "what pet does Alice have" is only a partial match ("pet" is
  // in no memory), and the embedder puts the cat at cosine 0 against 0.3-0.5 for the distractors:
  // fusion lets such a match nudge the vector side's order, not override it.
  it("HYBRID (the default) answers 'does Alice have a cat named Tom' with the cat: the keyword side carries it", async () => {
    const query = "does Alice have a cat named Tom";
    expect(contents(await recall({ query, mode: SEMANTIC }))[0]).not.toBe(PET);
    expect(contents(await recall({ query }))[0]).toBe(PET);
    expect(contents(await recall({ query, mode: HYBRID }))[0]).toBe(PET);
  });

  it("explain returns each hit's per-signal scores, and only when asked", async () => {
    const plain = await recall({ query: "does Alice have a cat named Tom" });
    expect(plain.memories.every((m) => m.explanation === undefined)).toBe(true);
    const explained = await recall({ query: "does Alice have a cat named Tom", explain: true });
    const top = explained.memories[0]!;
    const why = top.explanation!;
    expect(top.memory?.content).toBe(PET);
    expect(why.bm25).toBeGreaterThan(0);
    expect(why.lexicalRank).toBe(1);
    expect(why.vectorRank).toBeGreaterThan(1);
    expect(why.cosine).toBeCloseTo(top.similarity, 5);
    expect(why.fused).toBeGreaterThan(0);
    expect(why.fused).toBeLessThanOrEqual(1);
    expect(why.importance).toBeCloseTo(0.9, 5);
    expect(why.recency).toBeGreaterThan(0.9);
    expect(top.score).toBeCloseTo(why.fused + why.correction, 5);
    // A distractor matched by no keyword has no lexical rank.
    expect(explained.memories.slice(1).some((m) => m.explanation!.lexicalRank === 0 && m.explanation!.bm25 === 0)).toBe(true);
  });

  it("read_only logs nothing (no trace, no learning); a normal recall's trace is there for Reinforce at once", async () => {
    const before = { sequenced: await metric("ww_sequenced_lsn"), applied: await metric("ww_applied_lsn") };
    const browsed = await recall({ query: "does Alice have a cat named Tom", readOnly: true });
    expect(contents(browsed)[0]).toBe(PET);
    expect(browsed.recallId).toBe("");
    expect(await metric("ww_sequenced_lsn")).toBe(before.sequenced);
    expect(await metric("ww_applied_lsn")).toBe(before.applied);

    // Not read-only: answered without waiting for its records, which a Reinforce sent right away is ordered after.
    const recalled = await recall({ query: "does Alice have a cat named Tom" });
    expect(recalled.recallId).not.toBe("");
    const reinforced = await call(
      clients.memory.reinforce.bind(clients.memory),
      memoryV1.ReinforceRequest.fromPartial({ namespace: NS, recallId: recalled.recallId, reward: 1 }),
    );
    expect(reinforced.creditedMemories).toBeGreaterThan(0);
    expect(await metric("ww_sequenced_lsn")).toBeGreaterThan(before.sequenced);
  });

  it("counts a stored hit's accesses in the store, one per Recall, none for read_only, and Reinforce keeps them", async () => {
    const query = "does Alice have a cat named Tom";
    // The stored pet memory must be a hit; which rank it takes beside buffered look-alikes (within 1% here,
    // and recency moves with the clock) is not this test's subject.
    const hits = async (request: Partial<memoryV1.RecallRequest>) => (await recall({ query, topK: 10, ...request })).memories.map((m) => m.memory!.id);
    expect(await hits({ readOnly: true })).toContain(petId);
    const stats = async () => {
      const got = await call(clients.memory.getMemory.bind(clients.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: NS, id: petId }));
      expect(got.memory?.status).toBe(memoryV1.MemoryStatus.MEMORY_STATUS_STORED);
      return { accessCount: got.memory!.accessCount, lastAccessTime: got.memory!.lastAccessTime };
    };
    const before = await stats();
    expect(await hits({ readOnly: true })).toContain(petId);
    expect(await stats()).toEqual(before);
    const first = await recall({ query, topK: 10 });
    const second = await recall({ query, topK: 10 });
    for (const recalled of [first, second]) expect(recalled.memories.map((m) => m.memory!.id)).toContain(petId);
    // Statistics are written best effort after the answer: wait for them, with a deadline.
    const deadline = Date.now() + 10_000;
    while ((await stats()).accessCount < before.accessCount + 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await stats()).accessCount).toBe(before.accessCount + 2);
    expect((await stats()).lastAccessTime!.getTime()).toBeGreaterThanOrEqual(before.lastAccessTime?.getTime() ?? 0);
    // Crediting rewards rewrites the row's statistics: it must keep the access counts.
    for (const recalled of [first, second]) {
      await call(clients.memory.reinforce.bind(clients.memory), memoryV1.ReinforceRequest.fromPartial({ namespace: NS, recallId: recalled.recallId, reward: 1 }));
    }
    expect((await stats()).accessCount).toBe(before.accessCount + 2);
  });
});

describe("a recall's learning records lost in a crash", () => {
  it("answer Reinforce for that recall with NOT_FOUND (RECALL_NOT_FOUND) after the restart", async () => {
    const data = makeDataDir();
    let pod: Pod | undefined = await startPod({ dataDir: data.dir, env: { T4DM_EMBEDDING_DIM: "32" } });
    try {
      let c = connectClients(pod.grpcAddr);
      await call(c.memory.remember.bind(c.memory), memoryV1.RememberRequest.fromPartial({ namespace: NS, content: "the cat sleeps on the sofa", admission: 2 }));
      // The sidecar cannot make the recall's records durable; the recall answers anyway, then both processes die.
      pod.sidecar.child.kill("SIGSTOP");
      const recalled = await call(c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace: NS, query: "cat" }));
      expect(recalled.memories.map((m) => m.memory?.content)).toEqual(["the cat sleeps on the sofa"]);
      c.close();
      await pod.stop();
      pod = await startPod({ dataDir: data.dir, env: { T4DM_EMBEDDING_DIM: "32" } });
      c = connectClients(pod.grpcAddr);
      const error = await callError(c.memory.reinforce.bind(c.memory), memoryV1.ReinforceRequest.fromPartial({ namespace: NS, recallId: recalled.recallId, reward: 1 }));
      c.close();
      expect(error.code).toBe(status.NOT_FOUND);
      expect(decodeStatusDetails(error).errorInfo?.reason).toBe("RECALL_NOT_FOUND");
    } finally {
      await pod?.stop();
      data.remove();
    }
  });
});
