import { type ServiceError, status } from "@grpc/grpc-js";
import type { Logger } from "@t4dm/telemetry";
import { T4dmError } from "./errors.js";
import { toServiceError } from "./status-details.js";

/**
 * The one place handler errors become gRPC statuses: domain errors map to
 * their code with details; anything else is logged and answered as UNKNOWN
 * with a generic message.
 */
export function errorToStatus(error: unknown, logger: Logger, method: string): Partial<ServiceError> {
  if (error instanceof T4dmError) return toServiceError(error);
  logger.error("unexpected error in handler", { method, error });
  return { code: status.UNKNOWN, details: "internal error; see the service log" };
}
