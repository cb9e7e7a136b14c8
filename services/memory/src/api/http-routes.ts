/**
 * Every HTTP route and the methods it answers. A request for a known path
 * with another method gets 405 and an Allow header (RFC 9110 §15.5.6), not
 * 404: the path exists, and the client should learn which method to use.
 */
const ROUTES: Readonly<Record<string, readonly string[]>> = {
  "/health": ["GET"],
  "/ready": ["GET"],
  "/status": ["GET"],
  "/metrics": ["GET"],
  "/api/v1/checkpoint": ["POST"],
  "/api/v1/reset": ["POST"],
};

export type RouteMatch = { kind: "allowed" } | { kind: "wrongMethod"; allow: readonly string[] } | { kind: "unknown" };

export function matchRoute(method: string | undefined, pathname: string): RouteMatch {
  const allow = Object.hasOwn(ROUTES, pathname) ? ROUTES[pathname] : undefined;
  if (allow === undefined) return { kind: "unknown" };
  return method !== undefined && allow.includes(method) ? { kind: "allowed" } : { kind: "wrongMethod", allow };
}
