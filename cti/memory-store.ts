/**
 * The store port in memory: the reference behaviour of every transition, for
 * unit tests with fake time. The Redis store must behave the same (shared
 * contract tests in test/).
 */
import { lineKey } from "./lines.js";
import { ArrivalLine } from "./arrival-line.js";
import { PACE_WEIGHT, VOICE_SKILL, nextHandleAverage } from "./policy.js";
import { defaultOrder, routingOrder } from "./allocation.js";
import type { AgentChange, AuditEntry, ClaimResult, DueStatus, EnqueueOptions, Enqueued, ExpertChange, ExpertResult, FeedbackResult, InServiceResult, RecordedBoard, RecordedMessage, ResumeResult, SeatKind, Queued, Store, TransferResult, TransferTarget } from "./store.js";
import type { Agent, AgentProfile, AgentState, CallPhase, CallTokenJoin, CtiEvent, LeftMessage, Session, SessionState } from "./types.js";
import type { EndReason } from "../protocol/names.js";

/** A copy the caller may change (structuredClone is ten times slower, and this is the routing path). */
const copy = (s: Session): Session => ({
  ...s, needs: [...s.needs], form: { ...s.form }, missedBy: [...s.missedBy], ringing: [...s.ringing], feedback: s.feedback && { ...s.feedback },
});

/** A copy of an agent as the Redis store reads it: on a call, the voice skill is not offered again. */
const view = (a: Agent): Agent => ({ ...a, skills: a.calls > 0 ? a.skills.filter((s) => s !== VOICE_SKILL) : [...a.skills] });

/** An agent's skills with or without the voice skill (as withVoice in includes.lua). */
const withVoice = (skills: string[], on: boolean) => [...skills.filter((s) => s !== VOICE_SKILL), ...(on ? [VOICE_SKILL] : [])];

export class MemoryStore implements Store {
  readonly events: CtiEvent[] = [];
  private readonly sessionsById = new Map<string, Session>();
  private readonly byCustomer = new Map<string, string>();
  private readonly byHandle = new Map<string, string>();
  private readonly callTokens = new Map<string, { join: CallTokenJoin; expiresAt: number }>();
  /** Pending ratings of plain customers: bare JID -> the session asked about, until when. */
  private readonly ratings = new Map<string, { sessionId: string; expiresAt: number }>();
  /** session id -> what it added to its seat's active count (claim.lua's weight) */
  private readonly weight = new Map<string, number>();
  private readonly agentsByJid = new Map<string, Agent>();
  private readonly handle = new Map<string, number>();
  private readonly pace = new Map<string, { last?: number; gap?: number }>();
  /** customer bare JID -> the seat that last served it */
  private readonly last = new Map<string, string>();
  /** session id -> arrival number (FIFO, kept when a customer is re-routed) */
  private readonly seq = new Map<string, number>();
  /** session id -> when its grace period ends */
  private readonly away = new Map<string, number>();
  private readonly left: LeftMessage[] = [];
  /** Routing lines of routable sessions, and the line each session is in. */
  private readonly byLine = new Map<string, ArrivalLine>();
  /** The keys of byLine, kept while no line comes or goes (the routing path asks on every decision). */
  private lineList: readonly string[] | null = null;
  private readonly lineOf = new Map<string, string>();
  /** Agents by kind and skill ("*": every agent), as the Redis store's seat sets. */
  private readonly seatSets: Record<SeatKind, Map<string, Set<string>>> = { free: new Map(), on: new Map(), all: new Map() };
  /** What each agent is indexed as, so only a change touches the sets. */
  private readonly indexed = new Map<string, "free" | "on" | "off">();

