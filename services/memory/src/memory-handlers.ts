import { memoryV1 } from "@t4dm/proto";
import { unary, UnavailableError } from "@t4dm/rpc";
import type { Logger } from "@t4dm/telemetry";
import type { MemoryCore } from "./memory-core.js";

/** MemoryService methods built so far; the rest answer UNIMPLEMENTED. */
export function memoryHandlers(core: () => MemoryCore | undefined, logger: Logger): Partial<memoryV1.MemoryServiceServer> {
  const ready = (): MemoryCore => {
    const current = core();
    if (!current) throw new UnavailableError("the memory service is recovering its state; retry shortly", "RECOVERING");
    return current;
  };
  return {
    remember: unary(logger, "MemoryService/Remember", (request: memoryV1.RememberRequest) => ready().remember(request)),
    batchRemember: unary(logger, "MemoryService/BatchRemember", (request: memoryV1.BatchRememberRequest) => ready().batchRemember(request)),
    recall: unary(logger, "MemoryService/Recall", (request: memoryV1.RecallRequest) => ready().recall(request)),
    getMemory: unary(logger, "MemoryService/GetMemory", (request: memoryV1.GetMemoryRequest) => ready().getMemory(request)),
    reinforce: unary(logger, "MemoryService/Reinforce", (request: memoryV1.ReinforceRequest) => ready().reinforce(request)),
  };
}
