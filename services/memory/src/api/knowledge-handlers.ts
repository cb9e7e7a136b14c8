import { scorerFeatures } from "@t4dm/learning";
import { memoryV1, walV1 } from "@t4dm/proto";
import { byNamespace, guarded, type Gate } from "./auth/guarded.js";
import { requireEngine, type Engine } from "../app/engine.js";

/** KnowledgeService over the engine's graph store. */
export function knowledgeHandlers(engine: () => Engine | undefined, gate: Gate, clock: () => Date): memoryV1.KnowledgeServiceServer {
  const ready = (): Engine => requireEngine(engine);
  return {
    upsertFact: guarded(gate, "KnowledgeService/UpsertFact", byNamespace, (request: memoryV1.UpsertFactRequest) => ready().knowledge.upsertFact(request)),
    queryFacts: guarded(gate, "KnowledgeService/QueryFacts", byNamespace, (request: memoryV1.QueryFactsRequest) => ready().knowledge.queryFacts(request)),
    upsertProcedure: guarded(gate, "KnowledgeService/UpsertProcedure", byNamespace, (request: memoryV1.UpsertProcedureRequest) => ready().knowledge.upsertProcedure(request)),
    recordProcedureOutcome: guarded(gate, "KnowledgeService/RecordProcedureOutcome", byNamespace, (request: memoryV1.RecordProcedureOutcomeRequest) =>
      ready().knowledge.recordOutcome(request),
    ),
    matchProcedures: guarded(gate, "KnowledgeService/MatchProcedures", byNamespace, async (request: memoryV1.MatchProceduresRequest): Promise<memoryV1.MatchProceduresResponse> => {
      const current = ready();
      const match = await current.knowledge.matchProcedures(request);
      if (match.matched.length === 0) return { procedures: [], recallId: "" };
      // A trace per match, like a recall: Reinforce with this id records the procedures' outcomes.
      const now = clock();
      const items = match.matched.map((procedure, i) => ({
        memoryId: procedure.id,
        features: scorerFeatures({
          cosine: match.similarities[i]!,
          ageSeconds: Math.max(0, (now.getTime() - procedure.createTime.getTime()) / 1000),
          accessCount: procedure.executionCount,
          rewardSum: 2 * procedure.successCount - procedure.executionCount,
          rewardCount: procedure.executionCount,
          clusterMatch: false,
          fromBuffer: false,
          importance: 0.5,
          evidence: 0.5,
          // Procedures are matched by vector alone: first-list ranks, no lexical signal.
          bm25: 0,
          vectorRank: i + 1,
          fused: match.similarities[i]!,
          kind: walV1.MemoryKind.MEMORY_KIND_PROCEDURAL,
        }),
      }));
      const recallId = current.core.traceProcedureMatch(request.namespace, items, now);
      return { procedures: match.procedures, recallId };
    }),
  };
}
