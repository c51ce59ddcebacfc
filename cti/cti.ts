/**
 * The CTI: authorization, queuing and the session lifecycle (allocation: router.ts).
 * Commands in, decisions out; all state goes through the store port, time
 * through the injected clock. Knows nothing of XMPP, HTTP or SIP.
 */
import type { SharedFile } from "../protocol/files.js";
import { BOARD_ERROR, validOps, type BoardOp } from "../protocol/board.js";
import { CtiError, refuse } from "./errors.js";
import { isOpen, nextOpening } from "./hours.js";
import {
  DEFAULT_HANDLE_SECONDS, LIMITS, VOICE_SKILL, agentView, authorize, bareOf, clip, domainOf, estimateWait, needsFor, parseRating, servingCapacity,
  validateFeedback, validateJoin, validateLeftMessage,
} from "./policy.js";
import { DEFAULT_AGING_SECONDS, canServe, routingOrder, usesDefaultOrder } from "./allocation.js";
import { randomBase64Url, randomHex } from "./random.js";
import { createRouter, type Assignment } from "./router.js";
import type { AgentChange, DueStatus, ExpertChange, Store, TransferTarget } from "./store.js";
import type { Timeouts } from "./types.js";
import type { Agent, AgentState, AgentView, CtiEvent, Joined, JoinRequest, LeftMessage, Media, MessageDirection, Queue, Session } from "./types.js";

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

export type Cti = ReturnType<typeof createCti>;

/** How long a plain customer's next message may be its answer to "rate this chat from 1 to 5". */
export const RATING_WINDOW_MS = 10 * 60_000;

type EndedEvent = Extract<CtiEvent, { type: "ended" }>;

/**
 * How many free seats a join reads where the store's order is the queue's (allocation.ts defaultOrder):
 * the best seat is the first that is not in wrap-up, so a few do, and a join costs the same with 5 free
 * agents or 500. When they could not take the customer, the next few are read (routeUntilServed).
 */
const JOIN_SEATS = 4;
/** Rounds of the next few free seats a join routes before every free seat looks (routeUntilServed; docs/routing.md). */
const JOIN_ROUNDS = 1;
const joinSeats = (queue: Queue) => (usesDefaultOrder(queue) && !queue.stickySeconds ? JOIN_SEATS : Infinity);

/** How many due sessions one sweep reads (the rest wait for the next one). */
const SWEEP_LIMIT = 5000;

const newToken = () => randomBase64Url(16);

/** How long a page's call token lasts: the page asks for one just before it calls. */
const CALL_TOKEN_MS = 60_000;
/** A call token as given (hex, so that it travels as RFC 7433 User-to-User data unchanged). */
const CALL_TOKEN = /^[0-9a-f]{32}$/;

