/**
 * Quality monitoring of chats (issue 13): who may monitor, whisper to and barge in on which session, and
 * what is remembered and recorded of it. Adapter-free: the XMPP layer (component/xmpp/monitoring.ts) sends
 * the grants and messages this decides; ad-hoc commands and the iq API for the console both come here.
 *
 * Rules: only a supervisor (config supervisors[]) may; an agent may not (not even on its own sessions);
 * the session must be a live chat with a seat (assigned or in service). Calls are refused: listening in
 * through the soft switch and rtpengine is not built (docs/protocol.md, "Quality monitoring").
 *
 * Every action is written to the session's transcript (a `message` event with direction "supervisor")
 * and to the audit log (cti.audit). Who monitors what is kept in this process's memory: the seat module
 * holds the grants that matter (who gets copies); after a component restart, supervisors start again.
 */
import type { Cti } from "./cti.js";
import { CtiError, refuse } from "./errors.js";
import { bareOf, charCount, LIMITS } from "./policy.js";
import type { Session } from "./types.js";

export type MonitorMode = "silent" | "barge";
export const MONITOR_MODES: readonly MonitorMode[] = ["silent", "barge"];

export interface MonitoringDeps {
  cti: Cti;
  isSupervisor: (bareJid: string) => boolean;
  /** A supervisor's display name ("Sam"). */
  nameOf: (jid: string) => string;
  /** Whether a supervisor may act on a queue's sessions (a queue-limited one: its queues only); default all. */
  mayQueue?: (bareJid: string, queue: string) => boolean;
}

export interface Watch { session: string; supervisor: string; mode: MonitorMode; seat: string; customer: string; queue: string }

