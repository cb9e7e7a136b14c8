import { Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { googleRpc } from "@t4dm/proto";
import { InvalidArgumentError, T4dmError } from "./errors.js";

/** The ErrorInfo domain of every T4DM error. */
export const ERROR_DOMAIN = "t4dm.dev";

const DETAILS_KEY = "grpc-status-details-bin";
const TYPE_PREFIX = "type.googleapis.com/";

/**
 * Builds the ServiceError a handler returns for a domain error: the code, a
 * message, and a google.rpc.Status in the `grpc-status-details-bin` trailer
 * carrying ErrorInfo and, for bad input, BadRequest field violations.
 */
export function toServiceError(error: T4dmError): Partial<ServiceError> {
  const details = [
    {
      typeUrl: TYPE_PREFIX + "google.rpc.ErrorInfo",
      value: Buffer.from(googleRpc.ErrorInfo.encode({ reason: error.reason, domain: ERROR_DOMAIN, metadata: error.metadata }).finish()),
    },
  ];
  if (error instanceof InvalidArgumentError) {
    details.push({
      typeUrl: TYPE_PREFIX + "google.rpc.BadRequest",
      value: Buffer.from(googleRpc.BadRequest.encode({
        fieldViolations: error.violations.map((v) => ({ field: v.field, description: v.description, reason: "", localizedMessage: undefined })),
      }).finish()),
    });
  }
  const metadata = new Metadata();
  metadata.set(
    DETAILS_KEY,
    Buffer.from(googleRpc.Status.encode({ code: error.code, message: error.message, details }).finish()),
  );
  return { code: error.code, details: error.message, metadata };
}

/** What a client can read back from a failed call's trailers. */
export interface DecodedStatus {
  code: status;
  message: string;
  errorInfo?: googleRpc.ErrorInfo;
  fieldViolations: { field: string; description: string }[];
}

/** Decodes the google.rpc.Status details of a failed call, for clients and tests. */
export function decodeStatusDetails(error: Partial<ServiceError>): DecodedStatus {
  const decoded: DecodedStatus = { code: error.code ?? status.UNKNOWN, message: error.details ?? "", fieldViolations: [] };
  const raw = error.metadata?.get(DETAILS_KEY)[0];
  if (!(raw instanceof Buffer)) return decoded;
  const rpcStatus = googleRpc.Status.decode(raw);
  for (const any of rpcStatus.details) {
    if (any.typeUrl === TYPE_PREFIX + "google.rpc.ErrorInfo") decoded.errorInfo = googleRpc.ErrorInfo.decode(any.value);
    if (any.typeUrl === TYPE_PREFIX + "google.rpc.BadRequest") {
      for (const v of googleRpc.BadRequest.decode(any.value).fieldViolations) {
        decoded.fieldViolations.push({ field: v.field, description: v.description });
      }
    }
  }
  return decoded;
}
