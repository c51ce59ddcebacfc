/** The CTI's vocabulary. Times are epoch milliseconds from the injected clock. */
import type { BoardOp } from "../protocol/board.js";
import type { SharedFile } from "../protocol/files.js";
import type { EndReason } from "../protocol/names.js";
import type { Strategy } from "./allocation.js";
import type { Hours } from "./hours.js";

/** How the customer reached us: a chat (XMPP) or a call (SIP, through the soft switch). */
export type Media = "chat" | "voice";
export type SessionState = "queued" | "assigned" | "in-service" | "ended";
/** Stored agent state, driven by presence. "busy" is derived (ready and at capacity). */
export type AgentState = "offline" | "not-ready" | "ready";
export type AgentView = AgentState | "busy" | "wrap-up";

export interface Queue {
  name: string;
  title?: string;
  skills: string[];
  /** Minimum levels for some of the skills (default 1). */
  minLevels?: Record<string, number>;
  /** How to choose among the seats that can serve (default fewest-active). */
  strategy?: Strategy;
  /** Customers of this queue start with this priority (higher is served first; default 0). */
  priority?: number;
  /** A waiting customer gains one priority step per this many seconds (default 120). */
  agingSeconds?: number;
  /** Keep a returning customer for the seat that served it last, if that seat is free within this many seconds. */
  stickySeconds?: number;
  allowGuests: boolean;
  deny: string[];
  open: boolean;
  /** Seconds an assigned customer has to write to the seat before the seat is released (none if unset). */
  assignTimeout?: number;
  /** Seconds a seat is not allocated after each session of this queue (after-chat work). */
  wrapUpSeconds?: number;
  /** At most this many customers wait; more are refused (service-unavailable). */
  maxWaiting?: number;
  /** A customer waiting this long leaves the queue with a notice. */
  maxWaitSeconds?: number;
  /** Seconds a seat has to answer an assigned customer before the customer is re-routed. */
  firstResponseTimeout?: number;
  /** Unanswered customers in a row after which the seat is set not ready. */
  maxNoAnswer?: number;
  /** Seconds an XEP-0142 offer stands before it is revoked (default 20). */
  offerTimeout?: number;
  /** Business hours; outside them joins are refused with the next opening. */
  hours?: Hours;
  /** After waiting this long, a customer may also be served by seats with the overflowSkills. */
  overflowAfter?: number;
  overflowSkills?: string[];
  /** What the queue takes (default both). */
  media?: Media[];
}

export interface AgentProfile {
  jid: string;
  name?: string;
  skills: string[];
  /** Levels of some skills, 1-10 (a listed skill without one has DEFAULT_LEVEL). */
  levels?: Record<string, number>;
  maxChats: number;
  /** Takes calls on the phones registered with its account. */
  voice?: boolean;
  /** A call leaves the seat's other capacity to chats (by default a call takes the whole seat). */
  chatsDuringCalls?: boolean;
}

export interface Agent extends AgentProfile {
  voice: boolean;
  /** One of its phones is registered now (voice agents only). */
  phone: boolean;
  /** Calls it is on (0 or 1). */
  calls: number;
  levels: Record<string, number>;
  state: AgentState;
  /** Why the agent is not ready (presence status text), "" otherwise. */
  reason: string;
  active: number;
  /** When the agent last became free (ready, or a session ended): longest idle first. */
  freeSince: number;
  /** Not allocated before this time (wrap-up after a session); 0 when not wrapping up. */
  wrapUntil: number;
  /** Customers left unanswered in a row. */
  missed: number;
  /** When the agent was last given a customer (round-robin). */
  lastAssigned: number;
  /** The agent's client that takes XEP-0142 offers (full JID), "" when none does. */
  offerJid: string;
}

export interface Session {
  id: string;
  queue: string;
  /** The full JID the customer joined from. */
  customer: string;
  /** The customer used a plain chat client: every answer carries a body, as type chat. */
  plain: boolean;
  media: Media;
  /** The adapter's handle for the customer's connection (a call's Call-ID), "" when it needs none. */
  handle: string;
  /** A chat's call going on now (its Call-ID), when the chat turned into a call. */
  callHandle?: string;
  /** Every skill the seat must have: the queue's plus the customer's extras, sorted. */
  needs: string[];
  form: Record<string, string>;
  state: SessionState;
  seat: string | null;
  queuedAt: number;
  assignedAt: number | null;
  inServiceAt: number | null;
  endedAt: number | null;
  endReason: EndReason | "departed" | null;
  /** Secret given to the customer at join, to resume the session from a new JID (page reload). */
  token: string;
  /** When the customer went offline, while it may still resume; null when present. */
  awaySince: number | null;
  feedback: { score: number; comment: string } | null;
  /** The seat's wrap-up after this session, from the queue's wrapUpSeconds when it was joined. */
  wrapUpMs: number;
  /** When the seat first answered the customer. */
  answeredAt: number | null;
  /** Seats that let this customer go unanswered: routing tries others first. */
  missedBy: string[];
  /** The queue's priority plus the customer's tier; aging adds to it while waiting. */
  priority: number;
  /** The seat that served this customer last, kept for it for the queue's stickySeconds. */
  preferredSeat: string | null;
  /** Agents' clients (full JIDs) the customer is offered to, until ringUntil; empty when no offer stands. */
  ringing: string[];
  ringUntil: number | null;
  /** An agent or supervisor (bare JID) the seat invited into the conversation (issue 15), while it is in it. */
  expert?: string;
  /** The queue's timeouts (ms, 0: none) at the join, for the store's deadline index; not read back. */
  timeoutsMs?: Timeouts;
}

