/**
 * The store port on Redis. Every transition is one Lua script (cti/redis/lua),
 * reads are pipelined. Several CTI instances may share one Redis.
 */
import type { Redis } from "ioredis";
import { HANDLE_WEIGHT, PACE_WEIGHT, VOICE_SKILL } from "../policy.js";
import type { AgentChange, AuditEntry, ExpertChange, ExpertResult, ClaimResult, DueStatus, EnqueueOptions, Enqueued, Queued, FeedbackResult, InServiceResult, RecordedBoard, RecordedMessage, ResumeResult, SeatKind, Store, TransferResult, TransferTarget } from "../store.js";
import type { Agent, AgentProfile, AgentState, CallPhase, CallTokenJoin, LeftMessage, Session, SessionState } from "../types.js";
import type { EndReason } from "../../protocol/names.js";
import { keysFor, type Keys } from "./keys.js";
import { FunctionLibrary, type ScriptName } from "./library.js";

/** How long an ended session stays readable (GET /api/sessions/:id). */
export const ENDED_TTL_MS = 24 * 3600 * 1000;

type Flat = string[];
const toMap = (flat: Flat): Record<string, string> => {
  const m: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) m[flat[i]!] = flat[i + 1]!;
  return m;
};
const num = (v: string | undefined) => (v ? Number(v) : null);
const list = (v: string | undefined) => (v ? v.split(",") : []);

export function parseSession(h: Record<string, string>): Session | null {
  if (!h.id) return null;
  return {
    id: h.id, queue: h.queue!, customer: h.customer!, plain: h.plain === "1", media: h.media === "voice" ? "voice" : "chat", handle: h.handle ?? "", callHandle: h.callHandle || undefined,
    needs: list(h.needs),
    form: h.form ? JSON.parse(h.form) : {}, state: h.state as Session["state"], seat: h.seat || null,
    queuedAt: Number(h.queuedAt), assignedAt: num(h.assignedAt), inServiceAt: num(h.inServiceAt), endedAt: num(h.endedAt),
    endReason: (h.endReason || null) as Session["endReason"], token: h.token ?? "", awaySince: num(h.awaySince),
    feedback: h.feedbackScore ? { score: Number(h.feedbackScore), comment: h.feedbackComment ?? "" } : null,
    wrapUpMs: Number(h.wrapUpMs ?? 0), answeredAt: num(h.answeredAt), missedBy: list(h.missedBy),
    priority: Number(h.priority ?? 0), preferredSeat: h.preferredSeat || null,
    ringing: list(h.ringing), ringUntil: num(h.ringUntil), ...(h.expert ? { expert: h.expert } : {}),
  };
}

function parseAgent(h: Record<string, string>): Agent | null {
  if (!h.jid) return null;
  const calls = Number(h.calls ?? 0);
  return {
    // On a call, the voice skill is not offered again (claim.lua would refuse a second call anyway).
    jid: h.jid, name: h.name || undefined, skills: list(h.skills).filter((s) => calls === 0 || s !== VOICE_SKILL), maxChats: Number(h.maxChats),
    voice: h.voice === "1", phone: h.phone === "1", calls, chatsDuringCalls: h.chatsInCall === "1",
    state: h.state as AgentState, reason: h.reason ?? "", active: Number(h.active), freeSince: Number(h.freeSince),
    wrapUntil: Number(h.wrapUntil ?? 0), missed: Number(h.missed ?? 0), lastAssigned: Number(h.lastAssigned ?? 0), offerJid: h.offerJid ?? "",
    levels: Object.fromEntries(list(h.levels).map((pair) => pair.split(":")).map(([k, v]) => [k!, Number(v)])),
  };
}

/** The ids of a queue's waiting sessions (the union of its priority levels), in no particular order. */
export async function queuedIds(redis: Redis, keys: Keys, queue: string): Promise<string[]> {
  const levels = await redis.smembers(keys.levels(queue));
  return (await Promise.all(levels.map((p) => redis.zrange(keys.level(`${queue}|${p}`), "0", "-1")))).flat();
}

