import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { memoryV1 } from "@t4dm/proto";
import type { Logger } from "@t4dm/telemetry";
import { z } from "zod";
import { assembleContext } from "./memory-context.js";
import type { MemoryApi } from "./memory-api.js";
import { MEMORY_TYPES, memoryTypeOf, memoryView } from "./memory-view.js";
import { internalToolError, isServiceError, toolErrorFromStatus } from "./tool-errors.js";

/*
 * The MCP tools: each is one MemoryService call through the caller's own key. Input schemas catch
 * malformed calls before anything is sent; what only the memory service can judge (namespace
 * syntax, limits, unknown ids) comes back as its gRPC status, turned into a tool error.
 */

const namespace = z.string().min(1).describe("The namespace (tenant scope) of the memories; your API key must allow it.");
const memoryType = z.enum(MEMORY_TYPES);
const metadataValue = z.union([z.string(), z.number(), z.boolean()]);
const requestId = z.string().min(1).max(256).optional().describe("Optional idempotency key: a retry with the same id and body answers the first result instead of acting twice.");

const memoryOut = {
  id: z.string(),
  namespace: z.string(),
  type: z.string(),
  content: z.string(),
  metadata: z.record(z.unknown()),
  importance: z.number(),
  status: z.string(),
  create_time: z.string().optional(),
  update_time: z.string().optional(),
  expire_time: z.string().optional(),
  access_count: z.number(),
  evidence: z.number(),
  eviction_reason: z.string().optional(),
  merged_into_id: z.string().optional(),
};
const recalledOut = z.object({ ...memoryOut, score: z.number(), similarity: z.number(), source: z.string() });

const RECALL_MODES = { hybrid: memoryV1.RecallMode.RECALL_MODE_HYBRID, semantic: memoryV1.RecallMode.RECALL_MODE_SEMANTIC, keyword: memoryV1.RecallMode.RECALL_MODE_KEYWORD };
const DECISIONS: Record<number, string> = { 1: "admitted", 2: "rejected", 3: "merged" };

