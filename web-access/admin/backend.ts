/**
 * What the console's panels ask of the contact center, whichever way the supervisor signed in: the
 * supervisor's XMPP account (supervisor.ts, ad-hoc commands and pushes) or an admin API token alone
 * (api-backend.ts, HTTP and polling). The panels see this interface only. No DOM here.
 */

export interface QueueFigures {
  name: string;
  title: string;
  waiting: number;
  longestWait: number;
  /** When the first in line joined (ms), null when nobody waits. */
  waitingSince: number | null;
  agents: { ready: number; busy: number; wrapUp: number; notReady: number; offline: number };
  updated: number;
}

export interface AgentRow {
  jid: string; name: string; state: string; reason: string; active: number; maxChats: number; skills: string[];
}

export interface SessionRow {
  id: string; customer: string; queue: string; media: string; state: string;
  /** The agent serving it (bare JID), "" while it waits. */
  seat: string;
  /** When the customer joined (ms). */
  queuedAt: number | null;
  /** When an agent took it (ms), when the backend says (the API does; list-sessions does not). */
  servedSince: number | null;
}

/** A copy of a monitored chat, as the server forwards it. */
export interface Copy { session: string; seat: string; direction: string; text: string; from: string; at: number }

export type AgentState = "ready" | "not-ready" | "offline";
export type TransferTarget = { agent: string } | { queue: string };
/** A change for the day: only what is given changes. */
export interface Adjustment { skills?: string[]; maxChats?: number }

/** Quality monitoring: it needs an XMPP account (the copies come as messages), so a token alone has none. */
export interface Monitoring {
  monitor(session: string): Promise<void>;
  unmonitor(session: string): Promise<void>;
  whisper(session: string, text: string): Promise<void>;
  barge(session: string, text: string): Promise<void>;
}

/** What a backend tells the console as things happen. */
export interface Live {
  wallboard(queues: QueueFigures[]): void;
  /** Something may have moved: the agents and the sessions are read again. */
  changed(): void;
  copy(c: Copy): void;
  unmonitored(session: string, text: string): void;
  /** The console cannot go on (not a supervisor, connection lost, token refused): back to the sign-in. */
  end(message: string): void;
  fail(what: string, err: unknown): void;
}

export interface Backend {
  /** Who is signed in, as the top bar says it. */
  readonly who: string;
  /** null: monitoring, whisper and barge are not available. */
  readonly monitoring: Monitoring | null;
  /** Starts the live feed (the wallboard, pushed or polled). */
  start(live: Live): Promise<void>;
  stop(): Promise<void>;
  agents(): Promise<AgentRow[]>;
  sessions(): Promise<SessionRow[]>;
  setAgentState(jid: string, state: AgentState, reason: string): Promise<void>;
  adjustAgent(jid: string, change: Adjustment): Promise<void>;
  transfer(session: string, to: TransferTarget, note: string): Promise<void>;
  endSession(session: string): Promise<void>;
}

/** A session an agent serves as a chat: what a transfer can move. */
export const transferable = (s: SessionRow) => s.media === "chat" && !!s.seat && (s.state === "assigned" || s.state === "in-service");

/** "sales, billing" or "sales billing" -> ["sales", "billing"]. */
export const skillList = (text: string) => text.split(/[\s,]+/).filter(Boolean);
