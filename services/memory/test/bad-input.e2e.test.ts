import { status as grpcStatus, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminV1, memoryV1 } from "@t4dm/proto";
import { decodeStatusDetails } from "@t4dm/rpc";
import { call, callError, connectClients, startPod, type Pod } from "@t4dm/testkit";

describe("bad input gets a clear status and changes nothing", () => {
  let pod: Pod;
  let clients: ReturnType<typeof connectClients>;
  const dim = 32;

  beforeAll(async () => {
    pod = await startPod({ env: { T4DM_EMBEDDING_DIM: String(dim), T4DM_MAX_CONTENT_BYTES: "1000", T4DM_MAX_BATCH_SIZE: "3" } });
    clients = connectClients(pod.grpcAddr);
    await call(clients.memory.remember.bind(clients.memory), memoryV1.RememberRequest.fromPartial({ namespace: "ns", content: "a stored fact about deploys", admission: 2 }));
  });
  afterAll(async () => {
    clients?.close();
    await pod?.stop();
  });

  const status = () => call(clients.admin.getStatus.bind(clients.admin), adminV1.GetStatusRequest.fromPartial({}));
  const remember = (partial: Partial<memoryV1.RememberRequest>) =>
    callError(clients.memory.remember.bind(clients.memory), memoryV1.RememberRequest.fromPartial({ namespace: "ns", content: "hello world", ...partial }));

  const cases: [string, () => Promise<ServiceError>, number, string][] = [
    ["empty content", () => remember({ content: "   " }), 3, "content"],
    ["oversized content", () => remember({ content: "x ".repeat(600) }), 3, "content"],
    ["wrong embedding dimension", () => remember({ embedding: [1, 2, 3] }), 3, "embedding"],
    ["NaN in the embedding", () => remember({ embedding: Array.from({ length: dim }, (_, i) => (i === 3 ? NaN : 1)) }), 3, "embedding"],
    ["infinite embedding", () => remember({ embedding: Array.from({ length: dim }, () => Infinity) }), 3, "embedding"],
    ["zero embedding", () => remember({ embedding: Array.from({ length: dim }, () => 0) }), 3, "embedding"],
    ["missing namespace", () => remember({ namespace: "" }), 3, "namespace"],
    ["bad namespace", () => remember({ namespace: "../etc" }), 3, "namespace"],
    ["importance out of range", () => remember({ importance: 3 }), 3, "importance"],
    ["symbol-only content without an embedding", () => remember({ content: "!!! ??? ..." }), 3, "content"],
    [
      "a batch with one bad item",
      () =>
        callError(clients.memory.batchRemember.bind(clients.memory), {
          requests: [
            memoryV1.RememberRequest.fromPartial({ namespace: "ns", content: "fine" }),
            memoryV1.RememberRequest.fromPartial({ namespace: "ns", content: "" }),
          ],
        }),
      3,
      "requests[1].content",
    ],
    [
      "a batch over the size limit",
      () => callError(clients.memory.batchRemember.bind(clients.memory), { requests: Array.from({ length: 4 }, () => memoryV1.RememberRequest.fromPartial({ namespace: "ns", content: "fine" })) }),
      3,
      "requests",
    ],
    ["recall without a query", () => callError(clients.memory.recall.bind(clients.memory), memoryV1.RecallRequest.fromPartial({ namespace: "ns" })), 3, "query"],
    [
      "recall in KEYWORD mode with an empty query (embedding given)",
      () =>
        callError(
          clients.memory.recall.bind(clients.memory),
          memoryV1.RecallRequest.fromPartial({ namespace: "ns", queryEmbedding: Array.from({ length: dim }, () => 1), mode: memoryV1.RecallMode.RECALL_MODE_KEYWORD }),
        ),
      3,
      "query",
    ],
    [
      "recall in KEYWORD mode with only stop words",
      () =>
        callError(clients.memory.recall.bind(clients.memory), memoryV1.RecallRequest.fromPartial({ namespace: "ns", query: "What is the ... of it?", mode: memoryV1.RecallMode.RECALL_MODE_KEYWORD })),
      3,
      "query",
    ],
    ["recall with an unknown mode", () => callError(clients.memory.recall.bind(clients.memory), memoryV1.RecallRequest.fromPartial({ namespace: "ns", query: "deploys", mode: 99 as memoryV1.RecallMode })), 3, "mode"],
    ["recall top_k over the limit", () => callError(clients.memory.recall.bind(clients.memory), memoryV1.RecallRequest.fromPartial({ namespace: "ns", query: "deploys", topK: 100000 })), 3, "top_k"],
    [
      "reward out of range",
      () => callError(clients.memory.reinforce.bind(clients.memory), memoryV1.ReinforceRequest.fromPartial({ namespace: "ns", recallId: "r", reward: 1.5 })),
      3,
      "reward",
    ],
    [
      "unknown recall id",
      () => callError(clients.memory.reinforce.bind(clients.memory), memoryV1.ReinforceRequest.fromPartial({ namespace: "ns", recallId: "no-such-recall", reward: 1 })),
      5,
      "",
    ],
    [
      "an over-long Reinforce request_id",
      () => callError(clients.memory.reinforce.bind(clients.memory), memoryV1.ReinforceRequest.fromPartial({ namespace: "ns", recallId: "r", reward: 1, requestId: "k".repeat(129) })),
      3,
      "request_id",
    ],
    [
      "an over-long Forget request_id",
      () => callError(clients.memory.forget.bind(clients.memory), memoryV1.ForgetRequest.fromPartial({ namespace: "ns", ids: ["x"], requestId: "k".repeat(129) })),
      3,
      "request_id",
    ],
    ["unknown memory id", () => callError(clients.memory.getMemory.bind(clients.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: "ns", id: "nope" })), 5, ""],
  ];

  for (const [name, run, code, field] of cases) {
    it(`${name}: ${grpcStatus[code] ?? code}, with details, and the state is unchanged`, async () => {
      const before = await status();
      const error = await run();
      expect(error.code).toBe(code);
      const details = decodeStatusDetails(error);
      expect(details.errorInfo?.domain).toBe("t4dm.dev");
      if (code === 3) expect(details.fieldViolations.map((v) => v.field)).toContain(field);
      const after = await status();
      expect(after.appliedLsn).toBe(before.appliedLsn);
      expect(Buffer.from(after.stateHash).equals(Buffer.from(before.stateHash))).toBe(true);
      expect(pod.memory.lines.some((l) => l.level === "error")).toBe(false);
    });
  }

  it("a memory of another namespace is NOT_FOUND, not revealed", async () => {
    const stored = await call(clients.memory.remember.bind(clients.memory), memoryV1.RememberRequest.fromPartial({ namespace: "team-a", content: "secret plan", admission: 2 }));
    const error = await callError(clients.memory.getMemory.bind(clients.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: "team-b", id: stored.memory!.id }));
    expect(error.code).toBe(5);
    const found = await call(clients.memory.getMemory.bind(clients.memory), memoryV1.GetMemoryRequest.fromPartial({ namespace: "team-a", id: stored.memory!.id }));
    expect(found.memory?.content).toBe("secret plan");
    const recalled = await call(clients.memory.recall.bind(clients.memory), memoryV1.RecallRequest.fromPartial({ namespace: "team-b", query: "secret plan" }));
    expect(recalled.memories).toEqual([]);
  });
});
