/**
 * The admin HTTP API, with the token given at sign-in (kept in sessionStorage
 * only, never in localStorage or a cookie). Used for what XMPP does not carry:
 * when each agent entered its state (/api/stats/realtime).
 */
const TOKEN_KEY = "switchboard-admin-token";

export const savedToken = (): string => sessionStorage.getItem(TOKEN_KEY) ?? "";
export function saveToken(token: string): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

async function getJson(path: string, token: string): Promise<unknown> {
  const res = await fetch(new URL(`../api/${path}`, location.href), { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) {
    const error = await res.json().catch(() => null) as { error?: { message?: unknown } } | null;
    throw new Error(typeof error?.error?.message === "string" ? error.error.message : `HTTP ${res.status}`);
  }
  return res.json();
}

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

/** Recorded sessions whose transcript holds `q` (the last 30 days, the API's default range). */
export async function searchSessions(token: string, q: string): Promise<FoundSession[]> {
  return await getJson(`sessions?q=${encodeURIComponent(q)}`, token) as FoundSession[];
}

export interface TranscriptLine { at: string; kind: string; sender: string; body: string }

export async function transcript(token: string, session: string): Promise<TranscriptLine[]> {
  const body = await getJson(`sessions/${encodeURIComponent(session)}/transcript`, token) as { lines?: TranscriptLine[] };
  return body.lines ?? [];
}

/** jid -> when the agent entered its current state (ms), from /api/stats/realtime. */
export async function realtimeSince(token: string): Promise<Map<string, number>> {
  const body = await getJson("stats/realtime", token) as { agents?: Array<{ jid?: unknown; stateSince?: unknown }> };
  const since = new Map<string, number>();
  for (const a of body.agents ?? []) {
    const t = typeof a.stateSince === "string" ? Date.parse(a.stateSince) : NaN;
    if (typeof a.jid === "string" && Number.isFinite(t)) since.set(a.jid, t);
  }
  return since;
}
