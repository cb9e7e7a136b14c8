import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { BadRequest, ErrorInfo } from "./gen/google/rpc/error_details.js";
import { Status } from "./gen/google/rpc/status.js";

const DETAILS_KEY = "grpc-status-details-bin";
const TYPE_PREFIX = "type.googleapis.com/";

export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

/**
 * A call the service (or the channel) answered with an error: the gRPC code,
 * and what the service's google.rpc.Status details say (ErrorInfo reason and
 * metadata, BadRequest field violations for bad input).
 */
export class T4dmCallError extends Error {
  override readonly name = "T4dmCallError";
  /** The gRPC status code, e.g. `status.INVALID_ARGUMENT` (3). */
  readonly code: status;
  /** The code's name, e.g. "INVALID_ARGUMENT". */
  readonly codeName: string;
  /** ErrorInfo reason, e.g. "REQUEST_ID_REUSED"; empty when the service sent none. */
  readonly reason: string;
  readonly errorMetadata: Readonly<Record<string, string>>;
  readonly fieldViolations: readonly FieldViolation[];

  constructor(method: string, error: ServiceError) {
    const codeName = status[error.code] ?? `CODE_${error.code}`;
    const decoded = decodeDetails(error.metadata);
    const violations = decoded.fieldViolations.map((v) => `${v.field}: ${v.description}`).join("; ");
    super(`${method} failed: ${codeName}: ${error.details}${violations && !error.details.includes(violations) ? ` (${violations})` : ""}`, { cause: error });
    this.code = error.code;
    this.codeName = codeName;
    this.reason = decoded.reason;
    this.errorMetadata = decoded.errorMetadata;
    this.fieldViolations = decoded.fieldViolations;
  }
}

/** A bad option or argument, refused by the client before anything is sent. */
export class T4dmOptionError extends TypeError {
  override readonly name = "T4dmOptionError";
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`${option} ${problem}`);
  }
}

function decodeDetails(metadata: Metadata | undefined) {
  const decoded = { reason: "", errorMetadata: {} as Record<string, string>, fieldViolations: [] as FieldViolation[] };
  const raw = metadata?.get(DETAILS_KEY)[0];
  if (!(raw instanceof Buffer)) return decoded;
  try {
    for (const any of Status.decode(raw).details) {
      if (any.typeUrl === TYPE_PREFIX + "google.rpc.ErrorInfo") {
        const info = ErrorInfo.decode(any.value);
        decoded.reason = info.reason;
        decoded.errorMetadata = info.metadata;
      } else if (any.typeUrl === TYPE_PREFIX + "google.rpc.BadRequest") {
        for (const v of BadRequest.decode(any.value).fieldViolations) decoded.fieldViolations.push({ field: v.field, description: v.description });
      }
    }
  } catch {
    // Details that do not decode add nothing; the code and message still say what failed.
  }
  return decoded;
}
