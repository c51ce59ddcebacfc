/**
 * Authority over the admin API: the scopes a token may hold, the one table of the scope each route needs,
 * and the tokens (kept as sha256 digests, compared in constant time). docs/threat-model.md explains them.
 */
import { createHash, timingSafeEqual } from "node:crypto";

/** read: every GET; supervise: act on live work (sessions, agents); admin: everything (erasure, the audit log). */
export const SCOPES = ["read", "supervise", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * The scope each route needs: the one place it is declared. "public" routes need no token. A path under
 * /api that is not listed needs admin (a route added without a line here is closed, not open).
 * Paths are Express patterns (:name matches one segment); HEAD is checked as GET.
 */
export const ROUTE_SCOPES: ReadonlyArray<readonly [method: "GET" | "POST" | "DELETE", path: string, scope: Scope | "public"]> = [
  ["GET", "/api/openapi.json", "public"],
  ["GET", "/metrics", "read"],
  ["GET", "/api/agents", "read"],
  ["GET", "/api/queues", "read"],
  ["GET", "/api/sessions", "read"],
  ["GET", "/api/sessions/:id", "read"],
  ["GET", "/api/sessions/:id/transcript", "read"],
  ["GET", "/api/messages", "read"],
  ["GET", "/api/stats/realtime", "read"],
  ["GET", "/api/stats/history", "read"],
  ["POST", "/api/sessions/:id/end", "supervise"],
  ["POST", "/api/sessions/:id/transfer", "supervise"],
  ["POST", "/api/agents/:jid/state", "supervise"],
  ["POST", "/api/agents/:jid/adjust", "supervise"],
  ["DELETE", "/api/customers/:jid", "admin"],
  ["GET", "/api/audit", "admin"],
];

const compiled = ROUTE_SCOPES.map(([method, path, scope]) => ({
  method, scope,
  // As Express matches: case-insensitive, an optional trailing slash, a parameter is one non-empty segment.
  regex: new RegExp(`^${path.replace(/[.]/g, "\\.").replace(/:[a-z]+/gi, "[^/]+")}/?$`, "i"),
}));

/** The paths the guard covers: /api and below, and /metrics. */
export const guarded = (path: string) => /^\/api(\/|$)/i.test(path) || /^\/metrics\/?$/i.test(path);

/** The scope a request needs (a guarded path not in the table: admin). */
export function scopeFor(method: string, path: string): Scope | "public" {
  const m = method.toUpperCase() === "HEAD" ? "GET" : method.toUpperCase();
  return compiled.find((r) => r.method === m && r.regex.test(path))?.scope ?? "admin";
}

/** Whether scopes granted allow what is needed (admin holds every scope). */
export const allows = (granted: readonly Scope[], needed: Scope) => granted.includes("admin") || granted.includes(needed);

export interface ApiToken { name: string; digest: Buffer; scopes: readonly Scope[] }

export const sha256 = (text: string) => createHash("sha256").update(text).digest();

/** The configured tokens: admin.token as the full-power "admin", then admin.tokens (already digests). */
export function tokenTable(admin: { token: string; tokens?: ReadonlyArray<{ name: string; sha256: string; scopes: readonly Scope[] }> }): ApiToken[] {
  return [
    { name: "admin", digest: sha256(admin.token), scopes: ["admin"] },
    ...(admin.tokens ?? []).map((t) => ({ name: t.name, digest: Buffer.from(t.sha256, "hex"), scopes: t.scopes })),
  ];
}

/**
 * The token a bearer secret is, or undefined. Every entry is compared (digests of equal length, in constant
 * time), so the time taken says nothing about which token, or how much of one, matched.
 */
export function identify(tokens: readonly ApiToken[], secret: string): ApiToken | undefined {
  const digest = sha256(secret);
  let found: ApiToken | undefined;
  for (const t of tokens) if (timingSafeEqual(digest, t.digest) && !found) found = t;
  return found;
}
