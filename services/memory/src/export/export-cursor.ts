import { createHash } from "node:crypto";
import type { FieldViolation } from "@t4dm/rpc";

/**
 * An export walks these sources in this order: the retention policy first (an import sets it
 * before the memories it governs arrive), then memories, facts, procedures, and last the
 * learned scorer (when asked for).
 */
export const EXPORT_PHASES = ["policy", "held", "episodic", "nodes", "facts", "procedures", "learning"] as const;
export type ExportPhase = (typeof EXPORT_PHASES)[number];

/** Where the next export page starts: a source, and the last item's sort key in it (none at a source's start). */
export interface ExportCursor {
  phase: ExportPhase;
  after?: { time: number; id: string };
}

/** Opaque, bound to its namespace (a token from another namespace's export is refused). */
export function encodeExportCursor(namespace: string, cursor: ExportCursor): string {
  return Buffer.from(JSON.stringify({ n: digest(namespace), p: cursor.phase, t: cursor.after?.time, i: cursor.after?.id })).toString("base64url");
}

export function decodeExportCursor(token: string, namespace: string, violations: FieldViolation[]): ExportCursor | undefined {
  let parsed: { n?: unknown; p?: unknown; t?: unknown; i?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as typeof parsed;
  } catch {
    parsed = {};
  }
  const phase = EXPORT_PHASES.find((p) => p === parsed.p);
  const hasAfter = typeof parsed.t === "number" && typeof parsed.i === "string";
  if (!phase || typeof parsed.n !== "string" || (!hasAfter && (parsed.t !== undefined || parsed.i !== undefined))) {
    violations.push({ field: "page_token", description: "is not an export page token from this service" });
    return undefined;
  }
  if (parsed.n !== digest(namespace)) {
    violations.push({ field: "page_token", description: "was issued for another namespace's export" });
    return undefined;
  }
  return { phase, after: hasAfter ? { time: parsed.t as number, id: parsed.i as string } : undefined };
}

function digest(namespace: string): string {
  return createHash("sha256").update(JSON.stringify(["export", namespace])).digest("base64url").slice(0, 16);
}