  /** Keeps a session in its routing line exactly while it can be routed (as reline in includes.lua). */
  private reline(s: Session): void {
    const want = s.state === "queued" && s.awaySince === null && s.ringing.length === 0 ? lineKey(s) : "";
    const have = this.lineOf.get(s.id) ?? "";
    if (want === have) return;
    if (have) {
      const line = this.byLine.get(have)!;
      line.remove(s.id);
      if (line.size === 0) { this.byLine.delete(have); this.lineList = null; }
      this.lineOf.delete(s.id);
    }
    if (want) {
      let line = this.byLine.get(want);
      if (!line) { this.byLine.set(want, (line = new ArrivalLine())); this.lineList = null; }
      line.add(s.id, this.seq.get(s.id)!);
      this.lineOf.set(s.id, want);
    }
  }

  /** Keeps an agent in the seat sets of its skills (as reseat in includes.lua); `before`: skills it had. */
  private reseat(a: Agent, before?: string[]): void {
    const want = a.state === "ready" && a.active < a.maxChats ? "free" : a.state !== "offline" ? "on" : "off";
    const was = before ? undefined : this.indexed.get(a.jid);
    if (was === want) return;
    this.indexed.set(a.jid, want);
    const update = (kind: SeatKind, member: boolean) => {
      const sets = this.seatSets[kind];
      for (const skill of before ?? []) sets.get(skill)?.delete(a.jid);
      const put = (skill: string) => {
        let set = sets.get(skill);
        if (!set) sets.set(skill, (set = new Set()));
        if (member) set.add(a.jid); else set.delete(a.jid);
      };
      put("*");
      a.skills.forEach(put);
    };
    // Only the sets whose membership changes are touched: a claim or an end moves an agent between free and on.
    if (was === undefined || (was === "free") !== (want === "free")) update("free", want === "free");
    if (was === undefined || (was === "off") !== (want === "off")) update("on", want !== "off");
    if (was === undefined) update("all", true);
  }

  /** Gives back what a session took of its seat (as release in includes.lua). */
  private release(s: Session, a: Agent): void {
    a.active -= this.weight.get(s.id) ?? 1;
    this.weight.delete(s.id);
    if (s.media === "voice") a.calls--;
  }

  async sessionByHandle(handle: string): Promise<string | null> {
    return this.byHandle.get(handle) ?? null;
  }

  private readonly expertOf = new Map<string, string>();

  async expert(c: ExpertChange): Promise<ExpertResult> {
    const s = this.sessionsById.get(c.session);
    if (!s) return "unknown";
    if (c.op === "join") {
      if ((s.state !== "assigned" && s.state !== "in-service") || s.media !== "chat" || !s.seat) return "not-live";
      if (s.seat === c.expert) return "self";
      if (s.expert) return "busy";
      const other = this.expertOf.get(c.expert);
      if (other && other !== s.id && this.sessionsById.get(other)?.expert === c.expert) return "engaged";
      s.expert = c.expert;
      this.expertOf.set(c.expert, s.id);
      this.events.push({ type: "expert-joined", session: s.id, queue: s.queue, seat: s.seat, customer: s.customer, expert: c.expert, by: c.by, note: c.note, at: c.now });
      return "ok";
    }
    if (!s.expert || s.expert !== c.expert) return "none";
    s.expert = undefined;
    if (this.expertOf.get(c.expert) === s.id) this.expertOf.delete(c.expert);
    this.events.push({ type: "expert-left", session: s.id, queue: s.queue, seat: s.seat ?? "", customer: s.customer, expert: c.expert, by: c.by, reason: c.reason, at: c.now });
    return "ok";
  }

  async expertSession(jid: string): Promise<string | null> {
    return this.expertOf.get(jid) ?? null;
  }

  async sessionCall(id: string, handle: string, phase: CallPhase, now: number): Promise<boolean> {
    const s = this.sessionsById.get(id);
    if (!s) return false;
    if (phase === "ringing") {
      if ((s.state !== "assigned" && s.state !== "in-service") || s.media !== "chat" || s.callHandle) return false;
      s.callHandle = handle;
      this.byHandle.set(handle, id);
    } else if (s.callHandle !== handle) {
      return false;
    } else if (phase === "ended") {
      s.callHandle = undefined;
    }
    this.events.push({ type: "call", session: id, handle, phase, seat: s.seat!, customer: s.customer, queue: s.queue, at: now });
    return true;
  }

