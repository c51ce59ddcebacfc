/**
 * The store port. Each method that changes state is one atomic transition
 * (one Lua script in Redis) and appends its event to the log in the same step,
 * so two CTI instances sharing a store never assign a customer twice or put a
 * seat over capacity. Operations started one after the other (no await between) are applied in that
 * order: a join's first routing read goes out with its enqueue and sees the newcomer (cti.ts join).
 */
import type { Timeouts } from "./types.js";
import type { Agent, AgentProfile, AgentState, CallPhase, CallTokenJoin, CtiEvent, LeftMessage, Session, SessionState } from "./types.js";
import type { EndReason } from "../protocol/names.js";

export type ClaimResult = "ok" | "not-queued" | "seat-unavailable";
export type InServiceResult = "ok" | "already" | "unknown" | "wrong-seat" | "ended";
export type ResumeResult = "ok" | "unknown" | "ended" | "forbidden" | "conflict";
export type FeedbackResult = "ok" | "unknown" | "not-ended" | "already";
export type TransferResult = "ok" | "unknown" | "not-yours" | "not-live" | "seat-unavailable";
/** A chat message between a session's customer and its seat, as recorded (the `message` event without its type). */
export type RecordedMessage = Omit<Extract<CtiEvent, { type: "message" }>, "type">;
export type RecordedBoard = Omit<Extract<CtiEvent, { type: "board" }>, "type">;
export type AuditEntry = Omit<Extract<CtiEvent, { type: "audit" }>, "type">;
/** An expert joins a session (with the inviter's note) or leaves it (why), issue 15: expert.lua. */
export type ExpertChange =
  | { op: "join"; session: string; expert: string; by: string; note: string; now: number }
  | { op: "leave"; session: string; expert: string; by: string; reason: ExpertLeaveReason; now: number };
export type ExpertLeaveReason = "left" | "removed" | "ended" | "transferred";
export type ExpertResult = "ok" | "unknown" | "not-live" | "self" | "busy" | "engaged" | "none";
/** Which agents `seats` lists: ready with room (wrap-up not checked), logged in, or all. */
export type SeatKind = "free" | "on" | "all";
export type TransferTarget = { agent: string } | { queue: string; needs: string[]; timeoutsMs?: Timeouts };
/** What a supervisor changes of an agent for the day: skills (names), capacity, or both. */
export interface AgentChange { skills?: string[]; maxChats?: number }
/** A waiting customer to be told its queue status now, with its position (status.lua). */
export interface DueStatus { id: string; customer: string; plain: boolean; position: number }

/** What an adapter that tells the newcomer its place asks of the enqueue (Store.enqueue). */
export interface StatusAsk { agingMs: number; firstStatusInMs: number }

/** What a join asks of its enqueue besides the queuing (Store.enqueue). */
export interface EnqueueOptions {
  /** Refused ("full") when the queue already has this many waiting. */
  maxWaiting?: number;
  /** The newcomer's position is returned, and its first queue status is due firstStatusInMs after the join. */
  status?: StatusAsk;
  /** Queued only if an agent with every skill it needs is logged in (else "unstaffed"), checked first. */
  onlyIfStaffed?: boolean;
  /** How many free seats with its needs to read after queuing, in the store's order (Infinity: all; none without). */
  freeSeats?: number;
}

/**
 * A queued newcomer: its position (when asked) and the free seats read after queuing. When every routable
 * customer is in its own routing line: for a call, `outnumbered` when as many wait ahead of it as there are
 * free seats with its needs, or more (a seat takes one call at a time, so they all go to those ahead: their
 * passes route them; a chat seat's room is its capacity, which the enqueue does not read); and when fewer
 * wait ahead than the seats read, how many (`ahead`) and those seats whole, to take one at once
 * (router.ts routeNewcomer).
 */
export interface Queued { ok: true; position?: number; free: string[]; outnumbered?: boolean; direct?: { ahead: number; seats: Agent[] } }
export type Enqueued = Queued | { ok: false; existing: string } | { ok: "full" } | { ok: "unstaffed" };