export class RedisStore implements Store {
  readonly keys: Keys;
  private readonly library: FunctionLibrary;

  constructor(private readonly redis: Redis, readonly prefix = "sb:") {
    this.keys = keysFor(prefix);
    this.library = new FunctionLibrary(redis);
  }

  private run<T>(name: ScriptName, ...args: Array<string | number>): Promise<T> {
    return this.library.call<T>(name, [this.prefix, ...args]);
  }

  async upsertAgent(p: AgentProfile): Promise<void> {
    await this.run("upsert-agent", p.jid, p.name ?? "", p.skills.join(","), p.maxChats,
      Object.entries(p.levels ?? {}).map(([k, v]) => `${k}:${v}`).join(","), p.voice ? "1" : "0", p.chatsDuringCalls ? "1" : "0");
  }

  async enqueue(s: Session, { maxWaiting, status, onlyIfStaffed, freeSeats }: EnqueueOptions = {}): Promise<Enqueued> {
    const [ok, id, position = -1, free = [], ahead = -1, seats = [], outnumbered = 0] = await this.run<[number, string, number?, string[]?, number?, Flat[]?, number?]>("enqueue", s.id, s.queue, s.customer, s.plain ? "1" : "0", s.needs.join(","),
      JSON.stringify(s.form), s.queuedAt, s.token, s.wrapUpMs, maxWaiting ?? 0, s.priority, s.preferredSeat ?? "", s.media, s.handle,
      s.timeoutsMs?.wait ?? 0, s.timeoutsMs?.assign ?? 0, s.timeoutsMs?.answer ?? 0, status?.agingMs ?? "", status?.firstStatusInMs ?? "", onlyIfStaffed ? "1" : "",
      freeSeats === undefined ? -1 : Number.isFinite(freeSeats) ? freeSeats : 0);
    if (ok === -1) return { ok: "full" };
    if (ok === -2) return { ok: "unstaffed" };
    if (ok !== 1) return { ok: false, existing: id };
    const queued: Queued = { ok: true, free, ...(position >= 0 ? { position } : {}), ...(outnumbered === 1 ? { outnumbered: true } : {}) };
    if (seats.length > 0) queued.direct = { ahead, seats: seats.map((flat) => parseAgent(toMap(flat))).filter((a): a is Agent => a !== null) };
    return queued;
  }

  claim(id: string, seat: string, now: number): Promise<ClaimResult> {
    return this.run<ClaimResult>("claim", id, seat, now, PACE_WEIGHT);
  }

  markInService(id: string, seat: string, now: number): Promise<InServiceResult> {
    return this.run<InServiceResult>("in-service", id, seat, now);
  }

  async end(id: string, reason: EndReason | "departed", now: number, onlyFrom?: SessionState): Promise<Session | null> {
    const flat = await this.run<Flat | null>("end", id, reason, now, ENDED_TTL_MS, HANDLE_WEIGHT, onlyFrom ?? "");
    return flat ? parseSession(toMap(flat)) : null;
  }

  answerCall(id: string, now: number): Promise<"ok" | "chat" | "none"> {
    return this.run("answer-call", id, now);
  }

  async endCall(id: string, reason: EndReason, queuedReason: EndReason | "departed", now: number): Promise<Session | "chat" | null> {
    const r = await this.run<Flat | "chat" | null>("end-call", id, reason, queuedReason, now, ENDED_TTL_MS, HANDLE_WEIGHT);
    return typeof r === "string" ? r : r ? parseSession(toMap(r)) : null;
  }

  async endBy(id: string, party: string, now: number): Promise<Session | "unknown" | "forbidden" | "ended"> {
    const r = await this.run<Flat | "unknown" | "forbidden" | "ended">("end-by", id, party, now, ENDED_TTL_MS, HANDLE_WEIGHT);
    return typeof r === "string" ? r : parseSession(toMap(r))!;
  }

