/**
 * The CTI: authorization, queuing, allocation and the session lifecycle.
 * Commands in, decisions out; all state goes through the store port, time
 * through the injected clock. Knows nothing of XMPP, HTTP or SIP.
 */
import { randomBytes } from "node:crypto";
import { CtiError, refuse } from "./errors.js";
import { isOpen, nextOpening } from "./hours.js";
import {
  DEFAULT_HANDLE_SECONDS, agentView, authorize, bareOf, domainOf, estimateWait, needsFor, servingCapacity, validateFeedback, validateJoin,
  validateLeftMessage,
} from "./policy.js";
import { canServe, eligibleSeats, hasCapacity, pickSeat, routingOrder } from "./allocation.js";
import { createLineIndex, lineKey } from "./lines.js";
import type { Store } from "./store.js";
import type { Agent, AgentState, AgentView, JoinRequest, LeftMessage, Queue, Session } from "./types.js";

export interface CtiDeps {
  store: Store;
  queues: Queue[];
  guestDomain: string;
  now: () => number;
  newId?: () => string;
  /** How long an assigned customer who went offline may come back (0: the session ends at once). */
  graceSeconds?: number;
  /** Priority added for customers by bare JID or domain (their tier). */
  tiers?: Record<string, number>;
}

export interface QueueStatus { session: Session; position: number; waitSeconds: number }

/** How long an XEP-0142 offer stands without a queue's offerTimeout. */
const DEFAULT_OFFER_SECONDS = 20;

/** How often a claim may lose a race for a seat before the customer waits for the next trigger. */
const CLAIM_ATTEMPTS = 5;

/** A routing pass reads at most this many customers per line; the next pass reads on. */
const HEADS = 16;

export type Cti = ReturnType<typeof createCti>;

const newToken = () => randomBytes(16).toString("base64url");

