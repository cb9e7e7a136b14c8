/**
 * @t4dm/client: a typed client for the T4DM memory service (gRPC).
 *
 *   const client = connect("127.0.0.1:50051", { apiKey, deadlineMs: 5_000 });
 *   const { memory } = await client.remember({ namespace: "agent-1", content: "..." });
 */
export { connect, T4dmClient } from "./client.js";
export type { CallSettings, Input } from "./client.js";
export type { ConnectOptions, RetryEvent, TlsOption } from "./options.js";
export { DEFAULT_DEADLINE_MS } from "./options.js";
export { T4dmCallError, T4dmOptionError } from "./errors.js";
export type { FieldViolation } from "./errors.js";
export { DEFAULT_RETRY_POLICY } from "./retry.js";
export type { RetryPolicy } from "./retry.js";
export { status } from "@grpc/grpc-js";
/** The generated messages and enums of the public contracts. */
export * as memoryV1 from "./memory-v1.js";
export * as adminV1 from "./gen/t4dm/admin/v1/admin_service.js";
