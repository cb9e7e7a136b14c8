export * from "./errors.js";
export { toServiceError, decodeStatusDetails, ERROR_DOMAIN } from "./status-details.js";
export type { DecodedStatus } from "./status-details.js";
export { errorToStatus, unary } from "./error-boundary.js";
export { bindServer } from "./bind.js";
export { partialService } from "./partial-service.js";
export { withSafeDecoding, assertDecoded, UndecodableRequest } from "./safe-decode.js";