export function createMonitoring({ cti, isSupervisor, nameOf, mayQueue = () => true }: MonitoringDeps) {
  /** session id -> supervisor bare JID -> what it watches. */
  const watches = new Map<string, Map<string, Watch>>();
  /** supervisor bare JID -> the session it barged in on last (where its messages to the component go). */
  const barging = new Map<string, string>();

  function mayMonitor(actor: string): void {
    if (!isSupervisor(bareOf(actor))) throw new CtiError("forbidden", "Only supervisors may monitor, whisper or barge in.");
  }

  /** The live chat a supervisor may act on; refuses anyone else, ended sessions, calls, and sessions without a seat. */
  async function liveChat(actor: string, sessionId: string): Promise<Session> {
    mayMonitor(actor);
    const s = await cti.session(sessionId);
    if (!s) throw refuse.unknownSession();
    if (!mayQueue(bareOf(actor), s.queue)) throw new CtiError("forbidden", "This session is in a queue you do not supervise.");
    if (s.state === "ended") { forget(sessionId); throw refuse.sessionEnded(); }
    // A chat that turned into a call is monitored as a chat: its text, not the call's audio.
    if (s.media !== "chat") throw new CtiError("unsupported", "Listening in on calls is not available: only chats can be monitored.");
    if (!s.seat || (s.state !== "assigned" && s.state !== "in-service"))
      throw new CtiError("bad-request", "This customer is not with an agent yet: a session can be monitored once an agent serves it.");
    return s;
  }

  function forget(sessionId: string): void {
    watches.delete(sessionId);
    for (const [supervisor, session] of barging) if (session === sessionId) barging.delete(supervisor);
  }

  const note = (s: Session, supervisor: string, body: string) =>
    cti.recordMessage({ session: s.id, seat: s.seat!, sender: supervisor, direction: "supervisor", body });

  /** Starts (or changes the mode of) a supervisor's monitoring. `changed`: false when it already watched in that mode. */
  async function monitor(actor: string, sessionId: string, mode: MonitorMode = "silent"): Promise<{ watch: Watch; changed: boolean }> {
    if (!MONITOR_MODES.includes(mode)) throw new CtiError("bad-request", 'The mode must be "silent" or "barge".');
    const s = await liveChat(actor, sessionId);
    const supervisor = bareOf(actor);
    const before = watches.get(s.id)?.get(supervisor);
    const watch: Watch = { session: s.id, supervisor, mode: before?.mode === "barge" ? "barge" : mode, seat: s.seat!, customer: s.customer, queue: s.queue };
    if (!watches.has(s.id)) watches.set(s.id, new Map());
    watches.get(s.id)!.set(supervisor, watch);
    if (watch.mode === "barge") barging.set(supervisor, s.id);
    if (before && before.mode === watch.mode) return { watch, changed: false };
    const name = nameOf(supervisor);
    if (watch.mode === "barge") {
      await note(s, supervisor, `${name} joined the conversation.`);
      await cti.audit(supervisor, "barge", s.id, `seat ${s.seat}`);
    } else {
      await note(s, supervisor, `${name} started monitoring.`);
      await cti.audit(supervisor, "monitor", s.id, `seat ${s.seat}`);
    }
    return { watch, changed: true };
  }

  /** Barging in: monitoring in barge mode (the customer is told, and the supervisor may write to it). */
  const barge = (actor: string, sessionId: string) => monitor(actor, sessionId, "barge");

  function validText(text: string): string {
    const t = text.trim();
    if (!t) throw new CtiError("bad-request", "Say something: the text is empty.");
    if (charCount(t, LIMITS.message) > LIMITS.message) throw new CtiError("bad-request", `The text is too long (at most ${LIMITS.message} characters).`);
    return t;
  }

  /** A whisper to the session's agent (the customer never sees it); the supervisor need not be monitoring. */
  async function whisper(actor: string, sessionId: string, text: string): Promise<{ session: Session; text: string }> {
    const s = await liveChat(actor, sessionId);
    const t = validText(text);
    const supervisor = bareOf(actor);
    await note(s, supervisor, `${nameOf(supervisor)} whispered to the agent: ${t}`);
    await cti.audit(supervisor, "whisper", s.id, t);
    return { session: s, text: t };
  }

  /** What a barging supervisor says to the customer: only after barge, on a live session. */
  async function say(actor: string, sessionId: string, text: string): Promise<{ session: Session; text: string }> {
    const s = await liveChat(actor, sessionId);
    const supervisor = bareOf(actor);
    if (watches.get(s.id)?.get(supervisor)?.mode !== "barge")
      throw new CtiError("forbidden", "Barge in on this session first: only then may you write to its customer.");
    const t = validText(text);
    await note(s, supervisor, `${nameOf(supervisor)}: ${t}`);
    return { session: s, text: t };
  }

  /** The session a supervisor barged in on last, if still watched in barge mode. */
  function bargingIn(actor: string): string | undefined {
    const id = barging.get(bareOf(actor));
    return id && watches.get(id)?.get(bareOf(actor))?.mode === "barge" ? id : undefined;
  }

  /**
   * Stops a supervisor's monitoring of one session, or of all (no session given). Returns what stopped.
   * `why`: recorded in the audit detail ("offline" when its client went away).
   */
  async function stop(actor: string, sessionId?: string, why = ""): Promise<Watch[]> {
    mayMonitor(actor);
    const supervisor = bareOf(actor);
    const stopped: Watch[] = [];
    for (const [id, byWho] of watches) {
      if (sessionId !== undefined && id !== sessionId) continue;
      const w = byWho.get(supervisor);
      if (!w) continue;
      byWho.delete(supervisor);
      if (byWho.size === 0) watches.delete(id);
      if (barging.get(supervisor) === id) barging.delete(supervisor);
      stopped.push(w);
      const s = await cti.session(id);
      if (s && s.state !== "ended" && s.seat) await note(s, supervisor, `${nameOf(supervisor)} stopped monitoring.`);
      await cti.audit(supervisor, "stop-monitoring", id, why);
    }
    if (sessionId !== undefined && stopped.length === 0) throw new CtiError("not-found", "You are not monitoring this session.");
    return stopped;
  }

  /** What a supervisor watches now (sessions that ended since are dropped as they are found). */
  async function watching(actor: string): Promise<Watch[]> {
    const supervisor = bareOf(actor);
    const out: Watch[] = [];
    for (const [id, byWho] of [...watches]) {
      const w = byWho.get(supervisor);
      if (!w) continue;
      const s = await cti.session(id);
      if (!s || s.state === "ended" || s.seat !== w.seat) { byWho.delete(supervisor); if (byWho.size === 0) watches.delete(id); continue; }
      out.push(w);
    }
    return out;
  }

  /** The sessions a supervisor may choose from: live chats with a seat. */
  async function liveChats(actor: string): Promise<Session[]> {
    mayMonitor(actor);
    return (await cti.sessions(0)).filter((s) => s.media === "chat" && s.seat && (s.state === "assigned" || s.state === "in-service") && mayQueue(bareOf(actor), s.queue));
  }

  return { monitor, barge, whisper, say, stop, watching, bargingIn, liveChats, forget, mayMonitor };
}

export type Monitoring = ReturnType<typeof createMonitoring>;
