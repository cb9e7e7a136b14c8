/**
 * Issue #16 item 3 through a real pod: a flood of adversarial Reinforce in
 * one namespace leaves another namespace's Recall scores byte-identical,
 * before and after a SIGKILL of both processes and a warm start (the
 * adaptations are checkpointed and replayed). B never gives feedback, so its
 * scores are the fused base plus the prior's correction, which is exactly 0
 * until the prior is trained: they do not move with wall time, and any
 * learning that leaks from A into the prior shows in B's bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryV1 } from "@t4dm/proto";
import { decodeStatusDetails } from "@t4dm/rpc";
import { call, callError, connectClients, makeDataDir, startPod, type Pod } from "@t4dm/testkit";

const A = "tenant-a";
const B = "tenant-b";
const FACTS = [
  "the deploy script lives in tools/deploy.sh",
  "deploy to kubernetes with helm upgrade",
  "the cache latency budget is 5 ms",
  "invoices are due at the end of the month",
  "python services deploy through the same pipeline",
  "memory budget for the cache is 2 GiB",
];
const QUERIES = ["how do we deploy", "cache budget"];
const MODES = [memoryV1.RecallMode.RECALL_MODE_SEMANTIC, memoryV1.RecallMode.RECALL_MODE_HYBRID, memoryV1.RecallMode.RECALL_MODE_KEYWORD];
const FLOOD = 120;

const float32Hex = (values: number[]) => Buffer.from(Float32Array.from(values).buffer).toString("hex");

function metric(text: string, name: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ").at(-1)) : undefined;
}

describe("learning stays inside its namespace, through a real pod and a restart", () => {
  const data = makeDataDir("t4dm-isolation-");
  const env = { T4DM_EMBEDDING_DIM: "32" };
  let pod: Pod;
  let c: ReturnType<typeof connectClients>;
  let bBefore: string[];

  const scrape = async () => (await fetch(`${pod.httpUrl}/metrics`)).text();
  const recall = (namespace: string, query: string, mode = memoryV1.RecallMode.RECALL_MODE_HYBRID, readOnly = false) =>
    call(c.memory.recall.bind(c.memory), memoryV1.RecallRequest.fromPartial({ namespace, query, mode, topK: FACTS.length, readOnly, explain: true }));
  /** Every mode's read-only ranking of every query: ids, and the bytes of each score, fused base and correction. */
  const probe = async (namespace: string) => {
    const lines: string[] = [];
    for (const mode of MODES) {
      for (const query of QUERIES) {
        const { memories } = await recall(namespace, query, mode, true);
        lines.push(memories.map((m) => `${m.memory!.content}:${float32Hex([m.score, m.explanation!.fused, m.explanation!.correction])}`).join(" | "));
      }
    }
    return lines;
  };
  const corrections = async (namespace: string) => (await recall(namespace, QUERIES[0]!, memoryV1.RecallMode.RECALL_MODE_HYBRID, true)).memories.map((m) => m.explanation!.correction);
  const restart = async () => {
    c.close();
    await Promise.all([pod.memory.kill("SIGKILL"), pod.sidecar.kill("SIGKILL")]);
    pod = await startPod({ dataDir: data.dir, env });
    c = connectClients(pod.grpcAddr);
  };

  beforeAll(async () => {
    pod = await startPod({ dataDir: data.dir, env });
    c = connectClients(pod.grpcAddr);
    // The same memories in both namespaces.
    for (const namespace of [A, B]) {
      await call(c.memory.batchRemember.bind(c.memory), { requests: FACTS.map((content) => memoryV1.RememberRequest.fromPartial({ namespace, content })) });
    }
    bBefore = await probe(B);
  });
  afterAll(async () => {
    c?.close();
    await Promise.all([pod?.memory.kill("SIGKILL"), pod?.sidecar.kill("SIGKILL")]);
    data.remove();
  });

  it("B's scores are byte-identical after a flood of adversarial Reinforce in A, and A's learning moved; ww_learning_namespaces goes 0 → 1", async () => {
    expect(metric(await scrape(), "ww_learning_namespaces")).toBe(0);
    expect(new Set(await corrections(B))).toEqual(new Set([0]));
    for (let i = 0; i < FLOOD; i++) {
      const { recallId, memories } = await recall(A, QUERIES[i % QUERIES.length]!);
      // Reward the worst hits, punish the best, then the opposite.
      const memoryRewards = Object.fromEntries(memories.map((m, rank) => [m.memory!.id, (rank + i) % 2 === 0 ? -1 : 1]));
      await call(c.memory.reinforce.bind(c.memory), memoryV1.ReinforceRequest.fromPartial({ namespace: A, recallId, reward: i % 2 === 0 ? 1 : -1, memoryRewards }));
    }
    expect(await probe(B)).toEqual(bBefore);
    // A learned from the flood, and its shadow guard judged that learning harmful and backed A's
    // correction off (libs/learning/src/shadow-guard.ts), so A now ranks near or at its fused base.
    const metrics = await scrape();
    expect(metric(metrics, "ww_learning_namespaces")).toBe(1);
    expect(metric(metrics, "ww_learning_backed_off")).toBe(1);
    expect(metric(metrics, "ww_learning_min_trust")).toBeLessThan(1);
  });

  it("after SIGKILL of both processes and a warm start, B's scores are still the same bytes and A keeps its learning", async () => {
    const trustBefore = metric(await scrape(), "ww_learning_min_trust");
    await restart();
    expect((await pod.memory.waitForEvent("recovery.done")).mode).toBe("warm");
    expect(await probe(B)).toEqual(bBefore);
    expect(metric(await scrape(), "ww_learning_namespaces")).toBe(1);
    // A's adaptation came back from checkpoint + WAL, with the guard's verdict on it.
    expect(metric(await scrape(), "ww_learning_min_trust")).toBe(trustBefore);
    expect(metric(await scrape(), "ww_learning_backed_off")).toBe(1);
  });

  describe("bad Reinforce input: a clear status, nothing sequenced", () => {
    const sequenced = async () => metric(await scrape(), "ww_sequenced_lsn");
    const reinforce = (partial: Partial<memoryV1.ReinforceRequest>) => callError(c.memory.reinforce.bind(c.memory), memoryV1.ReinforceRequest.fromPartial(partial));

    it("a recall id of another namespace is NOT_FOUND, the same answer as an unknown one, and stays usable by its owner", async () => {
      const { recallId } = await recall(A, "deploy");
      const lsn = await sequenced();
      const foreign = await reinforce({ namespace: B, recallId, reward: 1 });
      const unknown = await reinforce({ namespace: B, recallId: "no-such-recall", reward: 1 });
      expect(foreign.code).toBe(5);
      expect(decodeStatusDetails(foreign).errorInfo?.reason).toBe("RECALL_NOT_FOUND");
      expect(foreign.details.replace(recallId, "ID")).toBe(unknown.details.replace("no-such-recall", "ID"));
      expect(await sequenced()).toBe(lsn);
      expect(await probe(B)).toEqual(bBefore);
      await call(c.memory.reinforce.bind(c.memory), memoryV1.ReinforceRequest.fromPartial({ namespace: A, recallId, reward: 1 }));
    });

    it("a memory reward naming a memory the recall did not return is INVALID_ARGUMENT; one forgotten since is NOT_FOUND", async () => {
      const { recallId, memories } = await recall(A, "deploy");
      const lsn = await sequenced();
      const stranger = await reinforce({ namespace: A, recallId, reward: 1, memoryRewards: { "not-in-this-recall": 1 } });
      expect(stranger.code).toBe(3);
      expect(decodeStatusDetails(stranger).fieldViolations.map((v) => v.field)).toEqual(["memory_rewards.not-in-this-recall"]);
      expect(await sequenced()).toBe(lsn);

      const victim = memories.at(-1)!.memory!.id;
      await call(c.memory.forget.bind(c.memory), memoryV1.ForgetRequest.fromPartial({ namespace: A, ids: [victim] }));
      const afterForget = await sequenced();
      const forgotten = await reinforce({ namespace: A, recallId, reward: 1, memoryRewards: { [victim]: 1 } });
      expect(forgotten.code).toBe(5);
      expect(decodeStatusDetails(forgotten).errorInfo?.reason).toBe("MEMORY_NOT_FOUND");
      expect(forgotten.details).toMatch(/no longer remembered/);
      expect(await sequenced()).toBe(afterForget);
      // Nothing was consumed: the recall still takes feedback that names no forgotten memory.
      await call(c.memory.reinforce.bind(c.memory), memoryV1.ReinforceRequest.fromPartial({ namespace: A, recallId, reward: 1 }));
    });

    for (const [name, partial, field] of [
      ["NaN reward", { reward: NaN }, "reward"],
      ["reward below -1", { reward: -1.5 }, "reward"],
      ["reward above 1", { reward: 2 }, "reward"],
      ["a memory reward out of range", { reward: 1, memoryRewards: { m: -3 } }, "memory_rewards.m"],
    ] as const) {
      it(`${name}: INVALID_ARGUMENT naming ${field}`, async () => {
        const { recallId } = await recall(A, "deploy");
        const lsn = await sequenced();
        const error = await reinforce({ namespace: A, recallId, ...partial });
        expect(error.code).toBe(3);
        expect(decodeStatusDetails(error).fieldViolations.map((v) => v.field)).toContain(field);
        expect(await sequenced()).toBe(lsn);
      });
    }
  });
});
