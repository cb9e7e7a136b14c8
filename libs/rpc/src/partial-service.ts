import { status, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";

/**
 * Registers the methods a service has built and answers every other method
 * of its definition with UNIMPLEMENTED naming the full method path: the
 * honest answer for a call that does not exist yet, never a fake success.
 */
export function partialService<T extends UntypedServiceImplementation>(
  definition: ServiceDefinition,
  implementation: Partial<T>,
): UntypedServiceImplementation {
  const handlers: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const built = implementation[name];
    if (built !== undefined) {
      handlers[name] = built;
      continue;
    }
    const error = { code: status.UNIMPLEMENTED, details: `${method.path.slice(1)} is not implemented yet` };
    handlers[name] = method.responseStream
      ? (call: { emit(event: "error", value: unknown): void }) => call.emit("error", error)
      : (_call: unknown, callback: (e: typeof error) => void) => callback(error);
  }
  return handlers;
}