  async putCallToken(token: string, join: CallTokenJoin, expiresAt: number): Promise<void> {
    this.callTokens.set(token, { join, expiresAt });
  }

  async takeCallToken(token: string, now: number): Promise<CallTokenJoin | null> {
    const kept = this.callTokens.get(token);
    this.callTokens.delete(token);
    return kept && kept.expiresAt > now ? kept.join : null;
  }

  async setPhone(jid: string, registered: boolean, now: number): Promise<boolean | null> {
    const a = this.agentsByJid.get(jid);
    if (!a?.voice) return null;
    if (a.phone === registered) return false;
    const before = a.skills;
    Object.assign(a, { phone: registered, skills: withVoice(a.skills, registered) });
    this.reseat(a, before);
    this.events.push({ type: "phone", agent: jid, registered, at: now });
    return true;
  }

  /** Supervisors' changes for the day, by agent (the Redis key expires; here `until` is compared to the clock). */
  private readonly days = new Map<string, { change: AgentChange; until: number }>();

  async upsertAgent(profile: AgentProfile): Promise<void> {
    const day = this.days.get(profile.jid);
    const p = day && day.until > Date.now() ? { ...profile, ...day.change } : profile;
    const old = this.agentsByJid.get(p.jid);
    const voice = p.voice ?? false;
    const phone = voice && (old?.phone ?? false);
    const agent: Agent = {
      state: "offline", reason: "", active: 0, freeSince: 0, wrapUntil: 0, missed: 0, lastAssigned: 0, offerJid: "", calls: 0, ...old, ...p,
      levels: p.levels ?? {}, voice, phone, chatsDuringCalls: p.chatsDuringCalls ?? false, skills: withVoice(p.skills, phone),
    };
    this.agentsByJid.set(p.jid, agent);
    this.reseat(agent, old?.skills ?? []);
  }

  async adjustAgent(jid: string, change: AgentChange, until: number): Promise<boolean> {
    const a = this.agentsByJid.get(jid);
    if (!a) return false;
    const before = a.skills;
    this.days.set(jid, { change: { ...this.days.get(jid)?.change, ...change }, until });
    if (change.skills) a.skills = withVoice(change.skills, a.phone);
    if (change.maxChats !== undefined) a.maxChats = change.maxChats;
    this.reseat(a, before);
    return true;
  }

  async enqueue(s: Session, { maxWaiting, status, onlyIfStaffed, freeSeats }: EnqueueOptions = {}): Promise<Enqueued> {
    // No await before the change: operations started in order are applied in order (the Store's promise).
    if (onlyIfStaffed && this.seatList("on", s.needs).length === 0) return { ok: "unstaffed" };
    const existing = this.byCustomer.get(s.customer);
    if (existing) return { ok: false, existing };
    if (maxWaiting !== undefined && this.queued(s.queue).length >= maxWaiting) return { ok: "full" };
    const stored = copy(s);
    this.sessionsById.set(s.id, stored);
    this.seq.set(s.id, this.seq.size + 1);
    this.byCustomer.set(s.customer, s.id);
    if (s.handle) this.byHandle.set(s.handle, s.id);
    this.reline(stored);
    this.events.push({ type: "queued", session: s.id, queue: s.queue, customer: s.customer, at: s.queuedAt });
    const all = freeSeats === undefined ? [] : this.seatList("free", s.needs);
    const free = all.slice(0, freeSeats);
    const ahead = this.byLine.size === 1 ? this.byLine.get(lineKey(s))!.size - 1 : -1;
    const outnumbered = s.media === "voice" && ahead >= 0 && ahead >= all.length;
    const queued: Queued = { ok: true, free, ...(outnumbered ? { outnumbered } : {}) };
    if (ahead >= 0 && ahead < free.length) queued.direct = { ahead, seats: await this.agentsNamed(free) };
    if (!status) return queued; // the routing core's bench: reading the whole queue per join would be what it measures
    this.firstStatusAt.set(s.id, s.queuedAt + status.firstStatusInMs);
    return { ...queued, position: (await this.position(s.id, s.queuedAt, status.agingMs))!.position };
  }

