import { createHash } from "node:crypto";
import type { FieldViolation } from "@t4dm/rpc";

/** Where the next page starts: the last item's sort key. */
export interface PageCursor {
  time: number;
  id: string;
}

/**
 * Opaque page tokens bound to the query that made them: a token carries a
 * digest of (kind, namespace, query), so one from another query or namespace
 * is refused instead of silently paging through something else.
 */
export function encodePageToken(kind: string, namespace: string, query: unknown, cursor: PageCursor): string {
  return Buffer.from(JSON.stringify({ q: digest(kind, namespace, query), t: cursor.time, i: cursor.id })).toString("base64url");
}

export function decodePageToken(token: string, kind: string, namespace: string, query: unknown, violations: FieldViolation[]): PageCursor | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { q?: unknown; t?: unknown; i?: unknown };
    if (typeof parsed.t !== "number" || typeof parsed.i !== "string" || typeof parsed.q !== "string") throw new Error("malformed");
    if (parsed.q !== digest(kind, namespace, query)) {
      violations.push({ field: "page_token", description: "was issued for a different query or namespace" });
      return undefined;
    }
    return { time: parsed.t, id: parsed.i };
  } catch {
    violations.push({ field: "page_token", description: "is not a page token from this service" });
    return undefined;
  }
}

function digest(kind: string, namespace: string, query: unknown): string {
  return createHash("sha256").update(JSON.stringify([kind, namespace, query])).digest("base64url").slice(0, 16);
}
