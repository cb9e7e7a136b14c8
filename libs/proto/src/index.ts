/**
 * Generated protobuf messages and grpc-js service definitions for every
 * T4DM contract (ts-proto via `make proto`; never edited by hand).
 */
export * as memoryV1 from "./memory-v1.js";
export * as adminV1 from "./gen/t4dm/admin/v1/admin_service.js";
export * as persistenceV1 from "./gen/t4dm/persistence/v1/persistence_service.js";
export * as walV1 from "./gen/t4dm/wal/v1/wal.js";
export * as stateV1 from "./gen/t4dm/state/v1/state.js";
export * as googleRpc from "./google-rpc.js";
export { loadDescriptorSet, reflectionPackageDefinition } from "./descriptors.js";