  async claim(id: string, seat: string, now: number): Promise<ClaimResult> {
    const s = this.sessionsById.get(id);
    if (!s || s.state !== "queued") return "not-queued";
    const a = this.agentsByJid.get(seat);
    if (!a || a.state !== "ready" || a.active >= a.maxChats || a.wrapUntil > now) return "seat-unavailable";
    if (s.media === "voice" && (!a.phone || a.calls > 0)) return "seat-unavailable";
    const pace = this.pace.get(s.queue) ?? {};
    if (pace.last !== undefined && s.queuedAt <= pace.last) {
      const gap = now - pace.last;
      pace.gap = pace.gap === undefined ? gap : pace.gap * (1 - PACE_WEIGHT) + gap * PACE_WEIGHT;
    }
    this.pace.set(s.queue, { ...pace, last: now });
    const rang = s.ringing;
    Object.assign(s, { state: "assigned", seat, assignedAt: now, ringing: [], ringUntil: null });
    const weight = s.media === "voice" && !a.chatsDuringCalls ? a.maxChats - a.active : 1;
    this.weight.set(id, weight);
    a.active += weight;
    if (s.media === "voice") a.calls++;
    a.lastAssigned = now;
    this.reline(s);
    this.reseat(a);
    this.events.push({ type: "assigned", session: id, queue: s.queue, customer: s.customer, seat, plain: s.plain, form: s.form, queuedAt: s.queuedAt, rang, media: s.media, handle: s.handle, at: now });
    return "ok";
  }

  async markInService(id: string, seat: string, now: number): Promise<InServiceResult> {
    const s = this.sessionsById.get(id);
    if (!s) return "unknown";
    if (s.seat !== seat) return "wrong-seat";
    if (s.state === "ended") return "ended";
    if (s.state === "in-service") return "already";
    Object.assign(s, { state: "in-service", inServiceAt: now });
    this.events.push({ type: "in-service", session: id, queue: s.queue, customer: s.customer, seat, at: now });
    return "ok";
  }

  async end(id: string, reason: EndReason | "departed", now: number, onlyFrom?: SessionState): Promise<Session | null> {
    const s = this.sessionsById.get(id);
    if (!s || s.state === "ended" || (onlyFrom && s.state !== onlyFrom)) return null;
    const before = copy(s);
    if (s.seat) {
      const a = this.agentsByJid.get(s.seat)!;
      this.release(s, a);
      a.freeSince = now;
      if (s.wrapUpMs > 0 && reason !== "seat-offline") a.wrapUntil = Math.max(a.wrapUntil, now + s.wrapUpMs);
      this.reseat(a);
    }
    if (s.inServiceAt !== null && s.seat) this.last.set(s.customer.split("/")[0]!, s.seat);
    if (s.inServiceAt !== null) this.handle.set(s.queue, nextHandleAverage(this.handle.get(s.queue), (now - s.inServiceAt) / 1000));
    Object.assign(s, { state: "ended", endedAt: now, endReason: reason });
    this.reline(s);
    this.away.delete(id);
    this.byCustomer.delete(s.customer);
    this.events.push({ type: "ended", session: id, queue: s.queue, customer: s.customer, seat: s.seat, plain: s.plain, from: before.state, reason, rang: before.state === "queued" ? before.ringing : [], media: s.media, handle: s.handle, call: before.callHandle, at: now });
    return before;
  }

  async answerCall(id: string, now: number): Promise<"ok" | "chat" | "none"> {
    const s = this.sessionsById.get(id);
    if (!s?.seat) return "none";
    if (s.media !== "voice") return "chat";
    await this.markInService(id, s.seat, now);
    await this.markAnswered(id, s.seat, now);
    return "ok";
  }

