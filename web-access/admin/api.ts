/**
 * The admin HTTP API, with the token given at sign-in (kept in sessionStorage
 * only, never in localStorage or a cookie). Used for what XMPP does not carry
 * (when each agent entered its state, the history, the audit log) and, signed in
 * with a token alone, for everything (api-backend.ts).
 */
import { validStroke, type Stroke } from "../../protocol/board.js";

const TOKEN_KEY = "switchboard-admin-token";

export const savedToken = (): string => sessionStorage.getItem(TOKEN_KEY) ?? "";
export function saveToken(token: string): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** A refusal of the API: its HTTP status (401: the token is not known; 403: it lacks the scope) and its text. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

/** Whether a failure is the API not knowing the token. */
export const isUnauthorized = (err: unknown) => err instanceof ApiError && err.status === 401;
/** Whether a failure is the token lacking the route's scope. */
export const isForbidden = (err: unknown) => err instanceof ApiError && err.status === 403;

/** A request to /api/<path> with the token; the parsed JSON answer, or an ApiError with the API's own message. */
async function request(path: string, token: string, init: { method?: string; json?: unknown } = {}): Promise<unknown> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (init.json !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(new URL(`../api/${path}`, location.href), {
    method: init.method ?? "GET", headers, body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  if (!res.ok) {
    const error = await res.json().catch(() => null) as { error?: { message?: unknown } } | null;
    throw new ApiError(res.status, typeof error?.error?.message === "string" ? error.error.message : `HTTP ${res.status}`);
  }
  return res.json();
}

export const getJson = (path: string, token: string) => request(path, token);
export const postJson = (path: string, token: string, json: unknown = {}) => request(path, token, { method: "POST", json });

/** Today's figures of a queue (a subset of the API's QueueFigures). */
export interface TodayFigures {
  name: string; offered: number; answered: number; abandoned: number; serviceLevel: number | null;
  averageSpeedOfAnswerSeconds: number | null; ratings: number; csatAverage: number | null;
}

/** Today's figures per queue, from /api/stats/realtime (null figures when the history cannot be read). */
export async function today(token: string): Promise<TodayFigures[]> {
  const body = await getJson("stats/realtime", token) as { queues?: Array<{ name: string; today: Omit<TodayFigures, "name"> | null }> };
  return (body.queues ?? []).map((q) => ({
    name: String(q.name), offered: q.today?.offered ?? 0, answered: q.today?.answered ?? 0, abandoned: q.today?.abandoned ?? 0,
    serviceLevel: q.today?.serviceLevel ?? null, averageSpeedOfAnswerSeconds: q.today?.averageSpeedOfAnswerSeconds ?? null,
    ratings: q.today?.ratings ?? 0, csatAverage: q.today?.csatAverage ?? null,
  }));
}

/** A recorded session as /api/sessions?q= lists it. */
export interface FoundSession {
  id: string; queue: string; media: string; customer: string; seat: string | null; state: string;
  queuedAt: string | null; endedAt: string | null; feedback: { score: number; comment: string } | null;
}

/** Recorded sessions of the last 30 days whose transcript holds `q` (the API's first 100). */
export async function searchSessions(token: string, q: string): Promise<FoundSession[]> {
  const from = new Date(Date.now() - 30 * DAY).toISOString();
  return await getJson(`sessions?q=${encodeURIComponent(q)}&from=${encodeURIComponent(from)}`, token) as FoundSession[];
}

const DAY = 86400000;

/** One day of all queues together: sessions offered, answered, abandoned. */
export interface Day { start: string; offered: number; answered: number; abandoned: number }

/** The last `days` days (UTC, today included), all queues summed, from /api/stats/history?interval=1d. */
export async function lastDays(token: string, days = 7): Promise<Day[]> {
  const midnight = Math.floor(Date.now() / DAY) * DAY;
  const from = new Date(midnight - (days - 1) * DAY).toISOString(), to = new Date(midnight + DAY).toISOString();
  const body = await getJson(`stats/history?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&interval=1d`, token) as
    { queues?: Array<{ start: string; offered: number; answered: number; abandoned: number }> };
  const byDay = new Map<string, Day>();
  for (let i = 0; i < days; i++) {
    const start = new Date(midnight - (days - 1 - i) * DAY).toISOString();
    byDay.set(start, { start, offered: 0, answered: 0, abandoned: 0 });
  }
  for (const q of body.queues ?? []) {
    const d = byDay.get(new Date(q.start).toISOString());
    if (!d) continue;
    d.offered += q.offered ?? 0; d.answered += q.answered ?? 0; d.abandoned += q.abandoned ?? 0;
  }
  return [...byDay.values()];
}

export interface TranscriptLine { at: string; kind: string; sender: string; body: string }

/** A session's transcript: its lines, and what its whiteboard shows at the end (strokes that keep the rules only). */
export async function transcript(token: string, session: string): Promise<{ lines: TranscriptLine[]; board: Stroke[] }> {
  const body = await getJson(`sessions/${encodeURIComponent(session)}/transcript`, token) as { lines?: TranscriptLine[]; board?: { strokes?: unknown } };
  const strokes = Array.isArray(body.board?.strokes) ? body.board.strokes as Stroke[] : [];
  return { lines: body.lines ?? [], board: strokes.filter((s) => validStroke(s)) };
}

/** When an agent entered its state (ms), and which state that is. */
export interface StateSince { state: string; since: number }

/** jid -> the agent's state and when it entered it, from /api/stats/realtime (agents the history has a time for). */
export async function realtimeSince(token: string): Promise<Map<string, StateSince>> {
  const body = await getJson("stats/realtime", token) as { agents?: Array<{ jid?: unknown; state?: unknown; stateSince?: unknown }> };
  const since = new Map<string, StateSince>();
  for (const a of body.agents ?? []) {
    const t = typeof a.stateSince === "string" ? Date.parse(a.stateSince) : NaN;
    if (typeof a.jid === "string" && Number.isFinite(t)) since.set(a.jid, { state: String(a.state), since: t });
  }
  return since;
}

/** One entry of the audit log (GET /api/audit). */
export interface AuditEntry { id: string; at: string; actor: string; action: string; target: string; detail: string }

/** The audit log, newest first (admin scope); `action`: only that action. */
export async function auditLog(token: string, action = ""): Promise<AuditEntry[]> {
  return await getJson(`audit${action ? `?action=${encodeURIComponent(action)}` : ""}`, token) as AuditEntry[];
}