export function createCti({ store, queues, guestDomain, now, newId = () => "s" + randomHex(6), graceSeconds = 0, tiers = {} }: CtiDeps) {
  const byName = new Map(queues.map((q) => [q.name, q]));
  /** A customer's tier: the priority configured for its JID, else for its domain. */
  const tierOf = (customer: string) => tiers[bareOf(customer)] ?? tiers[domainOf(customer)] ?? 0;

  function queueNamed(name: string): Queue {
    const q = byName.get(name);
    if (!q) throw new CtiError("unknown-queue", "There is no such queue.");
    return q;
  }

  /**
   * Whether this customer may join this queue (its media, authorization, hours, the request itself): what
   * it needs. Throws the reason it may not. Someone to serve it is checked apart (checkStaffed, or the enqueue).
   */
  function admit(req: JoinRequest) {
    const queue = queueNamed(req.queue);
    const media = req.media ?? "chat";
    if (!(queue.media ?? ["chat", "voice"]).includes(media))
      throw new CtiError("forbidden", `The queue ${queue.title ?? queue.name} takes no ${media === "voice" ? "calls" : "chats"}.`);
    authorize(queue, req.customer, guestDomain, req.guest);
    if (queue.hours && !isOpen(queue.hours, now())) {
      const next = nextOpening(queue.hours, now());
      throw new CtiError("queue-closed", `The queue ${queue.title ?? queue.name} is closed now.${next ? ` It opens ${next}.` : ""}`);
    }
    validateJoin(req);
    const needs = media === "voice" ? [...needsFor(queue, req.extraSkills), VOICE_SKILL].sort() : needsFor(queue, req.extraSkills);
    return { queue, media, needs };
  }

  /** Queues a customer (after authorization) and routes at once if a seat is free. */
  async function join(req: JoinRequest): Promise<Joined> {
    const { queue, media, needs } = admit(req);
    // Minimum levels need the agents' profiles, so they are checked first; else the enqueue checks for
    // someone logged in in its own transition, and a join that finds nobody free costs one round trip.
    const levels = hasMinLevels(queue);
    if (levels) await checkStaffed(queue, needs, media);
    const preferredSeat = queue.stickySeconds ? await store.lastSeat(bareOf(req.customer)) : null;
    // No await between the clock and the enqueue: arrival numbers then follow queuedAt in each instance.
    const session: Session = {
      id: newId(), queue: queue.name, customer: req.customer, plain: req.plain, media, handle: req.handle ?? "", needs, form: req.form,
      state: "queued", seat: null, queuedAt: now(), assignedAt: null, inServiceAt: null, endedAt: null, endReason: null,
      token: newToken(), awaySince: null, feedback: null, wrapUpMs: (queue.wrapUpSeconds ?? 0) * 1000, answeredAt: null, missedBy: [],
      priority: (queue.priority ?? 0) + tierOf(req.customer),
      preferredSeat, ringing: [], ringUntil: null, timeoutsMs: timeoutsOf(queue),
    };
    const agingMs = agingMsOf(queue);
    const next = req.nextStatusInMs;
    const tells = next !== undefined; // the adapter tells the newcomer its place: it needs it
    // The free seats are read in the enqueue's own step, after it: a seat freed after this read routes the
    // newcomer with its own pass.
    const queued = await store.enqueue(session, {
      maxWaiting: queue.maxWaiting, status: tells ? { agingMs, firstStatusInMs: next } : undefined, onlyIfStaffed: !levels, freeSeats: joinSeats(queue),
    });
    if (queued.ok === "unstaffed") return refuseUnstaffed(queue, needs, media);
    if (queued.ok === "full")
      throw new CtiError("queue-full", `The queue ${queue.title ?? queue.name} is full right now. Please leave a message or try again later.`);
    if (!queued.ok) {
      if (media === "voice") throw new CtiError("already-queued", "You already have a call waiting or in progress.");
      throw new CtiError("already-queued", "You already have a request waiting or in progress from this client. Leave it first.");
    }
    const status = async (position: number | undefined) =>
      (tells && position !== undefined ? { position, waitSeconds: (await estimateOf(queue.name))(position) } : null);
    // Nobody to route it to, or the free seats all go to those ahead (their joins and the seats' own passes
    // route them; in a sticky queue those ahead may hold out for their last seat): it waits as it was
    // queued (no read back).
    if (queued.free.length === 0 || (queued.outnumbered && !queue.stickySeconds)) return { ...session, status: await status(queued.position) };
    const direct = queued.direct ? await routeNewcomer(session, queued.direct.ahead, queued.direct.seats) : undefined;
    const mine = direct === "taken" ? undefined : (direct ?? (await routeUntilServed(session.id, needs, queued.free, joinSeats(queue))));
    // Given a seat by this instance: as its claim wrote it. Else read back (another instance may have served it).
    const after = mine ? { ...session, state: "assigned" as const, seat: mine.seat, assignedAt: mine.at } : ((await store.session(session.id)) ?? session);
    const place = tells && after.state === "queued" ? await store.position(session.id, now(), agingMs) : null;
    return { ...after, status: await status(place?.position) };
  }

  /**
   * Routes a newcomer's first few free seats (the pass started with its enqueue). While it waits and more
   * seats may be free, the next few: others ahead in line, or joining alongside (they read the same first
   * few), took the first. Reading every free seat at once, as this did, read each free agent per join
   * under load, where seats are free only for the moment before their own routing. Only when the same
   * seats come back (they cannot take it: wrap-up, levels, a miss), or after JOIN_ROUNDS, do all look.
   */
  async function routeUntilServed(id: string, needs: string[], free: string[], few: number): Promise<Assignment | undefined> {
    const mine = (assigned: Assignment[]) => assigned.find((a) => a.id === id);
    let tried = free;
    for (let round = 0; ; round++) {
      const assigned = await routeSeats(tried);
      if (mine(assigned) || tried.length < few) return mine(assigned);
      const next = await store.seats("free", needs, few);
      if (next.length === 0) return undefined;
      if (round === JOIN_ROUNDS - 1 || next.every((jid) => tried.includes(jid))) return mine(await routeSeats(await store.seats("free", needs)));
      tried = next;
    }
  }

  /**
   * A page's call (issue 11): the customer, logged in over XMPP, asks for a token first, with the same
   * checks as the call's join; the call brings the token to the soft switch, and joins the queue as that
   * customer (whose place in line is then told over XMPP). One call, within CALL_TOKEN_MS.
   */
  async function callToken(req: JoinRequest): Promise<string> {
    const { queue, media, needs } = admit({ ...req, media: "voice" });
    await checkStaffed(queue, needs, media);
    if (await store.sessionOf(req.customer)) throw new CtiError("already-queued", "You already have a chat or call in progress from this page: end it first.");
    const token = randomHex(16);
    await store.putCallToken(token, { queue: req.queue, customer: req.customer, form: req.form, extraSkills: req.extraSkills }, now() + CALL_TOKEN_MS);
    return token;
  }

  /**
   * A chat turns into a call (issue 11): the session's customer or its seat asks, and the customer's page
   * calls with the token; the call goes to the same seat without queueing again (only the session's own
   * customer holds the token, so nobody else can use that path to the seat).
   */
  async function sessionCallToken(sessionId: string, actor: string): Promise<{ token: string; session: Session }> {
    const s = await store.session(sessionId);
    if (!s) throw refuse.unknownSession();
    if (bareOf(actor) !== bareOf(s.customer) && bareOf(actor) !== s.seat) throw new CtiError("forbidden", "Only the customer or the agent of a session may start a call in it.");
    if (s.media !== "chat" || !s.seat || (s.state !== "assigned" && s.state !== "in-service")) throw new CtiError("bad-request", "Only a chat that is being served can turn into a call.");
    if (s.callHandle) throw new CtiError("already-queued", "A call is already on in this chat.");
    if (!(await store.agent(s.seat))?.phone) throw new CtiError("unavailable", "The agent has no phone or desk ready for calls right now.");
    const token = randomHex(16);
    await store.putCallToken(token, { queue: s.queue, customer: s.customer, form: {}, extraSkills: [], session: s.id }, now() + CALL_TOKEN_MS);
    return { token, session: s };
  }

  /**
   * The call that brings a token (its Call-ID the handle) to this queue's address: it joins as the token's
   * customer, or, for a chat's token, rings that chat's seat.
   */
  async function joinWithToken(token: string, queue: string, handle: string): Promise<Session> {
    const kept = CALL_TOKEN.test(token) ? await store.takeCallToken(token, now()) : null;
    if (!kept || kept.queue !== queue)
      throw new CtiError("forbidden", "This call's token is not valid: a token is good for one call to its queue within a minute. Please call again from the page.");
    if (!kept.session) return join({ ...kept, plain: false, media: "voice", handle });
    if (!(await store.sessionCall(kept.session, handle, "ringing", now())))
      throw new CtiError("bad-request", "This chat cannot turn into a call now: it has ended, or a call is on already.");
    return (await store.session(kept.session))!;
  }

  /** Refuses a join when no agent who could serve it (at the queue's levels) is logged in. */
  async function checkStaffed(queue: Queue, needs: string[], media: Media): Promise<void> {
    if (!(await someAgent(queue, needs, "on"))) await refuseUnstaffed(queue, needs, media);
  }

  /** Why nobody can serve a join: no agent has the skills at all, or none of them is logged in. */
  async function refuseUnstaffed(queue: Queue, needs: string[], media: Media): Promise<never> {
    if (media === "voice") throw new CtiError("no-agents", `No agent of the queue ${queue.title ?? queue.name} can take calls right now. Please try again later.`);
    if (!(await someAgent(queue, needs, "all"))) throw new CtiError("unavailable", `No agent here has the skills ${needs.join(", ")}.`);
    throw new CtiError("no-agents", `No agent of the queue ${queue.name} is logged in right now. Please try again later.`);
  }

  /** Whether an agent (logged in, or at all) has the skills, at the queue's levels; without levels one found answers it. */
  const someAgent = async (queue: Queue, needs: string[], kind: "on" | "all") => hasMinLevels(queue)
    ? (await store.agentsNamed(await store.seats(kind, needs))).some((a) => canServe(a, needs, queue.minLevels))
    : (await store.seats(kind, needs, 1)).length > 0;

  const hasMinLevels = (queue: Queue) => Object.keys(queue.minLevels ?? {}).length > 0;

  /** The deadlines a queue sets its sessions (the store's deadline index; expireOne applies them). */
  const timeoutsOf = (q: Queue): Timeouts => ({ wait: (q.maxWaitSeconds ?? 0) * 1000, assign: (q.assignTimeout ?? 0) * 1000, answer: (q.firstResponseTimeout ?? 0) * 1000 });

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

  /** Ends the sessions whose customer did not come back within the grace period (the notifier's timer, when it is over). */
  async function expireAway(): Promise<number> {
    const ended = (await store.expireAway(now())).length;
    if (ended > 0) await route();
    return ended;
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
    // Only the sessions with a deadline due (the store's index), not every live one.
    for (const id of await store.due(t, SWEEP_LIMIT)) {
      const s = await store.session(id);
      if (s) ended += await expireOne(s, t);
    }
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
    if (s.media === "voice") { // the soft switch times the ringing, and a call needs no first message
      if (q?.maxWaitSeconds && s.state === "queued" && s.queuedAt + q.maxWaitSeconds * 1000 <= t && (await store.end(s.id, "expired", t, "queued"))) ended++;
      return ended;
    }
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
    // A queued customer who was away was out of the line, so a seat that got free meanwhile passed it by:
    // back in line, it is routed now rather than at the next join, seat change or periodic pass (up to 15 s).
    await route();
  }

  /** The customer rates an ended session (the patent's service feedback valuation). */
  async function feedback(sessionId: string, actor: string, score: number, comment: string): Promise<void> {
    const session = await store.session(sessionId);
    if (!session) throw refuse.unknownSession();
    if (bareOf(actor) !== bareOf(session.customer)) throw new CtiError("forbidden", "Only the customer of a session may rate it.");
    validateFeedback(score, comment);
    const result = await store.feedback(sessionId, score, comment, now());
    if (result === "not-ended") throw new CtiError("bad-request", "Please rate the chat after it has ended.");
    if (result === "already") throw new CtiError("already-rated", "This chat has already been rated. Thank you!");
  }

  /**
   * Communication recording: a chat message between a session's customer and its seat, as the seat module
   * saw it pass (`at`: when; now if not given). The body is cut to LIMITS.recordedBody characters. A session
   * that has ended is still recorded (the message may race the end); an unknown one is refused.
   */
  async function recordMessage(m: { session: string; seat: string; sender: string; direction: MessageDirection; body: string; at?: number; file?: SharedFile }): Promise<void> {
    if (!["in", "out", "supervisor", "expert"].includes(m.direction)) throw new CtiError("bad-request", "A recorded message goes in or out.");
    const recorded = await store.recordMessage({
      session: m.session, seat: bareOf(m.seat), sender: bareOf(m.sender), direction: m.direction, body: clip(m.body, LIMITS.recordedBody), at: m.at ?? now(),
      ...(m.file ? { file: m.file } : {}),
    });
    if (!recorded) throw refuse.unknownSession();
  }

  /**
   * The whiteboard (issue 15): a board stanza between a session's customer and its seat, as the seat module
   * saw it pass and checked it; checked again here (protocol/board.ts), as anything stored is. An unknown
   * session is refused, as for recordMessage.
   */
  async function recordBoard(b: { session: string; seat: string; sender: string; direction: "in" | "out"; ops: BoardOp[]; at?: number }): Promise<void> {
    if ((b.direction !== "in" && b.direction !== "out") || !validOps(b.ops)) throw new CtiError("bad-request", BOARD_ERROR);
    const recorded = await store.recordBoard({ session: b.session, seat: bareOf(b.seat), sender: bareOf(b.sender), direction: b.direction, ops: b.ops, at: b.at ?? now() });
    if (!recorded) throw refuse.unknownSession();
  }

  /** Authority control: records what a supervisor or admin did (kept by the recorder in the audit log). */
  async function audit(actor: string, action: string, target: string, detail = ""): Promise<void> {
    await store.audit({ actor, action, target, detail: clip(detail, LIMITS.auditDetail), at: now() });
  }

  /**
   * After a chat ended: whether its customer is to be asked for a 1-5 rating, as a page's customer rates with
   * <feedback/>. Plain-chat customers only (a page asks by itself), of a chat that was served (in service
   * with a seat), and still there to read the question. When so, its next message within RATING_WINDOW_MS
   * may be the answer (answerRating).
   */
  async function askRating(e: EndedEvent): Promise<boolean> {
    if (!e.plain || e.media !== "chat" || !e.seat || e.from !== "in-service" || e.reason === "customer-offline") return false;
    await store.putRating(bareOf(e.customer), e.session, now() + RATING_WINDOW_MS);
    return true;
  }

  /**
   * A plain customer's chat message, which may answer the rating question. The pending rating is taken
   * whatever the message, so it never catches a later one. "rated": stored like a page's <feedback/>;
   * "already": the session was rated before; "none": no rating was pending or the message is something
   * else ("hello", "10 minutes"), to be handled as any message.
   */
  async function answerRating(customer: string, body: string): Promise<"rated" | "already" | "none"> {
    const sessionId = await store.takeRating(bareOf(customer), now());
    const rating = sessionId ? parseRating(body) : null;
    if (!sessionId || !rating) return "none";
    try {
      await feedback(sessionId, customer, rating.score, rating.comment);
      return "rated";
    } catch (err) {
      if (err instanceof CtiError && err.code === "already-rated") return "already";
      throw err;
    }
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
    const ended = await store.endBy(sessionId, bareOf(actor), now());
    if (ended === "unknown") throw refuse.unknownSession();
    if (ended === "forbidden") throw new CtiError("forbidden", "Only the customer or the agent of a session may end it.");
    if (ended === "ended") throw refuse.sessionEnded();
    if (ended.seat) await routeSeat(ended.seat);
    return ended;
  }

  /** The seat accepted the customer's first message (in-service), or first answered it (answered). */
  async function seatReport(what: "in-service" | "answered", sessionId: string, seat: string): Promise<"ok" | "already"> {
    const result = await (what === "in-service" ? store.markInService : store.markAnswered).call(store, sessionId, bareOf(seat), now());
    if (result === "unknown") throw refuse.unknownSession();
    if (result === "wrong-seat") throw new CtiError("forbidden", `Only the seat allocated to this session may report it ${what}.`);
    if (result === "ended") throw refuse.sessionEnded();
    return result;
  }

  /**
   * The seat hands its session to another agent (ready, with room) or to a
   * queue (the customer keeps its arrival order there); `note` goes to the
   * next agent with the customer's context. `by`: a supervisor's JID (or an
   * API token's "token:<name>") moving the session; the seat is not asked.
   */
  async function transfer(sessionId: string, fromSeat: string, target: { agent: string } | { queue: string }, note = "", by = ""): Promise<void> {
    const session = await store.session(sessionId);
    if (!session) throw refuse.unknownSession();
    // A supervisor moves the session from whichever seat serves it now (the script checks it still does).
    if (by) fromSeat = session.seat ?? "";
    if (session.media === "voice") throw new CtiError("unsupported", "Calls cannot be transferred yet: end the call, or ask the caller to call the other queue.");
    let to: TransferTarget;
    if ("queue" in target) {
      to = { queue: queueNamed(target.queue).name, timeoutsMs: timeoutsOf(queueNamed(target.queue)), needs: needsFor(queueNamed(target.queue), session.needs.filter((s) => !queueNamed(session.queue).skills.includes(s))) };
    } else {
      const agent = bareOf(target.agent).toLowerCase(); // JIDs compare without case (RFC 7622), and agents' are lower case
      if (!(await store.agent(agent))) throw new CtiError("not-found", "There is no such agent.");
      if (agent === bareOf(fromSeat)) throw new CtiError("bad-request", "You cannot transfer a customer to yourself: choose another agent or a queue.");
      to = { agent };
    }
    const result = await store.transfer(sessionId, bareOf(fromSeat), to, note.slice(0, 1000), now(), by);
    if (result === "unknown") throw refuse.unknownSession();
    if (result === "not-yours" && by) throw new CtiError("conflict", "The session moved meanwhile: look at it again.");
    if (result === "not-yours") throw new CtiError("forbidden", "Only the seat serving a session may transfer it.");
    if (result === "not-live") throw new CtiError("bad-request", "Only a session that is being served can be transferred.");
    if (result === "seat-unavailable") throw new CtiError("unavailable", `${"agent" in to ? to.agent : "That agent"} cannot take a customer now (not ready, or at capacity).`);
    await route();
  }

  /**
   * A supervisor changes an agent's skills and/or capacity until `until` (the end of the contact center's
   * day); a seat with more room is routed to at once. Null when the JID is no agent.
   */
  async function adjustAgent(jid: string, change: AgentChange, until: number): Promise<AgentChange | null> {
    const known = new Set([...queues.flatMap((q) => [...q.skills, ...(q.overflowSkills ?? [])]), ...(await store.agents()).flatMap((a) => a.skills)]);
    const skills = change.skills && [...new Set(change.skills.map((s) => s.trim()).filter(Boolean))];
    const unknown = skills?.filter((s) => !known.has(s) || s === VOICE_SKILL) ?? [];
    if (unknown.length) throw new CtiError("bad-request", `Unknown skill${unknown.length > 1 ? "s" : ""}: the skills are those the queues ask for or agents have (${[...known].filter((s) => s !== VOICE_SKILL).sort().join(", ")}).`);
    const maxChats = change.maxChats;
    if (maxChats !== undefined && !(Number.isInteger(maxChats) && maxChats >= 1 && maxChats <= LIMITS.maxChats)) throw new CtiError("bad-request", `The capacity must be a whole number of chats from 1 to ${LIMITS.maxChats}.`);
    if (!skills && maxChats === undefined) throw new CtiError("bad-request", "Give the agent's skills, its capacity, or both.");
    const applied = { ...(skills && { skills }), ...(maxChats !== undefined && { maxChats }) };
    if (!(await store.adjustAgent(bareOf(jid), applied, until))) return null;
    await routeSeat(bareOf(jid));
    return applied;
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

  /** A voice agent's phone registered (or its last registration went): it can take calls now, or not. */
  async function phone(jid: string, registered: boolean): Promise<boolean | null> {
    const changed = await store.setPhone(bareOf(jid), registered, now());
    if (changed && registered) await routeSeat(bareOf(jid));
    return changed;
  }

  /** The seat's phone answered a call: it is in service (and answered) at once; a chat's call is recorded. */
  async function callAnswered(sessionId: string, handle = ""): Promise<void> {
    if ((await store.answerCall(sessionId, now())) === "chat") await store.sessionCall(sessionId, handle, "answered", now());
  }

  /**
   * The seat's phones did not answer (or were busy): the caller goes back to the head of the queue and the
   * seat counts a miss (pausing it after the queue's maxNoAnswer), as for a chat; the seat rests
   * `restSeconds` first, so a busy phone is not rung again and again (app_queue's "retry").
   */
  async function callNotAnswered(sessionId: string, restSeconds: number, handle = ""): Promise<void> {
    const s = await store.session(sessionId);
    if (s?.media === "chat") { await store.sessionCall(sessionId, handle, "ended", now()); return; } // back to the chat
    const q = s && byName.get(s.queue);
    if (!q) return;
    const reason = `No answer to ${q.maxNoAnswer} call${q.maxNoAnswer === 1 ? "" : "s"} in a row`;
    if (await store.requeue(sessionId, now(), q.maxNoAnswer ?? 0, reason, restSeconds * 1000)) await route();
  }

  /** A call ended in the soft switch: hung up by either side, cancelled, or lost (`reason`). */
  async function callEnded(sessionId: string, reason: "customer" | "seat" | "call-failed", handle = ""): Promise<Session | null> {
    const ended = await store.endCall(sessionId, reason, reason === "customer" ? "departed" : reason, now());
    if (ended === "chat") { await store.sessionCall(sessionId, handle, "ended", now()); return null; } // hanging up returns to the chat
    if (ended?.seat) await routeSeat(ended.seat);
    return ended;
  }

  /** A supervisor or an admin ends a session (a call: the soft switch ends it). */
  async function forceEnd(sessionId: string): Promise<Session> {
    const ended = await store.end(sessionId, "supervisor", now());
    if (!ended) throw (await store.session(sessionId)) ? refuse.sessionEnded() : refuse.unknownSession();
    if (ended.seat) await routeSeat(ended.seat);
    return ended;
  }

  const { route, routeNewcomer, routeSeat, routeSeats } = createRouter({ store, queueOf: (name) => byName.get(name), now });

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

  /**
   * A queue's wait estimate, read at most once a second per queue (not once per customer). The read in
   * flight is shared: in a surge, every join of that moment would otherwise start its own.
   */
  const estimates = new Map<string, { at: number; estimate: Promise<(position: number) => number> }>();
  function estimateOf(queueName: string): Promise<(position: number) => number> {
    const cached = estimates.get(queueName);
    if (cached && now() - cached.at < 1000) return cached.estimate;
    const estimate = readEstimate(queueNamed(queueName));
    estimates.set(queueName, { at: now(), estimate });
    estimate.catch(() => estimates.delete(queueName)); // a failed read is tried again by the next one
    return estimate;
  }
  async function readEstimate(queue: Queue): Promise<(position: number) => number> {
    const [handle, pace] = await Promise.all([store.handleSeconds(queue.name), store.paceMs(queue.name)]);
    // The capacity is only needed until the queue has a measured pace.
    const seats = pace === undefined ? servingCapacity(await store.agentsNamed(await store.seats("on", queue.skills)), queue) : 0;
    return (position) => estimateWait(position, handle ?? DEFAULT_HANDLE_SECONDS, seats, pace);
  }

  const agingMsOf = (q: Queue) => (q.agingSeconds ?? DEFAULT_AGING_SECONDS) * 1000;

  /** One waiting customer's position and estimated wait, in O(log n) (a poll, a status sent to it alone). */
  async function statusOf(sessionId: string, queueName: string): Promise<(DueStatus & { queue: string; waitSeconds: number }) | null> {
    const mine = await store.position(sessionId, now(), agingMsOf(queueNamed(queueName)));
    if (!mine || mine.queue !== queueName) return null;
    return { ...mine, waitSeconds: (await estimateOf(mine.queue))(mine.position) };
  }

  /**
   * The customers of a queue to be told their status now (their position may have changed, or their
   * periodic status is due), with positions and estimates: the store reads only those (status.lua).
   */
  async function dueStatuses(queueName: string, intervalMs: number, limit: number): Promise<Array<DueStatus & { waitSeconds: number }>> {
    const queue = queueNamed(queueName);
    const due = await store.dueStatuses(queueName, now(), intervalMs, agingMsOf(queue), limit);
    if (due.length === 0) return [];
    const estimate = await estimateOf(queueName);
    return due.map((d) => ({ ...d, waitSeconds: estimate(d.position) }));
  }

  async function agents(): Promise<Array<{ jid: string; name?: string; state: AgentView; reason: string; activeSessions: number; maxChats: number; skills: string[]; voice: boolean; phoneRegistered: boolean; onCall: boolean; wrapUpUntil: string | null }>> {
    const t = now();
    return (await store.agents()).map((a: Agent) => ({
      jid: a.jid, name: a.name, state: agentView(a, t), reason: a.reason, activeSessions: a.active, maxChats: a.maxChats,
      skills: a.skills.filter((s) => s !== VOICE_SKILL), voice: a.voice, phoneRegistered: a.phone, onCall: a.calls > 0,
      wrapUpUntil: a.wrapUntil > t ? new Date(a.wrapUntil).toISOString() : null,
    }));
  }

  /** Each queue's waiting count, longest wait, and its routing rules (as configured). */
  async function queueStats(): Promise<Array<{ name: string; waiting: number; oldestWaitSeconds: number; rules: Omit<Queue, "name"> }>> {
    const t = now();
    return Promise.all(queues.map(async ({ name, ...rules }) => {
      const { waiting, oldestQueuedAt } = await store.queueSize(name); // counted, not read: the wallboard asks every second
      return { name, waiting, oldestWaitSeconds: oldestQueuedAt !== null ? Math.max(0, Math.floor((t - oldestQueuedAt) / 1000)) : 0, rules };
    }));
  }

  return {
    statusOf, dueStatuses,
    queues, queue: queueNamed, join, callToken, sessionCallToken, joinWithToken, depart, customerOffline, expire, expireAway, expireSession, resume, end, transfer, adjustAgent, agentState, endWrapUp, route, queueStatus,
    acceptOffer, rejectOffer, offerTarget, phone, callAnswered, callNotAnswered, callEnded, forceEnd,
    sessionByHandle: (handle: string) => store.sessionByHandle(handle),
    inService: (sessionId: string, seat: string) => seatReport("in-service", sessionId, seat),
    answered: (sessionId: string, seat: string) => seatReport("answered", sessionId, seat),
    feedback, leaveMessage, agentStats, agents, queueStats, recordMessage, recordBoard, audit, askRating, answerRating,
    messages: (limit = 100) => store.messages(limit),
    session: (id: string) => store.session(id),
    sessions: (recentEnded = 100) => store.sessions(recentEnded),
    /** The sessions a seat is serving now. */
    liveSessionsOf: async (seat: string) => (await store.sessions(0)).filter((s) => s.seat === bareOf(seat) && s.state !== "ended"),
    sessionOf: (customer: string) => store.sessionOf(customer),
    agent: (jid: string) => store.agent(bareOf(jid)),
    /** An expert joins or leaves a session (one transition, expert.lua); the rules are cti/expert.ts's. */
    expertChange: (c: DistributiveOmit<ExpertChange, "now">) => store.expert({ ...c, now: now() } as ExpertChange),
    expertSession: (jid: string) => store.expertSession(bareOf(jid)),
  };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