  async endCall(id: string, reason: EndReason, queuedReason: EndReason | "departed", now: number): Promise<Session | "chat" | null> {
    const s = this.sessionsById.get(id);
    if (!s || s.state === "ended") return null;
    if (s.media !== "voice") return "chat";
    return this.end(id, s.state === "queued" ? queuedReason : reason, now);
  }

  async endBy(id: string, party: string, now: number): Promise<Session | "unknown" | "forbidden" | "ended"> {
    const s = this.sessionsById.get(id);
    if (!s) return "unknown";
    const reason = s.seat !== null && s.seat === party ? "seat" : s.customer.split("/")[0] === party ? "customer" : null;
    if (!reason) return "forbidden";
    return (await this.end(id, reason, now)) ?? "ended";
  }

  async setAgentState(jid: string, state: AgentState, now: number, reason = "") {
    const a = this.agentsByJid.get(jid);
    if (!a) return null;
    const previous = a.state;
    a.reason = state === "not-ready" ? reason : "";
    const ended: string[] = [];
    if (previous !== state) {
      a.state = state;
      if (state === "ready") a.freeSince = now;
      this.reseat(a);
      this.events.push({ type: "agent-state", agent: jid, state, at: now });
    }
    if (state === "offline") {
      for (const s of this.sessionsById.values()) {
        if (s.seat === jid && s.state !== "ended" && (await this.end(s.id, "seat-offline", now))) ended.push(s.id);
      }
    }
    return { previous, ended };
  }

  async offer(id: string, agents: string[], now: number, until: number): Promise<boolean> {
    const s = this.sessionsById.get(id);
    if (!s || s.state !== "queued" || (s.ringUntil !== null && s.ringUntil > now)) return false;
    Object.assign(s, { ringing: [...agents], ringUntil: until });
    this.reline(s);
    this.events.push({ type: "offered", session: id, queue: s.queue, customer: s.customer, plain: s.plain, form: s.form, agents, timeout: Math.floor((until - now) / 1000), at: now });
    return true;
  }

  async withdrawOffer(id: string, agent: string, now: number): Promise<string[] | null> {
    const s = this.sessionsById.get(id);
    if (!s || s.state !== "queued" || s.ringing.length === 0) return null;
    const gone = s.ringing.filter((j) => agent === "" || j === agent);
    if (gone.length === 0) return null;
    s.ringing = s.ringing.filter((j) => !gone.includes(j));
    s.missedBy = [...s.missedBy, ...gone.map((j) => j.split("/")[0]!)];
    if (s.ringing.length === 0) s.ringUntil = null;
    this.reline(s);
    this.events.push({ type: "offer-withdrawn", session: id, agents: gone, reason: agent === "" ? "timeout" : "rejected", at: now });
    return gone;
  }

  async setOfferTarget(jid: string, fullJid: string, onlyIf = ""): Promise<boolean> {
    const a = this.agentsByJid.get(jid);
    if (!a || (onlyIf && a.offerJid !== onlyIf)) return false;
    a.offerJid = fullJid;
    return true;
  }

  async transfer(id: string, fromSeat: string, target: TransferTarget, note: string, now: number, by = ""): Promise<TransferResult> {
    const s = this.sessionsById.get(id);
    if (!s) return "unknown";
    if (s.seat !== fromSeat) return "not-yours";
    if (s.state !== "assigned" && s.state !== "in-service") return "not-live";
    const to = "agent" in target ? this.agentsByJid.get(target.agent) : undefined;
    if ("agent" in target && (!to || to.jid === fromSeat || to.state !== "ready" || to.active >= to.maxChats || to.wrapUntil > now)) return "seat-unavailable";
    const old = this.agentsByJid.get(fromSeat)!;
    old.active--;
    old.freeSince = now;
    const fromQueue = s.queue;
    if (to) {
      to.active++;
      Object.assign(s, { seat: to.jid, assignedAt: now, answeredAt: null });
    } else if ("queue" in target) {
      Object.assign(s, { queue: target.queue, needs: target.needs, state: "queued", seat: null, assignedAt: null, inServiceAt: null, answeredAt: null });
    }
    this.reseat(old);
    if (to) this.reseat(to);
    this.reline(s);
    this.events.push({ type: "transferred", session: id, customer: s.customer, from: fromSeat, fromQueue, queue: s.queue, seat: s.seat, plain: s.plain, form: s.form, note, by, at: now });
    return "ok";
  }