export function registerTools(server: McpServer, api: MemoryApi, logger: Logger): void {
  /** Runs one tool call; the memory service's refusals become tool errors and the server stays up. */
  async function run(tool: string, body: () => Promise<CallToolResult>): Promise<CallToolResult> {
    try {
      const result = await body();
      logger.debug("tool call", { event: "mcp.tool_call", tool, ok: true });
      return result;
    } catch (error) {
      if (isServiceError(error)) {
        logger.info("tool call refused by the memory service", { event: "mcp.tool_call", tool, ok: false, code: error.code });
        return toolErrorFromStatus(error);
      }
      logger.error("tool call failed", { event: "mcp.tool_failed", tool, error });
      return internalToolError();
    }
  }
  const structured = <T extends Record<string, unknown>>(value: T): CallToolResult => ({
    content: [{ type: "text", text: JSON.stringify(value) }],
    structuredContent: value,
  });

  server.registerTool(
    "remember",
    {
      title: "Remember",
      description:
        "Store a memory (a fact, observation, decision or result worth keeping) in a namespace. It is durable when this returns " +
        "and can be found later with recall or memory_context. A repeat of a recent memory in the same words is merged into it " +
        "(decision 'merged', the existing memory's id).",
      inputSchema: {
        namespace,
        content: z.string().min(1).describe("The text to remember, self-contained: it will be read later without this conversation."),
        type: memoryType.optional().describe("episodic (default: something that happened), working (short-lived, see ttl_seconds), semantic (a fact), procedural (how to do something)."),
        metadata: z.record(metadataValue).optional().describe("Free-form key/value tags (string, number or boolean values); recall and forget can filter on them."),
        importance: z.number().min(0).max(1).optional().describe("How important this is, from 0 to 1."),
        ttl_seconds: z.number().int().positive().optional().describe("Time to live, for working memories only."),
        request_id: requestId,
      },
      outputSchema: {
        memory_id: z.string().optional().describe("Unset when the namespace's gate rejected the memory."),
        decision: z.string().describe("admitted, merged (into memory_id) or rejected."),
        admit_probability: z.number(),
        memory: z.object(memoryOut).optional(),
        lsn: z.number().describe("The write-ahead-log position at which this became durable."),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    (args) =>
      run("remember", async () => {
        const response = await api.remember(
          memoryV1.RememberRequest.fromPartial({
            namespace: args.namespace,
            content: args.content,
            type: args.type ? memoryTypeOf(args.type) : undefined,
            metadata: args.metadata,
            importance: args.importance,
            ttl: args.ttl_seconds === undefined ? undefined : { seconds: args.ttl_seconds, nanos: 0 },
            requestId: args.request_id,
          }),
        );
        return structured({
          ...(response.memory ? { memory_id: response.memory.id, memory: memoryView(response.memory) } : {}),
          decision: DECISIONS[response.decision] ?? "unspecified",
          admit_probability: response.admitProbability,
          lsn: response.lsn,
        });
      }),
  );

  server.registerTool(
    "recall",
    {
      title: "Recall",
      description:
        "Find the memories most relevant to a query in a namespace, best first, with their ids and scores. Returns a recall_id: " +
        "after using the results, call reinforce with it to say how useful they were, which teaches the ranking. Changes no memory " +
        "(it records what was recalled, for reinforce; read_only skips even that). For a ready-to-use text block, use memory_context.",
      inputSchema: {
        namespace,
        query: z.string().min(1).describe("What you are looking for, in words."),
        top_k: z.number().int().min(1).max(100).optional().describe("How many memories at most (default 10)."),
        mode: z.enum(["hybrid", "semantic", "keyword"]).optional().describe("hybrid (default): meaning and keywords; semantic: meaning only; keyword: shared words only."),
        min_score: z.number().optional().describe("Leave out memories scoring below this."),
        types: z.array(memoryType).optional().describe("Only these memory types (default: episodic and working)."),
        read_only: z.boolean().optional().describe("Browse without learning: no recall_id to reinforce."),
      },
      outputSchema: {
        recall_id: z.string().describe("Pass to reinforce; empty for a read_only recall."),
        memories: z.array(recalledOut),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    (args) =>
      run("recall", async () => {
        const response = await api.recall(
          memoryV1.RecallRequest.fromPartial({
            namespace: args.namespace,
            query: args.query,
            topK: args.top_k,
            mode: args.mode ? RECALL_MODES[args.mode] : undefined,
            minScore: args.min_score,
            types: args.types?.map(memoryTypeOf),
            readOnly: args.read_only,
          }),
        );
        return structured({
          recall_id: response.recallId,
          memories: response.memories.map((m) => ({
            ...memoryView(m.memory!),
            score: m.score,
            similarity: m.similarity,
            source: m.source === memoryV1.MemorySource.MEMORY_SOURCE_STORE ? "store" : "buffer",
          })),
        });
      }),
  );

  server.registerTool(
    "memory_context",
    {
      title: "Memory context",
      description:
        "Get the memories most relevant to a query as one prompt-ready text block that fits a token budget, best first, each " +
        "starting with its [id]. Use it to bring what you know into your context before you answer or act. The block names its " +
        "recall_id: call reinforce with it (and per-memory rewards by id) once you know which memories helped.",
      inputSchema: {
        namespace,
        query: z.string().min(1).describe("The task or question the memories should help with."),
        token_budget: z.number().int().min(50).max(100_000).optional().describe("Upper bound of the block's size in tokens (estimated as characters / 4; default 1000)."),
        top_k: z.number().int().min(1).max(100).optional().describe("How many memories to consider (default 20)."),
      },
      outputSchema: {
        text: z.string().describe("The block; empty when no memory was found or none fits."),
        recall_id: z.string(),
        memory_ids: z.array(z.string()).describe("The ids in the block, in its order."),
        omitted_count: z.number().describe("Relevant memories left out to stay within the budget."),
        estimated_tokens: z.number(),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    (args) =>
      run("memory_context", async () => {
        const response = await api.recall(memoryV1.RecallRequest.fromPartial({ namespace: args.namespace, query: args.query, topK: args.top_k ?? 20 }));
        const header =
          `Memories relevant to the task, best first (recall_id ${response.recallId}; pass it to reinforce with the ids that helped):`;
        const candidates = response.memories.map((m) => ({ id: m.memory!.id, content: m.memory!.content, score: m.score }));
        const context = assembleContext(header, candidates, args.token_budget ?? 1000);
        const result = {
          text: context.text,
          recall_id: response.recallId,
          memory_ids: context.includedIds,
          omitted_count: context.omittedCount,
          estimated_tokens: context.estimatedTokens,
        };
        return {
          content: [{ type: "text", text: context.text || "No relevant memories found within the budget." }],
          structuredContent: result,
        };
      }),
  );

  server.registerTool(
    "reinforce",
    {
      title: "Reinforce",
      description:
        "Report how useful a recall (or memory_context) turned out: reward from -1 (harmful) to 1 (exactly what was needed), " +
        "optionally per memory id. This is how the memory learns what to rank first. Each recall_id can be reinforced once.",
      inputSchema: {
        namespace,
        recall_id: z.string().min(1).describe("The recall_id that recall or memory_context returned."),
        reward: z.number().min(-1).max(1).describe("The outcome, from -1 to 1."),
        memory_rewards: z.record(z.number().min(-1).max(1)).optional().describe("Rewards for individual memory ids, overriding reward for them."),
        request_id: requestId,
      },
      outputSchema: {
        reward_prediction_error: z.number().describe("How much better (positive) or worse than expected the outcome was."),
        credited_memories: z.number(),
        lsn: z.number(),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    (args) =>
      run("reinforce", async () => {
        const response = await api.reinforce(
          memoryV1.ReinforceRequest.fromPartial({
            namespace: args.namespace,
            recallId: args.recall_id,
            reward: args.reward,
            memoryRewards: args.memory_rewards,
            requestId: args.request_id,
          }),
        );
        return structured({ reward_prediction_error: response.rewardPredictionError, credited_memories: response.creditedMemories, lsn: response.lsn });
      }),
  );

  server.registerTool(
    "forget",
    {
      title: "Forget",
      description: "Delete memories by id from a namespace, for good (wrong, outdated, or asked to be forgotten). Forgetting an id twice does nothing more.",
      inputSchema: {
        namespace,
        ids: z.array(z.string().min(1)).min(1).max(1000).describe("The ids of the memories to delete."),
        request_id: requestId,
      },
      outputSchema: { forgotten_count: z.number(), lsn: z.number() },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    (args) =>
      run("forget", async () => {
        const response = await api.forget(memoryV1.ForgetRequest.fromPartial({ namespace: args.namespace, ids: args.ids, requestId: args.request_id }));
        return structured({ forgotten_count: response.forgottenCount, lsn: response.lsn });
      }),
  );

  server.registerTool(
    "get_memory",
    {
      title: "Get memory",
      description: "Read one memory by id, with its status (buffered, stored, merged into another, evicted).",
      inputSchema: { namespace, id: z.string().min(1).describe("The memory's id.") },
      outputSchema: { memory: z.object(memoryOut) },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    (args) =>
      run("get_memory", async () => {
        const response = await api.getMemory(memoryV1.GetMemoryRequest.fromPartial({ namespace: args.namespace, id: args.id }));
        return structured({ memory: memoryView(response.memory!) });
      }),
  );

  server.registerTool(
    "list_memories",
    {
      title: "List memories",
      description: "List a namespace's memories page by page, oldest first. Pass next_page_token back as page_token for the next page.",
      inputSchema: {
        namespace,
        page_size: z.number().int().min(1).max(1000).optional().describe("Memories per page (default 50)."),
        page_token: z.string().optional().describe("next_page_token of the previous page."),
        types: z.array(memoryType).optional().describe("Only these memory types."),
      },
      outputSchema: { memories: z.array(z.object(memoryOut)), next_page_token: z.string().describe("Empty on the last page.") },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    (args) =>
      run("list_memories", async () => {
        const response = await api.listMemories(
          memoryV1.ListMemoriesRequest.fromPartial({ namespace: args.namespace, pageSize: args.page_size, pageToken: args.page_token, types: args.types?.map(memoryTypeOf) }),
        );
        return structured({ memories: response.memories.map(memoryView), next_page_token: response.nextPageToken });
      }),
  );

  server.registerTool(
    "consolidate",
    {
      title: "Consolidate",
      description:
        "Move a namespace's recent memories to long-term storage now (light, the default); deep also merges near-duplicates and forms " +
        "concepts. Useful at the end of a task. In a namespace whose retention policy is 'learned' it may evict weak memories, " +
        "and it applies the namespace's retention limits if the operator set any.",
      inputSchema: { namespace, mode: z.enum(["light", "deep"]).optional().describe("light (default) or deep.") },
      outputSchema: {
        promoted_count: z.number(),
        evicted_count: z.number(),
        concepts_created: z.number(),
        duplicates_merged: z.number(),
        retention_ended_count: z.number(),
        lsn: z.number(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    (args) =>
      run("consolidate", async () => {
        const mode = args.mode === "deep" ? memoryV1.ConsolidationMode.CONSOLIDATION_MODE_DEEP : memoryV1.ConsolidationMode.CONSOLIDATION_MODE_LIGHT;
        const response = await api.consolidate(memoryV1.ConsolidateRequest.fromPartial({ namespace: args.namespace, mode }));
        return structured({
          promoted_count: response.promotedCount,
          evicted_count: response.evictedCount,
          concepts_created: response.conceptsCreated,
          duplicates_merged: response.duplicatesMerged,
          retention_ended_count: response.retentionEndedCount,
          lsn: response.lsn,
        });
      }),
  );
}
