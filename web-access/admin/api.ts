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
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
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