  async markAnswered(id: string, seat: string, now: number): Promise<InServiceResult> {
    const s = this.sessionsById.get(id);
    if (!s) return "unknown";
    if (s.seat !== seat) return "wrong-seat";
    if (s.state === "ended") return "ended";
    if (s.answeredAt !== null) return "already";
    s.answeredAt = now;
    this.agentsByJid.get(seat)!.missed = 0;
    this.events.push({ type: "answered", session: id, seat, queue: s.queue, queuedAt: s.queuedAt, at: now });
    return "ok";
  }

  async requeue(id: string, now: number, maxNoAnswer: number, pauseReason: string, restMs = 0): Promise<{ paused: boolean } | null> {
    const s = this.sessionsById.get(id);
    if (!s || (s.state !== "assigned" && s.state !== "in-service") || s.answeredAt !== null) return null;
    const seat = s.seat!;
    const a = this.agentsByJid.get(seat)!;
    this.release(s, a);
    if (restMs > 0) a.wrapUntil = Math.max(a.wrapUntil, now + restMs);
    a.missed++;
    const paused = maxNoAnswer > 0 && a.missed >= maxNoAnswer && a.state === "ready";
    if (paused) {
      Object.assign(a, { state: "not-ready", reason: pauseReason, missed: 0 });
      this.events.push({ type: "agent-state", agent: seat, state: "not-ready", at: now });
    }
    Object.assign(s, { state: "queued", seat: null, assignedAt: null, inServiceAt: null, missedBy: [...s.missedBy, seat] });
    this.reseat(a);
    this.reline(s);
    this.events.push({ type: "requeued", session: id, queue: s.queue, customer: s.customer, seat, plain: s.plain, paused, media: s.media, handle: s.handle, at: now });
    return { paused };
  }

  async endWrapUp(jid: string, now: number): Promise<boolean> {
    const a = this.agentsByJid.get(jid);
    if (!a || a.wrapUntil <= now) return false;
    a.wrapUntil = 0;
    this.events.push({ type: "wrap-up-ended", agent: jid, at: now });
    return true;
  }

  async markAway(id: string, now: number, graceMs: number): Promise<boolean> {
    const s = this.sessionsById.get(id);
    if (!s || s.state === "ended" || s.plain) return false;
    s.awaySince = now;
    this.reline(s);
    this.away.set(id, now + graceMs);
    this.events.push({ type: "customer-away", session: id, customer: s.customer, at: now, until: now + graceMs });
    return true;
  }

  async expireAway(now: number): Promise<string[]> {
    const due = [...this.away].filter(([, deadline]) => deadline <= now).map(([id]) => id);
    const ended: string[] = [];
    for (const id of due) if (await this.end(id, "customer-offline", now)) ended.push(id);
    return ended;
  }

  async resume(id: string, token: string, customer: string, now: number): Promise<ResumeResult> {
    const s = this.sessionsById.get(id);
    if (!s) return "unknown";
    if (s.state === "ended") return "ended";
    if (s.token !== token) return "forbidden";
    const other = this.byCustomer.get(customer);
    if (other && other !== id) return "conflict";
    const previous = s.customer;
    this.byCustomer.delete(previous);
    this.byCustomer.set(customer, id);
    Object.assign(s, { customer, awaySince: null });
    this.reline(s);
    this.away.delete(id);
    this.events.push({ type: "resumed", session: id, queue: s.queue, customer, previous, seat: s.seat, plain: s.plain, state: s.state, form: s.form, at: now });
    return "ok";
  }

