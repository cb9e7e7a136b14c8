import { status } from "@grpc/grpc-js";

/** One problem with one request field, as in google.rpc.BadRequest. */
export interface FieldViolation {
  field: string;
  description: string;
}

/**
 * Domain errors that the error boundary turns into gRPC statuses. Anything
 * else thrown by a handler becomes UNKNOWN with a generic message, so
 * internal text never reaches callers.
 */
export abstract class T4dmError extends Error {
  abstract readonly code: status;
  /** A stable UPPER_SNAKE reason for google.rpc.ErrorInfo. */
  readonly reason: string;
  readonly metadata: Record<string, string>;

  constructor(message: string, reason: string, options?: { cause?: unknown; metadata?: Record<string, string> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.reason = reason;
    this.metadata = options?.metadata ?? {};
  }
}

export class InvalidArgumentError extends T4dmError {
  readonly code = status.INVALID_ARGUMENT;
  constructor(readonly violations: readonly FieldViolation[]) {
    super(violations.map((v) => `${v.field}: ${v.description}`).join("; "), "INVALID_ARGUMENT");
  }
}

export class NotFoundError extends T4dmError {
  readonly code = status.NOT_FOUND;
}

export class PermissionDeniedError extends T4dmError {
  readonly code = status.PERMISSION_DENIED;
}

export class UnauthenticatedError extends T4dmError {
  readonly code = status.UNAUTHENTICATED;
}

export class FailedPreconditionError extends T4dmError {
  readonly code = status.FAILED_PRECONDITION;
}

export class ResourceExhaustedError extends T4dmError {
  readonly code = status.RESOURCE_EXHAUSTED;
}

export class UnavailableError extends T4dmError {
  readonly code = status.UNAVAILABLE;
}

export class AbortedError extends T4dmError {
  readonly code = status.ABORTED;
}
