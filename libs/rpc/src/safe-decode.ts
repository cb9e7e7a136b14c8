import type { ServiceDefinition } from "@grpc/grpc-js";
import { InvalidArgumentError } from "./errors.js";

/** A request body the protobuf decoder refused (garbage, or nesting past its recursion limit). */
export class UndecodableRequest {
  constructor(readonly reason: string) {}
}

/**
 * The same service definition, but a request that fails to decode reaches
 * the handler as an UndecodableRequest instead of becoming grpc-js's generic
 * INTERNAL: it is the caller's malformed input, so it earns INVALID_ARGUMENT.
 */
export function withSafeDecoding<T extends ServiceDefinition>(definition: T): T {
  const safe: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    safe[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return method.requestDeserialize(bytes);
        } catch (error) {
          return new UndecodableRequest((error as Error).message);
        }
      },
    };
  }
  return safe as T;
}

/** Throws INVALID_ARGUMENT for a request that could not be decoded. */
export function assertDecoded(request: unknown): void {
  if (request instanceof UndecodableRequest) {
    throw new InvalidArgumentError([{ field: "(request)", description: `could not be decoded: ${request.reason}` }]);
  }
}