export function createCti({ store, queues, guestDomain, now, newId = () => "s" + randomBytes(6).toString("hex"), graceSeconds = 0, tiers = {} }: CtiDeps) {
  const byName = new Map(queues.map((q) => [q.name, q]));
  /** A customer's tier: the priority configured for its JID, else for its domain. */
  const tierOf = (customer: string) => tiers[bareOf(customer)] ?? tiers[domainOf(customer)] ?? 0;

  function queueNamed(name: string): Queue {
    const q = byName.get(name);
    if (!q) throw new CtiError("unknown-queue", `There is no queue named ${name.slice(0, 64)}.`);
    return q;
  }

  /** Queues a customer (after authorization) and routes at once if a seat is free. */
  async function join(req: JoinRequest): Promise<Session> {
    const queue = queueNamed(req.queue);
    authorize(queue, req.customer, guestDomain);
    if (queue.hours && !isOpen(queue.hours, now())) {
      const next = nextOpening(queue.hours, now());
      throw new CtiError("queue-closed", `The queue ${queue.title ?? queue.name} is closed now.${next ? ` It opens ${next}.` : ""}`);
    }
    validateJoin(req);
    const needs = needsFor(queue, req.extraSkills);
    const free = await store.seats("free", needs);
    if (free.length === 0 || hasMinLevels(queue)) await checkStaffed(queue, needs);
    const preferredSeat = queue.stickySeconds ? await store.lastSeat(bareOf(req.customer)) : null;
    // No await between the clock and the enqueue: arrival numbers then follow queuedAt in each instance.
    const session: Session = {
      id: newId(), queue: queue.name, customer: req.customer, plain: req.plain, needs, form: req.form,
      state: "queued", seat: null, queuedAt: now(), assignedAt: null, inServiceAt: null, endedAt: null, endReason: null,
      token: newToken(), awaySince: null, feedback: null, wrapUpMs: (queue.wrapUpSeconds ?? 0) * 1000, answeredAt: null, missedBy: [],
      priority: (queue.priority ?? 0) + tierOf(req.customer),
      preferredSeat, ringing: [], ringUntil: null,
    };
    const queued = await store.enqueue(session, queue.maxWaiting);
    if (queued.ok === "full")
      throw new CtiError("queue-full", `The queue ${queue.title ?? queue.name} is full right now. Please leave a message or try again later.`);
    if (!queued.ok)
      throw new CtiError("already-queued", "You already have a request waiting or in progress from this client. Leave it first.");
    if (free.length > 0) await routeSeats(free);
    return (await store.session(session.id)) ?? session;
  }

  /** Refuses a join when no agent has the skills (at the queue's levels), or none of them is logged in. */
  async function checkStaffed(queue: Queue, needs: string[]): Promise<void> {
    // Without minimum levels, having the skills is enough, so one agent found answers it.
    const some = async (kind: "on" | "all") => hasMinLevels(queue)
      ? (await store.agentsNamed(await store.seats(kind, needs))).some((a) => canServe(a, needs, queue.minLevels))
      : (await store.seats(kind, needs, 1)).length > 0;
    if (await some("on")) return;
    if (!(await some("all"))) throw new CtiError("unavailable", `No agent here has the skills ${needs.join(", ")}.`);
    throw new CtiError("no-agents", `No agent of the queue ${queue.name} is logged in right now. Please try again later.`);
  }

  const hasMinLevels = (queue: Queue) => Object.keys(queue.minLevels ?? {}).length > 0;

  /** The customer leaves: a queued request is withdrawn, an assigned or running one ended. */
  async function depart(customer: string, queueName: string): Promise<Session> {
    queueNamed(queueName);
    const id = await store.sessionOf(customer);
    const session = id ? await store.session(id) : null;
    if (!session || session.queue !== queueName)
      throw new CtiError("not-queued", `You are not waiting in the queue ${queueName}.`);
    const ended = await store.end(session.id, session.state === "queued" ? "departed" : "customer", now());
    if (ended?.seat) await routeSeat(ended.seat);
    return ended ?? session;
  }

  /**
   * The customer's client went away: its session (queued, assigned or
   * running) waits `graceSeconds` for the customer to resume it (a page
   * reload), then ends. Plain-chat sessions cannot resume: they end at once.
   */
  async function customerOffline(customer: string): Promise<void> {
    const id = await store.sessionOf(customer);
    if (!id) return;
    if (graceSeconds > 0 && (await store.markAway(id, now(), graceSeconds * 1000))) return;
    const ended = await store.end(id, "customer-offline", now());
    if (ended?.seat) await routeSeat(ended.seat);
  }

  /**
   * Ends what ran out of time: sessions whose customer did not come back
   * within the grace period, assigned sessions whose customer did not write
   * to the seat within the queue's assignTimeout (the seat is freed),
   * customers who waited the queue's maxWaitSeconds, and customers whose seat
   * did not answer within firstResponseTimeout (back to the head of the queue),
   * and offers nobody accepted in time (the customer is routed again).
   * Returns how many changed.
   */
  async function expire(): Promise<number> {
    const t = now();
    let ended = (await store.expireAway(t)).length;
    for (const s of await store.sessions(0)) ended += await expireOne(s, t);
    if (ended > 0) await route();
    return ended;
  }

  /**
   * The same for one session, when its own deadline is due (the notifier's timers): no scan of every live
   * session per customer. The periodic expire() still catches what a timer missed (another instance, a restart).
   */
  async function expireSession(id: string): Promise<number> {
    const s = await store.session(id);
    const ended = s ? await expireOne(s, now()) : 0;
    if (ended > 0) await route();
    return ended;
  }

  async function expireOne(s: Session, t: number): Promise<number> {
    const q = byName.get(s.queue);
    let ended = 0;
    if (q?.assignTimeout && s.state === "assigned" && s.assignedAt! + q.assignTimeout * 1000 <= t && (await store.end(s.id, "assign-timeout", t, "assigned"))) ended++;
    if (q?.maxWaitSeconds && s.state === "queued" && s.queuedAt + q.maxWaitSeconds * 1000 <= t && (await store.end(s.id, "expired", t, "queued"))) ended++;
    if (s.state === "queued" && s.ringUntil !== null && s.ringUntil <= t && (await store.withdrawOffer(s.id, "", t))) ended++;
    if (q?.firstResponseTimeout && s.seat && s.answeredAt === null && s.assignedAt! + q.firstResponseTimeout * 1000 <= t) {
      const reason = `No answer to ${q.maxNoAnswer} customer${q.maxNoAnswer === 1 ? "" : "s"} in a row`;
      if (await store.requeue(s.id, t, q.maxNoAnswer ?? 0, reason)) ended++;
    }
    return ended;
  }

  /** The customer takes its session over from a new JID, proving it with the token from the join. */
  async function resume(sessionId: string, token: string, customer: string): Promise<void> {
    const result = await store.resume(sessionId, token, customer, now());
    if (result === "unknown" || result === "ended") throw new CtiError("unknown-session", "This session is over. Please start a new chat.");
    if (result === "forbidden") throw new CtiError("forbidden", "That token does not open this session.");
    if (result === "conflict") throw new CtiError("already-queued", "This client already has another session.");
  }

  /** The customer rates an ended session (the patent's service feedback valuation). */
  async function feedback(sessionId: string, actor: string, score: number, comment: string): Promise<void> {
    const session = await store.session(sessionId);
    if (!session) throw refuse.unknownSession(sessionId);
    if (bareOf(actor) !== bareOf(session.customer)) throw new CtiError("forbidden", "Only the customer of a session may rate it.");
    validateFeedback(score, comment);
    const result = await store.feedback(sessionId, score, comment, now());
    if (result === "not-ended") throw new CtiError("bad-request", "Please rate the chat after it has ended.");
    if (result === "already") throw new CtiError("already-rated", "This chat has already been rated. Thank you!");
  }

  /** Stores a message for agents when nobody could take the chat. */
  async function leaveMessage(queueName: string, from: string, fields: Record<string, string>): Promise<LeftMessage> {
    queueNamed(queueName);
    const message: LeftMessage = { id: newId(), queue: queueName, from, name: fields.name ?? "", email: fields.email ?? "", message: fields.message ?? "", at: now() };
    validateLeftMessage(message);
    await store.leaveMessage(message);
    return message;
  }

  /** An agent's figures since midnight UTC: sessions served and their average handle time. */
  async function agentStats(jid: string): Promise<{ handled: number; averageHandleSeconds: number; active: number; maxChats: number }> {
    const midnight = new Date(now()).setUTCHours(0, 0, 0, 0);
    const [ended, agent] = await Promise.all([store.endedSince(midnight), store.agent(bareOf(jid))]);
    const served = ended.filter((s) => s.seat === bareOf(jid) && s.inServiceAt !== null);
    const total = served.reduce((sum, s) => sum + (s.endedAt! - s.inServiceAt!), 0);
    return {
      handled: served.length, averageHandleSeconds: served.length ? Math.round(total / served.length / 1000) : 0,
      active: agent?.active ?? 0, maxChats: agent?.maxChats ?? 0,
    };
  }

  /** Ends a session at the request of one of its parties (any resource of their bare JID). */
  async function end(sessionId: string, actor: string): Promise<Session> {
    const session = await store.session(sessionId);
    if (!session) throw refuse.unknownSession(sessionId);
    const isSeat = session.seat !== null && bareOf(actor) === session.seat;
    if (!isSeat && bareOf(actor) !== bareOf(session.customer))
      throw new CtiError("forbidden", "Only the customer or the agent of a session may end it.");
    const ended = await store.end(sessionId, isSeat ? "seat" : "customer", now());
    if (!ended) throw refuse.sessionEnded();
    if (ended.seat) await routeSeat(ended.seat);
    return ended;
  }

  /** The seat accepted the customer's first message (in-service), or first answered it (answered). */
  async function seatReport(what: "in-service" | "answered", sessionId: string, seat: string): Promise<"ok" | "already"> {
    const result = await (what === "in-service" ? store.markInService : store.markAnswered).call(store, sessionId, bareOf(seat), now());
    if (result === "unknown") throw refuse.unknownSession(sessionId);
    if (result === "wrong-seat") throw new CtiError("forbidden", `Only the seat allocated to this session may report it ${what}.`);
    if (result === "ended") throw refuse.sessionEnded();
    return result;
  }

  /**
   * The seat hands its session to another agent (ready, with room) or to a
   * queue (the customer keeps its arrival order there); `note` goes to the
   * next agent with the customer's context.
   */
  async function transfer(sessionId: string, fromSeat: string, target: { agent: string } | { queue: string }, note = ""): Promise<void> {
    const session = await store.session(sessionId);
    if (!session) throw refuse.unknownSession(sessionId);
    const to = "queue" in target
      ? { queue: queueNamed(target.queue).name, needs: needsFor(queueNamed(target.queue), session.needs.filter((s) => !queueNamed(session.queue).skills.includes(s))) }
      : { agent: bareOf(target.agent) };
    const result = await store.transfer(sessionId, bareOf(fromSeat), to, note.slice(0, 1000), now());
    if (result === "unknown") throw refuse.unknownSession(sessionId);
    if (result === "not-yours") throw new CtiError("forbidden", "Only the seat serving a session may transfer it.");
    if (result === "not-live") throw new CtiError("bad-request", "Only a session that is being served can be transferred.");
    if (result === "seat-unavailable") throw new CtiError("unavailable", `${"agent" in to ? to.agent : ""} cannot take a customer now (not ready, or at capacity).`);
    await route();
  }

  /** The agent is done with its after-chat work before the wrap-up time is over. */
  async function endWrapUp(jid: string): Promise<boolean> {
    const ended = await store.endWrapUp(bareOf(jid), now());
    if (ended) await routeSeat(bareOf(jid));
    return ended;
  }

  /** An agent's presence changed (with the status text as the reason when not ready). Returns null when the JID is no agent. */
  async function agentState(jid: string, state: AgentState, reason = "") {
    const result = await store.setAgentState(bareOf(jid), state, now(), reason.slice(0, 200));
    if (result && state === "ready") await routeSeat(bareOf(jid)); // an agent going offline ends its sessions: nobody to route
    return result;
  }

  /** The periodic safety net and the catch-all after rare changes: every free seat looks for customers. */
  const route = async (): Promise<number> => routeSeats(await store.seats("free", []));

  /** A seat may have room now (a session ended, the agent is ready, its wrap-up is over). */
  const routeSeat = (jid: string) => routeSeats([jid]);

  const lineIndex = createLineIndex((name) => byName.get(name));

  /**
   * Routing passes run one at a time in an instance, each for every seat asked for while the previous
   * ran: seats freed together then share one read of the lines and do not race each other for the
   * same customers (instances still may; their claims settle it). Resolves when the seats' pass is done.
   */
  let running: Promise<unknown> | undefined;
  let nextPass: { seats: Set<string>; done: Promise<number>; start: (pass: Promise<number>) => void } | undefined;
  function routeSeats(jids: string[]): Promise<number> {
    if (!running) return startPass(jids);
    if (!nextPass) {
      let start!: (pass: Promise<number>) => void;
      nextPass = { seats: new Set(), done: new Promise<number>((resolve) => { start = resolve; }), start };
    }
    for (const jid of jids) nextPass.seats.add(jid);
    return nextPass.done;
  }
  function startPass(jids: string[]): Promise<number> {
    const pass = routePass(jids);
    running = pass.catch(() => undefined).then(() => {
      running = undefined;
      const next = nextPass;
      nextPass = undefined;
      if (next) next.start(startPass([...next.seats]));
    });
    return pass;
  }

  /**
   * Allocates these seats (those with room) to waiting customers: it reads only the heads of the
   * lines the seats can serve, in routing order (priority with aging, then arrival), and gives each
   * customer the best of these seats by its queue's strategy. So the work per decision grows with the
   * number of lines (bounded by the configuration), not with the customers waiting or the agents.
   * Safe to run from any instance at any time: a claim that loses a race just looks again.
   */
  async function routePass(jids: string[]): Promise<number> {
    if (jids.length === 0) return 0;
    let candidates = await store.agentsNamed(jids); // read now: the seats may have changed while this pass waited
    let assigned = 0;
    for (let lost = 0; lost < CLAIM_ATTEMPTS;) {
      const t = now();
      const seats = candidates.filter((a) => hasCapacity(a, t));
      if (seats.length === 0) return assigned;
      const lines = lineIndex.servableBy(await store.lines(), seats);
      if (lines.length === 0) return assigned;
      // One more than the seats can take, for a customer another instance takes meanwhile; two where a
      // customer may be held for another seat (stickySeconds).
      const count = Math.min(seats.reduce((n, a) => n + a.maxChats - a.active, 0), HEADS) + (lines.some((l) => l.rules?.stickySeconds) ? 2 : 1);
      const pass = await allocate(await store.heads(lines.map((l) => l.key), count), seats, t);
      assigned += pass.assigned;
      if (pass.lostRaces > 0) lost++; // read again: others took the heads we saw
      else if (pass.assigned === 0) return assigned;
      candidates = seats; // seats still free may serve customers beyond the heads read
    }
    return assigned;
  }

  /** One pass: each waiting customer, in routing order, gets the best of the seats, until none is left. */
  async function allocate(waiting: Session[], seats: Agent[], t: number): Promise<{ assigned: number; lostRaces: number }> {
    const hopeless = new Set<string>(); // queue and needs with no free seat in this pass
    let assigned = 0, lostRaces = 0;
    for (const session of routingOrder(waiting, (name) => byName.get(name), t)) {
      const overflow = overflowNeeds(session, t);
      const key = `${session.queue}|${session.needs.join(",")}|${overflow?.join(",") ?? ""}`;
      if (hopeless.has(key)) continue;
      for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
        const seat = chooseSeat(session, seats, overflow, t);
        if (seat === "hold") break;
        if (!seat) { hopeless.add(key); break; }
        if (await offered(session, seat, t)) break;
        const result = await store.claim(session.id, seat.jid, now());
        if (result === "ok") { seat.active++; seat.lastAssigned = t; assigned++; break; }
        if (result === "not-queued") { lostRaces++; break; } // another seat took this customer
        // The seat changed under us (another instance, a presence): look at it again.
        const fresh = await store.agent(seat.jid);
        seats.splice(seats.indexOf(seat), 1, ...(fresh ? [fresh] : []));
      }
      if (!seats.some((a) => hasCapacity(a, t))) break;
    }
    return { assigned, lostRaces };
  }

  /**
   * Agents whose client takes XEP-0142 offers get an offer instead of the customer: the chosen seat,
   * or for a ring-all queue every eligible seat that takes offers. True when an offer went out.
   */
  async function offered(session: Session, seat: Agent, t: number): Promise<boolean> {
    const q = byName.get(session.queue);
    const targets = q?.strategy === "ring-all"
      ? eligibleSeats(await store.agentsNamed(await store.seats("free", session.needs)), session.needs, t, q).filter((a) => a.offerJid)
      : seat.offerJid ? [seat] : [];
    if (targets.length === 0) return false;
    const until = t + (q?.offerTimeout ?? DEFAULT_OFFER_SECONDS) * 1000;
    await store.offer(session.id, targets.map((a) => a.offerJid), t, until);
    return true;
  }

  /** An agent's client accepts an offer: the customer is its, unless another took it first or it is full. */
  async function acceptOffer(customer: string, agentClient: string): Promise<"ok" | "gone" | "full"> {
    const id = await store.sessionOf(customer);
    const session = id ? await store.session(id) : null;
    if (!session || !session.ringing.includes(agentClient)) return "gone";
    const result = await store.claim(session.id, bareOf(agentClient), now());
    if (result === "ok") return "ok";
    if (result === "seat-unavailable") {
      await store.withdrawOffer(session.id, agentClient, now());
      await route();
      return "full";
    }
    return "gone";
  }

  /** An agent's client turns an offer down: the others keep theirs, or the customer is routed again. */
  async function rejectOffer(customer: string, agentClient: string): Promise<void> {
    const id = await store.sessionOf(customer);
    if (id && (await store.withdrawOffer(id, agentClient, now()))) await route();
  }

  /** An agent's client announces that it takes offers (fullJid), or went away ("" with `onlyIf` = that client). */
  const offerTarget = (jid: string, fullJid: string, onlyIf?: string) => store.setOfferTarget(bareOf(jid), fullJid, onlyIf);

  /**
   * The seat for one waiting customer, by its queue's strategy: the seat that served it last while
   * stickySeconds run ("hold": wait for it), else seats that did not leave it unanswered, else any.
   */
  function chooseSeat(session: Session, agents: Agent[], overflow: string[] | undefined, t: number): Agent | "hold" | undefined {
    const q = byName.get(session.queue);
    const pick = (list: Agent[]) => pickSeat(list, session.needs, t, q) ?? (overflow && pickSeat(list, overflow, t, q));
    if (session.preferredSeat && q?.stickySeconds && session.queuedAt + q.stickySeconds * 1000 > t)
      return pick(agents.filter((a) => a.jid === session.preferredSeat)) ?? "hold";
    const fresh = session.missedBy.length ? agents.filter((a) => !session.missedBy.includes(a.jid)) : agents;
    return pick(fresh) ?? (fresh !== agents ? pick(agents) : undefined);
  }


  /** The skills that may also serve a customer who waited past the queue's overflowAfter (its extras kept). */
  function overflowNeeds(session: Session, t: number): string[] | undefined {
    const q = byName.get(session.queue);
    if (!q?.overflowAfter || session.queuedAt + q.overflowAfter * 1000 > t) return undefined;
    return lineIndex.line(lineKey(session)).overflow;
  }

  /** Position and estimated wait of everyone waiting in a queue. */
  async function queueStatus(queueName: string): Promise<QueueStatus[]> {
    const queue = queueNamed(queueName);
    const [waiting, handle, pace] = await Promise.all([store.waiting(queueName), store.handleSeconds(queueName), store.paceMs(queueName)]);
    // The capacity is only needed until the queue has a measured pace.
    const seats = pace === undefined ? servingCapacity(await store.agentsNamed(await store.seats("on", queue.skills)), queue) : 0;
    return routingOrder(waiting, () => queue, now()).map((session, position) => ({
      session, position, waitSeconds: estimateWait(position, handle ?? DEFAULT_HANDLE_SECONDS, seats, pace),
    }));
  }

  async function agents(): Promise<Array<{ jid: string; name?: string; state: AgentView; reason: string; activeSessions: number; maxChats: number; skills: string[]; wrapUpUntil: string | null }>> {
    const t = now();
    return (await store.agents()).map((a: Agent) => ({
      jid: a.jid, name: a.name, state: agentView(a, t), reason: a.reason, activeSessions: a.active, maxChats: a.maxChats, skills: a.skills,
      wrapUpUntil: a.wrapUntil > t ? new Date(a.wrapUntil).toISOString() : null,
    }));
  }

  /** Each queue's waiting count, longest wait, and its routing rules (as configured). */
  async function queueStats(): Promise<Array<{ name: string; waiting: number; oldestWaitSeconds: number; rules: Omit<Queue, "name"> }>> {
    const t = now();
    return Promise.all(queues.map(async ({ name, ...rules }) => {
      const waiting = await store.waiting(name);
      const oldest = Math.min(...waiting.map((s) => s.queuedAt));
      return { name, waiting: waiting.length, oldestWaitSeconds: waiting.length ? Math.max(0, Math.floor((t - oldest) / 1000)) : 0, rules };
    }));
  }

  return {
    queues, queue: queueNamed, join, depart, customerOffline, expire, expireSession, resume, end, transfer, agentState, endWrapUp, route, queueStatus,
    acceptOffer, rejectOffer, offerTarget,
    inService: (sessionId: string, seat: string) => seatReport("in-service", sessionId, seat),
    answered: (sessionId: string, seat: string) => seatReport("answered", sessionId, seat),
    feedback, leaveMessage, agentStats, agents, queueStats,
    messages: (limit = 100) => store.messages(limit),
    session: (id: string) => store.session(id),
    sessions: (recentEnded = 100) => store.sessions(recentEnded),
    /** The sessions a seat is serving now. */
    liveSessionsOf: async (seat: string) => (await store.sessions(0)).filter((s) => s.seat === bareOf(seat) && s.state !== "ended"),
    sessionOf: (customer: string) => store.sessionOf(customer),
    agent: (jid: string) => store.agent(bareOf(jid)),
  };
}