export interface Store {
  /** Adds or updates an agent's profile, keeping its state and sessions. */
  upsertAgent(profile: AgentProfile): Promise<void>;
  /**
   * Queues a new session unless its customer (full JID) already has a live one (its id is returned), or the
   * queue has maxWaiting waiting. With `status`: returns its position (positionOf, with `agingMs`), and its
   * first queue status is due `firstStatusInMs` after the join (the status pass's schedule; without it,
   * half a second after). See EnqueueOptions and Queued.
   */
  enqueue(session: Session, options?: EnqueueOptions): Promise<Enqueued>;
  /** Gives a queued session to a ready seat with room. */
  claim(sessionId: string, seat: string, now: number): Promise<ClaimResult>;
  markInService(sessionId: string, seat: string, now: number): Promise<InServiceResult>;
  /** Ends a live session (a queued one leaves its queue), if in state `onlyFrom` when given; returns it as it was, or null. */
  end(sessionId: string, reason: EndReason | "departed", now: number, onlyFrom?: SessionState): Promise<Session | null>;
  /**
   * A call's seat answered: a voice session goes in service and is answered by its seat, as markInService
   * then markAnswered, in one transition. "chat": the session is a chat (the call is the chat's own,
   * sessionCall); "none": unknown, or no seat.
   */
  answerCall(sessionId: string, now: number): Promise<"ok" | "chat" | "none">;
  /**
   * A call ended: as end() for a voice session, with `queuedReason` if it was still queued. "chat": the
   * session is a chat (the call was the chat's own, sessionCall); null: unknown or ended.
   */
  endCall(sessionId: string, reason: EndReason, queuedReason: EndReason | "departed", now: number): Promise<Session | "chat" | null>;
  /** A party (the seat's or the customer's bare JID) ends the session: as end(), with the party's check in the same transition. */
  endBy(sessionId: string, party: string, now: number): Promise<Session | "unknown" | "forbidden" | "ended">;
  /** Sets an agent's state (and why it is not ready); going offline ends its sessions (returned). Unknown agents: null. */
  setAgentState(jid: string, state: AgentState, now: number, reason?: string): Promise<{ previous: AgentState; ended: string[] } | null>;
  /** Offers a queued customer to agents' clients (full JIDs) until `until`; false when not queued or an offer stands. */
  offer(sessionId: string, agents: string[], now: number, until: number): Promise<boolean>;
  /** Takes back a standing offer from one client, or from all ("" : timed out); returns who had it, or null. */
  withdrawOffer(sessionId: string, agent: string, now: number): Promise<string[] | null>;
  /** The client of an agent that takes offers ("" to forget; `onlyIf`: only when that is the current one). */
  setOfferTarget(jid: string, fullJid: string, onlyIf?: string): Promise<boolean>;
  /**
   * The seat hands its session to another (ready, not full) agent, or back to a queue; the old seat is freed.
   * `by`: a supervisor moving the session of `fromSeat` (its seat when the supervisor looked), "" for the seat itself.
   */
  transfer(sessionId: string, fromSeat: string, target: TransferTarget, note: string, now: number, by?: string): Promise<TransferResult>;
  /**
   * A supervisor changes an agent's skills and/or capacity until `until` (the end of the day): it stands over
   * the configured profile across restarts (upsertAgent) until then. False when there is no such agent.
   */
  adjustAgent(jid: string, change: AgentChange, until: number): Promise<boolean>;
  /** The seat's first reply reached the customer. */
  markAnswered(sessionId: string, seat: string, now: number): Promise<InServiceResult>;
  /**
   * The seat did not answer in time: the customer goes back to the head of its queue and the seat counts
   * a miss, pausing (not ready, with the reason) after maxNoAnswer in a row; with `restMs` the seat is not
   * allocated for that long (a phone that did not answer is not rung again at once). Null when not applicable.
   */
  requeue(sessionId: string, now: number, maxNoAnswer: number, pauseReason: string, restMs?: number): Promise<{ paused: boolean } | null>;
  /** Ends an agent's wrap-up now; false when it was not wrapping up (or is no agent). */
  endWrapUp(jid: string, now: number): Promise<boolean>;
  /** The customer of a live, non-plain session went offline: it may resume until now + graceMs. */
  markAway(sessionId: string, now: number, graceMs: number): Promise<boolean>;
  /** Ends the sessions whose customer stayed away past the grace period; returns their ids. */
  expireAway(now: number): Promise<string[]>;
  /** Moves a live session to the customer's new JID, given the session's token. */
  resume(sessionId: string, token: string, customer: string, now: number): Promise<ResumeResult>;
  /** Records the customer's rating of an ended session, once. */
  feedback(sessionId: string, score: number, comment: string, now: number): Promise<FeedbackResult>;
  leaveMessage(message: LeftMessage): Promise<void>;
  /**
   * Appends one `message` event to the log (communication recording), if the session exists (live or
   * ended: a message may race the end); false when it does not. Nothing else changes.
   */
  recordMessage(message: RecordedMessage): Promise<boolean>;
  /** Appends a `board` event (the whiteboard, issue 15) for a session that exists; false when it does not. */
  recordBoard(board: RecordedBoard): Promise<boolean>;
  /**
   * A component started with this configuration (a digest per item, "section/name" or "section"): appends an
   * audit event (actor "config", action "config-change") per section that differs from the last start's;
   * returns how many. The first start with a store records one.
   */
  configSeen(digests: Record<string, string>, at: number): Promise<number>;
  /** Appends a supervisor's or admin's action to the event log (the recorder keeps it in the audit log). */
  audit(entry: AuditEntry): Promise<void>;
  /** Remembers that a plain customer (bare JID) was asked to rate this session, until `expiresAt` (ms). */
  putRating(customerBare: string, sessionId: string, expiresAt: number): Promise<void>;
  /** The session a customer was asked to rate, once (it is gone after), or null when none is pending. */
  takeRating(customerBare: string, now: number): Promise<string | null>;
  /** Left messages, newest first. */
  messages(limit: number): Promise<LeftMessage[]>;
  /** Sessions that ended at or after `since` (still kept: the last 24 hours). */
  endedSince(since: number): Promise<Session[]>;