  async feedback(id: string, score: number, comment: string, now: number): Promise<FeedbackResult> {
    const s = this.sessionsById.get(id);
    if (!s) return "unknown";
    if (s.state !== "ended") return "not-ended";
    if (s.feedback) return "already";
    s.feedback = { score, comment };
    this.events.push({ type: "feedback", session: id, score, comment, at: now });
    return "ok";
  }

  async leaveMessage(m: LeftMessage): Promise<void> {
    this.left.unshift({ ...m });
    this.events.push({ type: "message-left", id: m.id, queue: m.queue, at: m.at });
  }

  async recordMessage(m: RecordedMessage): Promise<boolean> {
    if (!this.sessionsById.has(m.session)) return false;
    this.events.push({ type: "message", ...m });
    return true;
  }

  async recordBoard(b: RecordedBoard): Promise<boolean> {
    if (!this.sessionsById.has(b.session)) return false;
    this.events.push({ type: "board", ...b });
    return true;
  }

  private configDigests: Record<string, string> | null = null;

  /** As config-seen.lua, in short: one audit event per changed section (items named, not told apart by kind). */
  async configSeen(digests: Record<string, string>, at: number): Promise<number> {
    const before = this.configDigests;
    this.configDigests = { ...digests };
    if (!before) {
      this.events.push({ type: "audit", actor: "config", action: "config-change", target: "all", detail: "first start with this Redis: the configuration is recorded", at });
      return 1;
    }
    const changed = [...new Set([...Object.keys(digests), ...Object.keys(before)])].filter((k) => digests[k] !== before[k]);
    const sections = [...new Set(changed.map((k) => k.split("/")[0]!))];
    for (const section of sections) this.events.push({ type: "audit", actor: "config", action: "config-change", target: section, detail: changed.filter((k) => k.split("/")[0] === section).join(", "), at });
    return sections.length;
  }

  async audit(a: AuditEntry): Promise<void> {
    this.events.push({ type: "audit", ...a });
  }

  async putRating(customerBare: string, sessionId: string, expiresAt: number): Promise<void> {
    this.ratings.set(customerBare, { sessionId, expiresAt });
  }

  async takeRating(customerBare: string, now: number): Promise<string | null> {
    const pending = this.ratings.get(customerBare);
    this.ratings.delete(customerBare);
    return pending && pending.expiresAt > now ? pending.sessionId : null;
  }

  async messages(limit: number) { return this.left.slice(0, limit).map((m) => ({ ...m })); }

  async endedSince(since: number): Promise<Session[]> {
    return [...this.sessionsById.values()].filter((s) => s.state === "ended" && s.endedAt! >= since).map(copy);
  }

  async lastSeat(customerBare: string) { return this.last.get(customerBare) ?? null; }
  async session(id: string) { const s = this.sessionsById.get(id); return s ? copy(s) : null; }
  async sessionOf(customer: string) { return this.byCustomer.get(customer) ?? null; }
  async agent(jid: string) { const a = this.agentsByJid.get(jid); return a ? view(a) : null; }
  async agents() { return [...this.agentsByJid.values()].map((a) => ({ ...a })); }
  async handleSeconds(queue: string) { return this.handle.get(queue); }
  async paceMs(queue: string) { return this.pace.get(queue)?.gap; }

  async seats(kind: SeatKind, skills: string[], limit = Infinity): Promise<string[]> {
    return this.seatList(kind, skills).slice(0, limit);
  }

  private seatList(kind: SeatKind, skills: string[]): string[] {
    const sets = (skills.length ? skills : ["*"]).map((skill) => this.seatSets[kind].get(skill) ?? new Set<string>());
    const smallest = sets.reduce((a, b) => (b.size < a.size ? b : a));
    const out = [...smallest].filter((jid) => sets.every((set) => set.has(jid)));
    if (kind === "free") out.sort((a, b) => defaultOrder(this.agentsByJid.get(a)!, this.agentsByJid.get(b)!));
    return out;
  }