/** A queue's maxWaitSeconds, assignTimeout and firstResponseTimeout in ms (0: none): the deadlines the sweep keeps. */
export interface Timeouts { wait: number; assign: number; answer: number }

/** A message left for agents when nobody could take the chat. */
export interface LeftMessage {
  id: string;
  queue: string;
  from: string;
  name: string;
  email: string;
  message: string;
  at: number;
}

/** What the customer sends with join-queue, after parsing. */
export interface JoinRequest {
  queue: string;
  customer: string;
  plain: boolean;
  extraSkills: string[];
  form: Record<string, string>;
  /** A call (default: a chat). */
  media?: Media;
  handle?: string;
  /** The caller proved no identity (an anonymous SIP caller): treated as a guest. */
  guest?: boolean;
  /**
   * The adapter tells the customer its place with the join's answer (Joined.status): the status pass's next
   * one is due this much later. Without it, the pass tells the first half a second after the join.
   */
  nextStatusInMs?: number;
}

/** A join's session and, while it waits, where it stands then (what its first queue status says; asked for by nextStatusInMs). */
export type Joined = Session & { status: { position: number; waitSeconds: number } | null };

/** What a page's call token stands for: the join of the call that will carry it, or a call in a chat session (issue 11). */
export type CallTokenJoin = Pick<JoinRequest, "queue" | "customer" | "form" | "extraSkills"> & { session?: string };

/** A recorded message: to the seat, from the seat, a supervisor's part (monitoring, whisper, barge), or an invited expert's words (issue 15). */
export type MessageDirection = "in" | "out" | "supervisor" | "expert";

export type CallPhase = "ringing" | "answered" | "ended";

/** Transitions, appended to the event log atomically with the change they describe. */
export type CtiEvent =
  | { type: "queued"; session: string; queue: string; customer: string; at: number }
  | { type: "assigned"; session: string; queue: string; customer: string; seat: string; plain: boolean; form: Record<string, string>; queuedAt: number; rang: string[]; media: Media; handle: string; at: number }
  | { type: "offered"; session: string; queue: string; customer: string; plain: boolean; form: Record<string, string>; agents: string[]; timeout: number; at: number }
  | { type: "offer-withdrawn"; session: string; agents: string[]; reason: "rejected" | "timeout"; at: number }
  | { type: "in-service"; session: string; queue: string; customer: string; seat: string; at: number }
  | { type: "ended"; session: string; queue: string; customer: string; seat: string | null; plain: boolean; from: SessionState; reason: string; rang: string[]; media: Media; handle: string; call?: string; at: number }
  | { type: "agent-state"; agent: string; state: AgentState; at: number }
  | { type: "customer-away"; session: string; customer: string; at: number; /** when its grace is over */ until: number }
  | { type: "resumed"; session: string; queue: string; customer: string; previous: string; seat: string | null; plain: boolean; state: SessionState; form: Record<string, string>; at: number }
  | { type: "feedback"; session: string; score: number; comment: string; at: number }
  | { type: "wrap-up-ended"; agent: string; at: number }
  | { type: "answered"; session: string; seat: string; queue: string; queuedAt: number; at: number }
  /** `by`: "" when the seat handed the session on, else the supervisor who moved it (issue 13). */
  | { type: "transferred"; session: string; customer: string; from: string; fromQueue: string; queue: string; seat: string | null; plain: boolean; form: Record<string, string>; note: string; by: string; at: number }
  | { type: "requeued"; session: string; queue: string; customer: string; seat: string; plain: boolean; paused: boolean; media: Media; handle: string; at: number }
  | { type: "phone"; agent: string; registered: boolean; at: number }
  /** A call inside a chat session (the chat goes on): rung at the seat, answered, ended. */
  | { type: "call"; session: string; handle: string; phase: CallPhase; seat: string; customer: string; queue: string; at: number }
  | { type: "message-left"; id: string; queue: string; at: number }
  /** An expert (an agent or a supervisor) joined a chat, invited by `by` (the seat or a supervisor), issue 15. */
  | { type: "expert-joined"; session: string; queue: string; seat: string; customer: string; expert: string; by: string; note: string; at: number }
  /** The expert left: by itself ("left"), removed by `by` ("removed"), or with the session's end or move. */
  | { type: "expert-left"; session: string; queue: string; seat: string; customer: string; expert: string; by: string; reason: "left" | "removed" | "ended" | "transferred"; at: number }
  /**
   * A chat message between a session's customer and its seat, as the seat module saw it pass (communication
   * recording, issue 12): `direction` "in" to the seat, "out" from it; `sender` the bare JID that wrote it.
   * "supervisor": a supervisor's part in the session (quality monitoring, issue 13; `sender` the supervisor):
   * a notice ("Sam started monitoring."), a whisper to the agent, or what the supervisor wrote after barging in.
   * `file`: the file the message shares (issue 15, protocol/files.ts), when it carries one.
   */
  | { type: "message"; session: string; seat: string; sender: string; direction: MessageDirection; body: string; at: number; file?: SharedFile }
  /**
   * A whiteboard stanza between a session's customer and its seat, as the seat module saw it pass (issue 15;
   * docs/protocol.md, "Whiteboard"): its strokes and clears, checked (protocol/board.ts).
   */
  | { type: "board"; session: string; seat: string; sender: string; direction: "in" | "out"; ops: BoardOp[]; at: number }
  /**
   * An action of a supervisor or an admin (authority control, issue 13): who (a JID, or "token:<name>" for an
   * admin API token), what (a short verb such as "monitor", "whisper", "barge", "set-agent-state", "transfer",
   * "end", "erase"), on what (a session id, an agent's JID, a customer's hash), with a short detail.
   */
  | { type: "audit"; actor: string; action: string; target: string; detail: string; at: number };