  session(id: string): Promise<Session | null>;
  /** The seat that last served a customer (bare JID) in service, for sticky routing. */
  lastSeat(customerBare: string): Promise<string | null>;
  /** The live session of a customer's full JID. */
  sessionOf(customer: string): Promise<string | null>;
  /** The session (live or recently ended) with this adapter handle (a call's Call-ID). */
  sessionByHandle(handle: string): Promise<string | null>;
  /** A call inside a chat session rings, is answered or ends (session-call.lua); false when it cannot (see there). */
  sessionCall(id: string, handle: string, phase: CallPhase, now: number): Promise<boolean>;
  /** Keeps what a page's call token stands for until `expiresAt` (ms) or until it is taken. */
  putCallToken(token: string, join: CallTokenJoin, expiresAt: number): Promise<void>;
  /** What a call token stands for, once (it is gone after), or null when unknown or expired. */
  takeCallToken(token: string, now: number): Promise<CallTokenJoin | null>;
  /**
   * An expert joins a live chat with a seat (one per session, one session per expert) or leaves it; the
   * event (expert-joined, expert-left) is appended in the same step. See ExpertResult for the refusals.
   */
  expert(change: ExpertChange): Promise<ExpertResult>;
  /** The session an expert was last invited into (it may have left since: check the session's `expert`). */
  expertSession(jid: string): Promise<string | null>;
  /** Whether a voice agent has a phone registered now; true when that changed, null for an agent that takes no calls. */
  setPhone(jid: string, registered: boolean, now: number): Promise<boolean | null>;
  agent(jid: string): Promise<Agent | null>;
  agents(): Promise<Agent[]>;
  /**
   * The JIDs of agents that have every one of these skills (any agent for none), of a kind; at most `limit`.
   * Indexed: no scan of all agents. Free seats come in allocation's default order (fewest active, then
   * longest free, then JID), so the first few are the best seats for a queue with the default strategy.
   */
  seats(kind: SeatKind, skills: string[], limit?: number): Promise<string[]>;
  /** These agents (unknown ones left out). */
  agentsNamed(jids: string[]): Promise<Agent[]>;
  /**
   * Those of these agents that are free seats now (as `seats("free", [])`: ready with room, wrap-up not
   * checked). A routing pass reads its seats with it: the others could take nobody, and under load most
   * seats asked about were taken again before the pass ran.
   */
  freeAgents(jids: string[]): Promise<Agent[]>;
  /**
   * The routing lines (allocation.ts lineKey) that have customers who can be routed now: queued, present
   * (not away) and without a standing offer. The others keep their place but wait outside the lines.
   */
  lines(): Promise<readonly string[]>;
  /** The first `count` routable sessions of each of these lines, all in arrival order. */
  heads(lines: string[], count: number): Promise<Session[]>;
  /**
   * Live sessions with a deadline (max wait, offer, assign or answer timeout) at or before `now`, at most
   * `limit`: an index kept by every transition, so the sweep reads only what is due. A store without one
   * may return more (the CTI checks each).
   */
  due(now: number, limit: number): Promise<string[]>;
  /**
   * The waiting customers of a queue to be told their status now (their position may have changed, or
   * their periodic status is due after `intervalMs`), with their positions; each is rescheduled. At most one
   * a second per customer, and about `limit` per call. `agingMs`: the queue's priority step (routingOrder).
   */
  dueStatuses(queue: string, now: number, intervalMs: number, agingMs: number, limit: number): Promise<DueStatus[]>;
  /** A waiting session's position in its queue (routingOrder), or null when it is not waiting. */
  position(sessionId: string, now: number, agingMs: number): Promise<(DueStatus & { queue: string }) | null>;
  /** How many wait in a queue, and since when the longest-waiting one (null when nobody): without reading them. */
  queueSize(queue: string): Promise<{ waiting: number; oldestQueuedAt: number | null }>;
  /** Queued sessions, first come first. */
  waiting(queue?: string): Promise<Session[]>;
  /** Live (not ended) sessions and the most recently ended ones. */
  sessions(recentEnded: number): Promise<Session[]>;
  /** Average time between a queue's claims while customers were waiting, in ms (its service pace), if known. */
  paceMs(queue: string): Promise<number | undefined>;
  /** Average handle time in seconds, if the queue has handled any session. */
  handleSeconds(queue: string): Promise<number | undefined>;
}