  async setAgentState(jid: string, state: AgentState, now: number, reason = "") {
    const r = await this.run<[AgentState, ...string[]] | null>("agent-state", jid, state, now, ENDED_TTL_MS, HANDLE_WEIGHT, reason);
    return r ? { previous: r[0], ended: r.slice(1) } : null;
  }

  async offer(id: string, agents: string[], now: number, until: number): Promise<boolean> {
    return (await this.run<number>("offer", id, agents.join(","), now, until)) === 1;
  }

  async withdrawOffer(id: string, agent: string, now: number): Promise<string[] | null> {
    const gone = await this.run<string | null>("withdraw-offer", id, agent, now);
    return gone ? gone.split(",") : null;
  }

  async setOfferTarget(jid: string, fullJid: string, onlyIf = ""): Promise<boolean> {
    return (await this.run<number>("offer-target", jid, fullJid, onlyIf)) === 1;
  }

  transfer(id: string, fromSeat: string, target: TransferTarget, note: string, now: number, by = ""): Promise<TransferResult> {
    return "agent" in target
      ? this.run<TransferResult>("transfer", id, fromSeat, "agent", target.agent, "", now, note, by)
      : this.run<TransferResult>("transfer", id, fromSeat, "queue", target.queue, target.needs.join(","), now, note, by,
        target.timeoutsMs?.wait ?? 0, target.timeoutsMs?.assign ?? 0, target.timeoutsMs?.answer ?? 0);
  }

  markAnswered(id: string, seat: string, now: number): Promise<InServiceResult> {
    return this.run<InServiceResult>("answered", id, seat, now);
  }

  async requeue(id: string, now: number, maxNoAnswer: number, pauseReason: string, restMs = 0): Promise<{ paused: boolean } | null> {
    const r = await this.run<[number] | null>("requeue", id, now, maxNoAnswer, pauseReason, restMs);
    return r ? { paused: r[0] === 1 } : null;
  }

  async endWrapUp(jid: string, now: number): Promise<boolean> {
    return (await this.run<number>("end-wrap-up", jid, now)) === 1;
  }

  async markAway(id: string, now: number, graceMs: number): Promise<boolean> {
    return (await this.run<number>("away", id, now, graceMs)) === 1;
  }

  expireAway(now: number): Promise<string[]> {
    return this.run<string[]>("expire-away", now, ENDED_TTL_MS, HANDLE_WEIGHT);
  }

  resume(id: string, token: string, customer: string, now: number): Promise<ResumeResult> {
    return this.run<ResumeResult>("resume", id, token, customer, now);
  }

  feedback(id: string, score: number, comment: string, now: number): Promise<FeedbackResult> {
    return this.run<FeedbackResult>("feedback", id, score, comment, now);
  }

  async leaveMessage(m: LeftMessage): Promise<void> {
    await this.run("leave-message", JSON.stringify(m), m.id, m.queue, m.at);
  }

  async recordMessage(m: RecordedMessage): Promise<boolean> {
    return (await this.run<number>("record-message", m.session, m.seat, m.sender, m.direction, m.body, m.at, m.file ? JSON.stringify(m.file) : "")) === 1;
  }

  async recordBoard(b: RecordedBoard): Promise<boolean> {
    return (await this.run<number>("record-board", b.session, b.seat, b.sender, b.direction, JSON.stringify(b.ops), b.at)) === 1;
  }

  async adjustAgent(jid: string, change: AgentChange, until: number): Promise<boolean> {
    return (await this.run<string>("adjust-agent", jid, change.skills ? "1" : "0", (change.skills ?? []).join(","), change.maxChats ?? "", until)) === "ok";
  }

  async configSeen(digests: Record<string, string>, at: number): Promise<number> {
    return this.run<number>("config-seen", at, ...Object.entries(digests).flat());
  }

  async audit(a: AuditEntry): Promise<void> {
    await this.run("audit", a.actor, a.action, a.target, a.detail, a.at);
  }

  async putRating(customerBare: string, sessionId: string, expiresAt: number): Promise<void> {
    await this.redis.set(this.keys.rating(customerBare), sessionId, "PXAT", expiresAt);
  }

