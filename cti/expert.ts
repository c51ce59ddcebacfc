/**
 * Inviting an expert into a chat (issue 15): the seat (or a supervisor of the session's queue) brings another
 * agent or a supervisor into the conversation; the expert leaves, is removed by the seat, or goes with the
 * session's end or move. Adapter-free: the XMPP layer (component/xmpp/expert.ts) asks the seat module whether
 * the expert is logged in and sends what the events (expert-joined, expert-left) say.
 *
 * Rules: the inviter is the session's seat or a supervisor for its queue; the expert is a configured agent or
 * supervisor (never a visitor or a customer), not the seat itself, in no other session as an expert; the
 * session is a live chat with a seat; one expert per session. The state is the session's `expert` field,
 * changed by one transition (store.expert), which appends the event the recorder and the notifier read.
 */
import type { Cti } from "./cti.js";
import { CtiError, refuse } from "./errors.js";
import { bareOf, charCount } from "./policy.js";
import type { ExpertLeaveReason } from "./store.js";
import type { Session } from "./types.js";

/** The inviter's note for the expert is cut to this many characters. */
export const EXPERT_NOTE_LIMIT = 500;

export interface ExpertDeps {
  cti: Cti;
  isAgent: (bareJid: string) => boolean;
  isSupervisor: (bareJid: string) => boolean;
  /** Whether a supervisor may act on a queue's sessions (a queue-limited one: its queues only). */
  mayQueue: (bareJid: string, queue: string) => boolean;
}

export function createExperts({ cti, isAgent, isSupervisor, mayQueue }: ExpertDeps) {
  const isStaff = (jid: string) => isAgent(jid) || isSupervisor(jid);

  /** The session an actor names, or its only live one when it names none (a seat on a plain client). */
  async function sessionFor(actor: string, sessionId: string | undefined): Promise<Session> {
    if (!sessionId) {
      const mine = await cti.liveSessionsOf(actor);
      if (mine.length === 0) throw new CtiError("not-found", "You have no active session.");
      if (mine.length > 1) throw new CtiError("bad-request", `You have several sessions: name one (${mine.map((s) => s.id).join(", ")}).`);
      return mine[0]!;
    }
    const s = await cti.session(sessionId);
    if (!s) throw refuse.unknownSession();
    if (s.state === "ended") throw refuse.sessionEnded();
    return s;
  }

  /** The seat of the session, or a supervisor of its queue: who may invite and remove. */
  function mayManage(actor: string, s: Session): void {
    if (s.seat === actor || (isSupervisor(actor) && mayQueue(actor, s.queue))) return;
    throw new CtiError("forbidden", "Only the agent serving this session, or a supervisor of its queue, may invite or remove an expert.");
  }

  /**
   * Checks an invitation before the adapter asks whether the expert is logged in: returns the session and the
   * expert's bare JID (lower case, as configured). The transition (join) checks the session again atomically.
   */
  async function check(actor: string, sessionId: string | undefined, expertJid: string): Promise<{ session: Session; expert: string }> {
    const by = bareOf(actor);
    if (!isStaff(by)) throw new CtiError("forbidden", "Only agents and supervisors may invite an expert.");
    const expert = bareOf(expertJid.trim()).toLowerCase();
    if (!expert || !isStaff(expert)) throw new CtiError("not-found", "The expert must be one of this contact center's agents or supervisors.");
    const s = await sessionFor(by, sessionId);
    mayManage(by, s);
    if (s.media !== "chat" || !s.seat || (s.state !== "assigned" && s.state !== "in-service"))
      throw new CtiError("bad-request", "An expert can join a chat that an agent is serving.");
    if (expert === s.seat) throw new CtiError("bad-request", "The agent serving the session is in the conversation already: choose another expert.");
    if (s.expert) throw new CtiError("conflict", "This conversation has an expert already: remove them first.");
    return { session: s, expert };
  }

  /** The transition: the expert is in the conversation (event expert-joined). */
  async function join(actor: string, s: Session, expert: string, note: string): Promise<void> {
    const text = note.trim();
    const cut = charCount(text, EXPERT_NOTE_LIMIT) > EXPERT_NOTE_LIMIT ? [...text].slice(0, EXPERT_NOTE_LIMIT).join("") : text;
    const result = await cti.expertChange({ op: "join", session: s.id, expert, by: bareOf(actor), note: cut });
    switch (result) {
      case "ok": return;
      case "unknown": throw refuse.unknownSession();
      case "busy": throw new CtiError("conflict", "This conversation has an expert already: remove them first.");
      case "engaged": throw new CtiError("conflict", "That expert is in another conversation now: ask them to leave it first.");
      case "self": throw new CtiError("bad-request", "The agent serving the session is in the conversation already: choose another expert.");
      default: throw new CtiError("bad-request", "An expert can join a chat that an agent is serving.");
    }
  }

  /** The session an expert is in now (undefined when none). */
  async function sessionOfExpert(expert: string): Promise<Session | undefined> {
    const id = await cti.expertSession(bareOf(expert));
    const s = id ? await cti.session(id) : null;
    return s && s.expert === bareOf(expert) && s.state !== "ended" ? s : undefined;
  }

  /**
   * The expert leaves (actor = the expert), or is removed (actor = the seat or a supervisor of the queue).
   * With no session named: the expert's own session, or the seat's only session's expert.
   */
  async function leave(actor: string, sessionId?: string): Promise<Session> {
    const by = bareOf(actor);
    if (!isStaff(by)) throw new CtiError("forbidden", "Only agents and supervisors take part in a conversation as experts.");
    let s: Session | undefined;
    if (sessionId) {
      s = (await cti.session(sessionId)) ?? undefined;
      if (!s) throw refuse.unknownSession();
    } else {
      s = await sessionOfExpert(by);
      if (!s) {
        const mine = (await cti.liveSessionsOf(by)).filter((x) => x.expert);
        if (mine.length > 1) throw new CtiError("bad-request", `Several of your sessions have an expert: name one (${mine.map((x) => x.id).join(", ")}).`);
        s = mine[0];
      }
      if (!s) throw new CtiError("not-found", "You are not in a conversation as an expert, and no session of yours has one.");
    }
    if (!s.expert) throw new CtiError("not-found", "This conversation has no expert.");
    const reason: ExpertLeaveReason = s.expert === by ? "left" : "removed";
    if (reason === "removed") mayManage(by, s);
    const result = await cti.expertChange({ op: "leave", session: s.id, expert: s.expert, by, reason });
    if (result !== "ok") throw new CtiError("not-found", "This conversation has no expert.");
    return s;
  }

  /** The session ended or moved to another seat: its expert goes with it (nothing when it had none). */
  async function dismiss(sessionId: string, reason: "ended" | "transferred"): Promise<void> {
    const s = await cti.session(sessionId);
    if (s?.expert) await cti.expertChange({ op: "leave", session: s.id, expert: s.expert, by: "", reason });
  }

  /** Who may be invited into a session: the configured agents and supervisors but the seat. */
  const candidates = (s: Session, agents: string[], supervisors: string[]) =>
    [...agents, ...supervisors].filter((jid, i, all) => jid !== s.seat && all.indexOf(jid) === i);

  return { check, join, leave, dismiss, sessionOfExpert, sessionFor, candidates };
}

export type Experts = ReturnType<typeof createExperts>;
