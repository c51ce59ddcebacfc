/**
 * The Backend (backend.ts) over the admin API alone, for a console signed in with a token and no XMPP
 * account: agents, queues and sessions are read over HTTP and the wallboard is polled (GET /api/queues and
 * /api/agents every POLL_MS); the actions are the supervise routes. Nothing is pushed over HTTP, and the
 * monitored copies come as XMPP messages: there is no monitoring here.
 */
import { getJson, isUnauthorized, postJson } from "./api.js";
import type { Adjustment, AgentRow, AgentState, Backend, Live, QueueFigures, SessionRow, TransferTarget } from "./backend.js";

/** The wallboard's polling period: never faster than once a second. */
export const POLL_MS = 2000;

/** GET /api/agents, as the OpenAPI document's Agent. */
interface ApiAgent { jid: string; name?: string; state: string; reason: string; activeSessions: number; maxChats: number; skills: string[] }
/** GET /api/queues: `rules` is the queue as configured (title, skills among them). */
interface ApiQueue { name: string; waiting: number; oldestWaitSeconds: number; rules?: { title?: string; skills?: string[] } }
/** GET /api/sessions without a query, as the OpenAPI document's LiveSession. */
interface ApiSession {
  id: string; queue: string; media: string; customer: string; seat: string | null; state: string;
  queuedAt: string; assignedAt: string | null;
}

const time = (iso: string | null | undefined) => { const t = iso ? Date.parse(iso) : NaN; return Number.isFinite(t) ? t : null; };

const agentRow = (a: ApiAgent): AgentRow => ({
  jid: a.jid, name: a.name ?? "", state: a.state, reason: a.reason, active: a.activeSessions, maxChats: a.maxChats, skills: a.skills,
});

/**
 * The wallboard's figures from the queues and the agents, counted as the component counts them for its
 * pubsub node: agents by state among those with all the queue's skills.
 */
export function figures(queues: ApiQueue[], agents: ApiAgent[], now = Date.now()): QueueFigures[] {
  return queues.map((q) => {
    const skills = q.rules?.skills ?? [];
    const staff = agents.filter((a) => skills.every((s) => a.skills.includes(s)));
    const count = (state: string) => staff.filter((a) => a.state === state).length;
    return {
      name: q.name, title: q.rules?.title ?? q.name, waiting: q.waiting, longestWait: q.oldestWaitSeconds,
      waitingSince: q.waiting ? now - q.oldestWaitSeconds * 1000 : null,
      agents: { ready: count("ready"), busy: count("busy"), wrapUp: count("wrap-up"), notReady: count("not-ready"), offline: count("offline") },
      updated: now,
    };
  });
}

export class ApiBackend implements Backend {
  readonly who = "Admin API token";
  readonly monitoring = null;
  private poll: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  /** The agents as the last poll read them: the panel's refresh that follows uses them (one read, not two). */
  private lastAgents: { at: number; agents: ApiAgent[] } | undefined;

  constructor(private readonly token: string) {}

  async start(live: Live): Promise<void> {
    // One read at a time: the next is scheduled when this one is done, so a slow server is never asked twice.
    const tick = async (): Promise<void> => {
      try {
        const [queues, agents] = await Promise.all([getJson("queues", this.token) as Promise<ApiQueue[]>, this.readAgents()]);
        if (this.stopped) return;
        live.wallboard(figures(queues, agents));
        live.changed();
      } catch (err) {
        if (this.stopped) return;
        if (isUnauthorized(err)) { live.end("The admin token was refused (it is unknown or was withdrawn). Sign in again."); return; }
        live.fail("The wallboard is not available", err);
      }
      this.poll = setTimeout(() => void tick(), POLL_MS);
    };
    await tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.poll);
  }

  private async readAgents(): Promise<ApiAgent[]> {
    const agents = await getJson("agents", this.token) as ApiAgent[];
    this.lastAgents = { at: Date.now(), agents };
    return agents;
  }

  /** The agents: the poll's read when it is under a second old, else a new one. */
  async agents(): Promise<AgentRow[]> {
    const last = this.lastAgents;
    this.lastAgents = undefined; // used once: a refresh after an action reads again
    return (last && Date.now() - last.at < 1000 ? last.agents : await this.readAgents()).map(agentRow);
  }

  /** The live ones of /api/sessions (it lists the recently ended too). */
  async sessions(): Promise<SessionRow[]> {
    return (await getJson("sessions", this.token) as ApiSession[]).filter((s) => s.state !== "ended").map((s) => ({
      id: s.id, customer: s.customer, queue: s.queue, media: s.media, state: s.state, seat: s.seat ?? "",
      queuedAt: time(s.queuedAt), servedSince: time(s.assignedAt),
    }));
  }

  async setAgentState(jid: string, state: AgentState, reason: string): Promise<void> {
    await postJson(`agents/${encodeURIComponent(jid)}/state`, this.token, reason ? { state, reason } : { state });
  }

  async adjustAgent(jid: string, change: Adjustment): Promise<void> {
    await postJson(`agents/${encodeURIComponent(jid)}/adjust`, this.token, change);
  }

  async transfer(session: string, to: TransferTarget, note: string): Promise<void> {
    await postJson(`sessions/${encodeURIComponent(session)}/transfer`, this.token, note ? { ...to, note } : to);
  }

  async endSession(session: string): Promise<void> {
    await postJson(`sessions/${encodeURIComponent(session)}/end`, this.token);
  }
}