  takeRating(customerBare: string, _now?: number): Promise<string | null> { // Redis expires it (PXAT)
    return this.redis.getdel(this.keys.rating(customerBare));
  }

  async messages(limit: number): Promise<LeftMessage[]> {
    return (await this.redis.lrange(this.keys.messages(), 0, limit - 1)).map((j) => JSON.parse(j) as LeftMessage);
  }

  async endedSince(since: number): Promise<Session[]> {
    return this.sessionsById(await this.redis.zrangebyscore(this.keys.ended(), since, "+inf"));
  }

  lastSeat(customerBare: string): Promise<string | null> {
    return this.redis.get(this.keys.lastSeat(customerBare));
  }

  async session(id: string): Promise<Session | null> {
    return parseSession(await this.redis.hgetall(this.keys.session(id)));
  }

  sessionOf(customer: string): Promise<string | null> {
    return this.redis.get(this.keys.customer(customer));
  }

  sessionByHandle(handle: string): Promise<string | null> {
    return this.redis.get(this.keys.callHandle(handle));
  }

  async expert(change: ExpertChange): Promise<ExpertResult> {
    const words = change.op === "join" ? change.note : change.reason;
    return this.run<ExpertResult>("expert", change.session, change.expert, change.op, change.by, words, change.now);
  }

  expertSession(jid: string): Promise<string | null> {
    return this.redis.get(this.keys.expertOf(jid));
  }

  async sessionCall(id: string, handle: string, phase: CallPhase, now: number): Promise<boolean> {
    return (await this.run<number | null>("session-call", id, handle, phase, now, ENDED_TTL_MS)) === 1;
  }

  async putCallToken(token: string, join: CallTokenJoin, expiresAt: number): Promise<void> {
    await this.redis.set(this.keys.callToken(token), JSON.stringify(join), "PXAT", expiresAt);
  }

  async takeCallToken(token: string): Promise<CallTokenJoin | null> {
    const json = await this.redis.getdel(this.keys.callToken(token));
    return json ? (JSON.parse(json) as CallTokenJoin) : null;
  }

  async setPhone(jid: string, registered: boolean, now: number): Promise<boolean | null> {
    const r = await this.run<number | null>("phone", jid, registered ? "1" : "0", now);
    return r === null ? null : r === 1;
  }

  async agent(jid: string): Promise<Agent | null> {
    return parseAgent(await this.redis.hgetall(this.keys.agent(jid)));
  }

  async agents(): Promise<Agent[]> {
    return this.agentsNamed(await this.redis.smembers(this.keys.agents()));
  }

  /** Puts every live session in its routing line again (start-up: data from before routing lines). */
  async reindex(): Promise<number> {
    return this.run<number>("reindex");
  }

  async seats(kind: SeatKind, skills: string[], limit = Infinity): Promise<string[]> {
    if (kind === "free") return this.run<string[]>("free-seats", Number.isFinite(limit) ? limit : 0, ...(skills.length ? skills : ["*"]));
    const set = kind === "on" ? this.keys.onSeats : this.keys.allSeats;
    const keys = (skills.length ? skills : ["*"]).map((skill) => set(skill));
    // "Is anyone there?" (a join's check) takes a few members, not the whole set of agents.
    if (keys.length === 1 && Number.isFinite(limit)) return this.redis.srandmember(keys[0]!, limit);
    const jids = keys.length === 1 ? await this.redis.smembers(keys[0]!) : await this.redis.sinter(...keys);
    return jids.slice(0, limit);
  }

  async agentsNamed(jids: string[]): Promise<Agent[]> {
    return (await this.hashes(jids.map((j) => this.keys.agent(j)))).map(parseAgent).filter((a): a is Agent => a !== null);
  }

  async freeAgents(jids: string[]): Promise<Agent[]> {
    if (jids.length === 0) return [];
    return (await this.run<Flat[]>("free-agents", ...jids)).map((flat) => parseAgent(toMap(flat))).filter((a): a is Agent => a !== null);
  }

