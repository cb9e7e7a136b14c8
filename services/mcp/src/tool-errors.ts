import { status, type ServiceError } from "@grpc/grpc-js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { decodeStatusDetails } from "@t4dm/rpc";

/** A failed memory-service call as the agent sees it: a tool error, never a protocol failure. */
export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === "number" && "metadata" in error;
}

/**
 * The memory service's status as an MCP tool error (`isError: true`): the status code's name, the
 * ErrorInfo reason and every field violation, so the agent can correct the call. Text only:
 * clients check structuredContent against the tool's output schema even on errors.
 */
export function toolErrorFromStatus(error: ServiceError): CallToolResult {
  const decoded = decodeStatusDetails(error);
  const code = status[decoded.code] ?? `CODE_${decoded.code}`;
  const reason = decoded.errorInfo?.reason;
  const violations = decoded.fieldViolations.map((v) => `${v.field}: ${v.description}`);
  const text =
    `The memory service refused the call: ${code}` +
    (reason ? ` (${reason})` : "") +
    (decoded.message ? `: ${decoded.message}` : "") +
    (violations.length > 0 && !decoded.message.includes(violations[0]!) ? `; ${violations.join("; ")}` : "");
  return { isError: true, content: [{ type: "text", text }] };
}

/** Anything else: a generic message (internal text never reaches the agent; the log has it). */
export function internalToolError(): CallToolResult {
  return { isError: true, content: [{ type: "text", text: "The MCP server failed to complete the call (INTERNAL); see its log." }] };
}
