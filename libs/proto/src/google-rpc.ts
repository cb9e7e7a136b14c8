export * from "./gen/google/rpc/status.js";
export * from "./gen/google/rpc/error_details.js";
