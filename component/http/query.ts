/**
 * Strict reading of the history API's query strings: known parameters only, each once, ISO 8601 times with a
 * zone, a bounded range, known interval names. A refusal is a bad-request with a human text that never
 * repeats what was sent.
 */
import { CtiError } from "../../cti/errors.js";
import { INTERVAL_MS, type StatsInterval } from "../../cti/statistics.js";

const DAY = 86_400_000;

/** The longest range each interval may cover (the number of buckets stays under about 3,000). */
export const MAX_RANGE_DAYS: Record<StatsInterval, number> = { "15m": 31, "1h": 92, "1d": 400 };
/** Sessions search: the range bounds the transcript scan (docs/records.md). */
export const MAX_SEARCH_DAYS = 400;
export const MAX_SESSIONS = 1000;
export const DEFAULT_SESSIONS = 100;
export const MAX_SEARCH_TEXT = 200;

/** 2026-11-02, or 2026-11-02T09:00[:00[.000]] with Z or an offset: a time without a zone is ambiguous. */
const ISO_TIME = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d))?$/;
const QUEUE = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const BARE_JID = /^[^@/\s"&'<>:]{1,64}@[a-z0-9.-]{1,253}$/i;

const bad = (text: string) => new CtiError("bad-request", text);

type Raw = Record<string, unknown>;

/** The parameters as single strings; anything else (repeated, nested, unknown) is refused. */
function single(query: Raw, known: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (!known.includes(key)) throw bad(known.length ? `Unknown query parameter; this route takes ${known.join(", ")}.` : "This route takes no query parameters.");
    if (typeof value !== "string") throw bad("Each query parameter may be given once, as plain text.");
    out[key] = value;
  }
  return out;
}

function time(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = ISO_TIME.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw bad(`'${name}' must be an ISO 8601 time with a zone, such as 2026-11-02T09:00:00Z (or a date, 2026-11-02, for midnight UTC).`);
  return ms;
}

function range(p: Record<string, string>, now: number, maxDays: number, defaultMs: number): { from: number; to: number } {
  const to = time(p.to, "to") ?? now;
  const from = time(p.from, "from") ?? to - defaultMs;
  if (from >= to) throw bad("'from' must be before 'to'.");
  if (to - from > maxDays * DAY) throw bad(`The range may cover at most ${maxDays} days for this request.`);
  return { from, to };
}

function filters(p: Record<string, string>): { queue?: string; agent?: string } {
  if (p.queue !== undefined && !QUEUE.test(p.queue)) throw bad("'queue' must be a queue name (lowercase letters, digits, '_', '.' or '-').");
  if (p.agent !== undefined && !BARE_JID.test(p.agent)) throw bad("'agent' must be an agent's bare JID, such as alice@example.test.");
  return { ...(p.queue !== undefined ? { queue: p.queue } : {}), ...(p.agent !== undefined ? { agent: p.agent.toLowerCase() } : {}) };
}

export interface HistoryStatsQuery { from: number; to: number; interval: StatsInterval; queue?: string; agent?: string }

/** GET /api/stats/history: from and to required, interval default 1h. */
export function statsQuery(query: Raw): HistoryStatsQuery {
  const p = single(query, ["from", "to", "interval", "queue", "agent"]);
  if (p.from === undefined || p.to === undefined) throw bad("'from' and 'to' are required (ISO 8601 times).");
  const interval = (p.interval ?? "1h") as StatsInterval;
  if (!(interval in INTERVAL_MS)) throw bad("'interval' must be 15m, 1h or 1d.");
  return { ...range(p, 0, MAX_RANGE_DAYS[interval], 0), interval, ...filters(p) };
}

export interface SessionsQuery { from: number; to: number; queue?: string; agent?: string; q?: string; limit: number }

/** The parameters that make GET /api/sessions a history search (without any: the live sessions). */
export const SESSION_SEARCH_PARAMS = ["from", "to", "queue", "agent", "q", "limit"];

/** GET /api/sessions with parameters: to defaults to now, from to a day before to. */
export function sessionsQuery(query: Raw, now: number): SessionsQuery {
  const p = single(query, SESSION_SEARCH_PARAMS);
  const limit = p.limit === undefined ? DEFAULT_SESSIONS : /^\d{1,4}$/.test(p.limit) ? Number(p.limit) : NaN;
  if (!(limit >= 1 && limit <= MAX_SESSIONS)) throw bad(`'limit' must be a whole number from 1 to ${MAX_SESSIONS}.`);
  if (p.q !== undefined && (p.q.trim().length === 0 || p.q.length > MAX_SEARCH_TEXT)) throw bad(`'q' must be 1 to ${MAX_SEARCH_TEXT} characters of text.`);
  return { ...range(p, now, MAX_SEARCH_DAYS, DAY), ...filters(p), ...(p.q !== undefined ? { q: p.q } : {}), limit };
}

/** Routes that take no parameters at all. */
export function noParameters(query: Raw): void {
  single(query, []);
}

export interface AuditQueryParams { from: number; to: number; actor?: string; action?: string; limit: number }
export const MAX_AUDIT = 1000;
export const DEFAULT_AUDIT_DAYS_SHOWN = 30;

/** GET /api/audit: to defaults to now, from to 30 days before to; actor ("token:name" or a bare JID) and action match exactly. */
export function auditQuery(query: Raw, now: number): AuditQueryParams {
  const p = single(query, ["from", "to", "actor", "action", "limit"]);
  const limit = p.limit === undefined ? DEFAULT_SESSIONS : /^\d{1,4}$/.test(p.limit) ? Number(p.limit) : NaN;
  if (!(limit >= 1 && limit <= MAX_AUDIT)) throw bad(`'limit' must be a whole number from 1 to ${MAX_AUDIT}.`);
  if (p.actor !== undefined && !/^(token:[a-z0-9][a-z0-9_.-]{0,63}|[^@/\s"&'<>:]{1,64}@[a-z0-9.-]{1,253})$/i.test(p.actor))
    throw bad("'actor' must be token:<name> or a bare JID.");
  if (p.action !== undefined && !/^[a-z][a-z-]{0,31}$/.test(p.action)) throw bad("'action' must be an action name such as end-session.");
  return {
    ...range(p, now, 36500, DEFAULT_AUDIT_DAYS_SHOWN * DAY), limit,
    ...(p.actor !== undefined ? { actor: p.actor.startsWith("token:") ? p.actor : p.actor.toLowerCase() } : {}),
    ...(p.action !== undefined ? { action: p.action } : {}),
  };
}
