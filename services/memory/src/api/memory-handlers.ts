import { memoryV1 } from "@t4dm/proto";
import { byNamespace, guarded, type Gate } from "./auth/guarded.js";
import { requireEngine, type Engine } from "../app/engine.js";

/** MemoryService over the engine, every call behind the key check; UNAVAILABLE until recovered. */
export function memoryHandlers(engine: () => Engine | undefined, gate: Gate): memoryV1.MemoryServiceServer {
  const ready = (): Engine => requireEngine(engine);
  return {
    remember: guarded(gate, "MemoryService/Remember", byNamespace, (r: memoryV1.RememberRequest) => ready().core.remember(r)),
    batchRemember: guarded(
      gate,
      "MemoryService/BatchRemember",
      (r: memoryV1.BatchRememberRequest) => ({ namespaces: [...new Set(r.requests.map((q) => q.namespace))] }),
      (r: memoryV1.BatchRememberRequest) => ready().core.batchRemember(r),
    ),
    recall: guarded(gate, "MemoryService/Recall", byNamespace, (r: memoryV1.RecallRequest) => ready().core.recall(r)),
    reinforce: guarded(gate, "MemoryService/Reinforce", byNamespace, (r: memoryV1.ReinforceRequest) => ready().core.reinforce(r)),
    forget: guarded(gate, "MemoryService/Forget", byNamespace, (r: memoryV1.ForgetRequest) => ready().lifecycle.forget(r)),
    getMemory: guarded(gate, "MemoryService/GetMemory", byNamespace, (r: memoryV1.GetMemoryRequest) => ready().reads.getMemory(r)),
    listMemories: guarded(gate, "MemoryService/ListMemories", byNamespace, (r: memoryV1.ListMemoriesRequest) => ready().reads.listMemories(r)),
    consolidate: guarded(gate, "MemoryService/Consolidate", byNamespace, (r: memoryV1.ConsolidateRequest) => ready().lifecycle.consolidate(r)),
  };
}
