import { memoryV1 } from "@t4dm/proto";
import { unary, UnavailableError } from "@t4dm/rpc";
import type { Logger } from "@t4dm/telemetry";
import type { Engine } from "./engine.js";

/** MemoryService over the engine; until recovery has finished every call is UNAVAILABLE. */
export function memoryHandlers(engine: () => Engine | undefined, logger: Logger): memoryV1.MemoryServiceServer {
  const ready = (): Engine => {
    const current = engine();
    if (!current) throw new UnavailableError("the memory service is recovering its state; retry shortly", "RECOVERING");
    return current;
  };
  return {
    remember: unary(logger, "MemoryService/Remember", (request: memoryV1.RememberRequest) => ready().core.remember(request)),
    batchRemember: unary(logger, "MemoryService/BatchRemember", (request: memoryV1.BatchRememberRequest) => ready().core.batchRemember(request)),
    recall: unary(logger, "MemoryService/Recall", (request: memoryV1.RecallRequest) => ready().core.recall(request)),
    reinforce: unary(logger, "MemoryService/Reinforce", (request: memoryV1.ReinforceRequest) => ready().core.reinforce(request)),
    forget: unary(logger, "MemoryService/Forget", (request: memoryV1.ForgetRequest) => ready().lifecycle.forget(request)),
    getMemory: unary(logger, "MemoryService/GetMemory", (request: memoryV1.GetMemoryRequest) => ready().reads.getMemory(request)),
    listMemories: unary(logger, "MemoryService/ListMemories", (request: memoryV1.ListMemoriesRequest) => ready().reads.listMemories(request)),
    consolidate: unary(logger, "MemoryService/Consolidate", (request: memoryV1.ConsolidateRequest) => ready().lifecycle.consolidate(request)),
  };
}
