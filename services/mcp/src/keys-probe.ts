import { status, type ServiceError } from "@grpc/grpc-js";
import { memoryV1 } from "@t4dm/proto";
import type { Logger } from "@t4dm/telemetry";
import type { MemoryApi } from "./memory-api.js";

/** The memory service runs without API keys (development mode): a public MCP listener would hand anyone every namespace. */
export class KeysNotInForceError extends Error {
  constructor(answer: string) {
    super(`the memory service answered a call without an API key with ${answer}: it runs without keys (development mode)`);
    this.name = "KeysNotInForceError";
  }
}

/**
 * Before an MCP listener off loopback takes requests: asks the memory service, without a key,
 * for a memory. Only UNAUTHENTICATED proves keys are in force there (the MCP server forwards
 * each caller's key and never checks keys itself). Waits, with backoff, while the memory service
 * is not reachable yet (a pod's containers start in any order).
 */
export async function requireKeysInForce(keyless: MemoryApi, logger: Logger, maxBackoffMs = 2_000): Promise<void> {
  let backoffMs = 100;
  for (;;) {
    try {
      await keyless.getMemory(memoryV1.GetMemoryRequest.fromPartial({ namespace: "t4dm-mcp-probe", id: "probe" }));
      throw new KeysNotInForceError("OK");
    } catch (error) {
      if (error instanceof KeysNotInForceError) throw error;
      const code = (error as ServiceError).code;
      if (code === status.UNAUTHENTICATED) return;
      if (code !== status.UNAVAILABLE && code !== status.DEADLINE_EXCEEDED) throw new KeysNotInForceError(status[code] ?? String(code));
      logger.warn("memory service not reachable yet; waiting before listening", { event: "keys_probe.waiting", code: status[code], retryInMs: backoffMs });
      await new Promise((resolve) => setTimeout(resolve, backoffMs));
      backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
    }
  }
}