  lines(): Promise<string[]> {
    return this.redis.smembers(this.keys.lines());
  }

  async heads(lines: string[], count: number): Promise<Session[]> {
    if (lines.length === 0) return [];
    const flats = await this.run<Flat[]>("heads", count, ...lines);
    return flats.map(toMap).sort((a, b) => Number(a.seq) - Number(b.seq)).map(parseSession).filter((s): s is Session => s !== null);
  }

  due(now: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.due(), "-inf", now, "LIMIT", 0, limit);
  }

  async dueStatuses(queue: string, now: number, intervalMs: number, agingMs: number, limit: number): Promise<DueStatus[]> {
    const flat = await this.run<Array<string | number>>("status", queue, now, intervalMs, agingMs, limit);
    const out: DueStatus[] = [];
    for (let i = 0; i + 3 < flat.length; i += 4) out.push({ id: String(flat[i]), customer: String(flat[i + 1]), plain: flat[i + 2] === "1", position: Number(flat[i + 3]) });
    return out;
  }

  async position(id: string, now: number, agingMs: number): Promise<(DueStatus & { queue: string }) | null> {
    const r = await this.run<[string, string, string, number] | null>("position", id, now, agingMs);
    return r ? { id, queue: r[0], customer: r[1], plain: r[2] === "1", position: Number(r[3]) } : null;
  }

  async queueSize(queue: string): Promise<{ waiting: number; oldestQueuedAt: number | null }> {
    const levels = await this.redis.smembers(this.keys.levels(queue));
    const p = this.redis.pipeline();
    for (const level of levels) p.zcard(this.keys.level(`${queue}|${level}`)).zrange(this.keys.level(`${queue}|${level}`), "0", "0", "WITHSCORES");
    const replies = ((await p.exec()) ?? []).map(([err, value]) => { if (err) throw err; return value; });
    let waiting = 0, oldest: number | null = null;
    for (let i = 0; i + 1 < replies.length; i += 2) {
      waiting += Number(replies[i]);
      const first = replies[i + 1] as string[];
      if (first.length === 2 && (oldest === null || Number(first[1]) < oldest)) oldest = Number(first[1]); // a level's score is queuedAt
    }
    return { waiting, oldestQueuedAt: oldest };
  }

  async waiting(queue?: string): Promise<Session[]> {
    const ids = queue ? await queuedIds(this.redis, this.keys, queue) : await this.redis.smembers(this.keys.live());
    const hashes = (await this.hashes(ids.map((id) => this.keys.session(id)))).filter((h) => h.state === "queued");
    return hashes.sort((a, b) => Number(a.seq) - Number(b.seq)).map(parseSession).filter((s): s is Session => s !== null);
  }

  async sessions(recentEnded: number): Promise<Session[]> {
    const [live, ended] = await Promise.all([
      this.redis.smembers(this.keys.live()),
      recentEnded > 0 ? this.redis.zrevrange(this.keys.ended(), "0", String(recentEnded - 1)) : Promise.resolve([]),
    ]);
    return this.sessionsById([...live, ...ended]);
  }

  async paceMs(queue: string): Promise<number | undefined> {
    const v = await this.redis.hget(this.keys.pace(), `${queue}:gap`);
    return v === null ? undefined : Number(v);
  }

  async handleSeconds(queue: string): Promise<number | undefined> {
    const v = await this.redis.hget(this.keys.handle(), queue);
    return v === null ? undefined : Number(v);
  }

  private async sessionsById(ids: string[]): Promise<Session[]> {
    return (await this.hashes(ids.map((id) => this.keys.session(id)))).map(parseSession).filter((s): s is Session => s !== null);
  }

  /**
   * Commands one by one: each is written as it is started, behind the commands started before it (the
   * Store's order of operations), and the component's connection sends those of one tick in one write.
   */
  private hashes(keys: string[]): Promise<Array<Record<string, string>>> {
    return Promise.all(keys.map((k) => this.redis.hgetall(k)));
  }
}