  async agentsNamed(jids: string[]): Promise<Agent[]> {
    return jids.flatMap((jid) => { const a = this.agentsByJid.get(jid); return a ? [view(a)] : []; });
  }

  async freeAgents(jids: string[]): Promise<Agent[]> {
    const free = this.seatSets.free.get("*");
    return this.agentsNamed(jids.filter((jid) => free?.has(jid)));
  }

  async lines(): Promise<readonly string[]> { return (this.lineList ??= [...this.byLine.keys()]); }

  async heads(lines: string[], count: number): Promise<Session[]> {
    const found = lines.flatMap((key) => this.byLine.get(key)?.first(count) ?? []);
    return found.sort((a, b) => a[1] - b[1]).map(([id]) => copy(this.sessionsById.get(id)!));
  }

  /** No deadline index here: every live session (the CTI checks each). */
  async due(_now: number, limit: number): Promise<string[]> {
    return [...this.sessionsById.values()].filter((s) => s.state !== "ended").slice(0, limit).map((s) => s.id);
  }

  /** What each waiting customer was last told by dueStatuses, and when (the Redis store's statusDue schedule). */
  private readonly told = new Map<string, { position: number; at: number }>();
  /** When a newcomer's first status is due (enqueue's firstStatusInMs; half a second for one put back in line). */
  private readonly firstStatusAt = new Map<string, number>();

  /** The reference behaviour of status.lua, reading the whole queue (unit tests only). */
  async dueStatuses(queue: string, now: number, intervalMs: number, agingMs: number, limit: number): Promise<DueStatus[]> {
    const out: DueStatus[] = [];
    for (const [position, s] of routingOrder(await this.waiting(queue), () => ({ agingSeconds: agingMs / 1000 }), now).entries()) {
      if (out.length >= limit) break;
      const told = this.told.get(s.id);
      const due = told ? now - told.at >= intervalMs || (told.position !== position && now - told.at >= 1000) : now >= (this.firstStatusAt.get(s.id) ?? s.queuedAt + 500);
      if (!due) continue;
      const shown = s.ringing.length > 0 ? 0 : position;
      this.told.set(s.id, { position, at: now });
      out.push({ id: s.id, customer: s.customer, plain: s.plain, position: shown });
    }
    return out;
  }

  async position(id: string, now: number, agingMs: number): Promise<(DueStatus & { queue: string }) | null> {
    const s = this.sessionsById.get(id);
    if (s?.state !== "queued") return null;
    const position = routingOrder(await this.waiting(s.queue), () => ({ agingSeconds: agingMs / 1000 }), now).findIndex((w) => w.id === id);
    return { id, queue: s.queue, customer: s.customer, plain: s.plain, position: s.ringing.length > 0 ? 0 : position };
  }

  async queueSize(queue: string): Promise<{ waiting: number; oldestQueuedAt: number | null }> {
    const waiting = await this.waiting(queue);
    return { waiting: waiting.length, oldestQueuedAt: waiting.length ? Math.min(...waiting.map((s) => s.queuedAt)) : null };
  }

  /** The queued sessions as stored (not copied, in no order), read without an await. */
  private queued(queue?: string): Session[] {
    return [...this.sessionsById.values()].filter((s) => s.state === "queued" && (!queue || s.queue === queue));
  }

  async waiting(queue?: string): Promise<Session[]> {
    return this.queued(queue)
      .sort((a, b) => this.seq.get(a.id)! - this.seq.get(b.id)!)
      .map(copy);
  }

  async sessions(recentEnded: number): Promise<Session[]> {
    const all = [...this.sessionsById.values()];
    const ended = all.filter((s) => s.state === "ended").sort((a, b) => b.endedAt! - a.endedAt!).slice(0, recentEnded);
    return [...all.filter((s) => s.state !== "ended"), ...ended].map(copy);
  }
}
