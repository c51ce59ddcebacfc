/**
 * Allocation: which waiting customer gets which free seat, and when. Routing passes read only the heads
 * of the routing lines the free seats can serve (lines.ts), choose by priority with aging and by each
 * queue's strategy (allocation.ts), and claim through the store, whose claim script settles races with
 * other instances. No I/O but through the store port.
 */
import { eligibleSeats, hasCapacity, pickSeat, rankSeats, routingOrder } from "./allocation.js";
import { createLineIndex, lineKey } from "./lines.js";
import type { Store } from "./store.js";
import type { Agent, Queue, Session } from "./types.js";

/** A session a pass gave a seat, as its claim wrote it (a join answers with it, without reading it back). */
export interface Assignment { id: string; seat: string; at: number }

/** How long an XEP-0142 offer stands without a queue's offerTimeout. */
const DEFAULT_OFFER_SECONDS = 20;

/** How many passes a routing call makes while claims lose races before the customers wait for the next trigger. */
const CLAIM_ATTEMPTS = 5;

/** A routing pass reads at most this many customers per line; the next pass reads on. */
const HEADS = 16;

export interface RouterDeps { store: Store; queueOf: (name: string) => Queue | undefined; now: () => number }

export function createRouter({ store, queueOf, now }: RouterDeps) {
  /** The periodic safety net and the catch-all after rare changes: every free seat looks for customers. */
  const route = async (): Promise<Assignment[]> => routeSeats(await store.seats("free", []));

  /** A seat may have room now (a session ended, the agent is ready, its wrap-up is over). */
  const routeSeat = (jid: string) => routeSeats([jid]);

  const lineIndex = createLineIndex(queueOf);

  /**
   * Routing passes run one at a time in an instance, each for every seat asked for while the previous
   * ran: seats freed together then share one read of the lines and do not race each other for the
   * same customers (instances still may; their claims settle it). Resolves when the seats' pass is done,
   * to what that pass assigned.
   */
  let running: Promise<unknown> | undefined;
  let nextPass: { seats: Set<string>; done: Promise<Assignment[]>; start: (pass: Promise<Assignment[]>) => void } | undefined;
  function routeSeats(jids: string[]): Promise<Assignment[]> {
    if (!running) return startPass(jids);
    if (!nextPass) {
      let start!: (pass: Promise<Assignment[]>) => void;
      nextPass = { seats: new Set(), done: new Promise<Assignment[]>((resolve) => { start = resolve; }), start };
    }
    for (const jid of jids) nextPass.seats.add(jid);
    return nextPass.done;
  }
  function startPass(jids: string[]): Promise<Assignment[]> {
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
   * A newcomer whose line is the only one with routable customers takes a seat at once when the free seats
   * its enqueue read (whole) can take those ahead of it too: the next best after the ones left for them.
   * Who is served is what a pass would decide, without waiting for the pass in progress nor reading the
   * lines, heads and seats again; at low and half load that is most joins. Undefined where a pass must
   * decide (a ring-all or sticky queue, an offer, too few of these seats able to take them now, the seat
   * taken meanwhile); "taken": a pass, here or in another instance, gave the customer a seat first.
   */
  async function routeNewcomer(session: Session, ahead: number, seats: Agent[]): Promise<Assignment | "taken" | undefined> {
    const q = queueOf(session.queue);
    if (!q || q.strategy === "ring-all" || q.stickySeconds) return undefined;
    const t = now();
    const seat = rankSeats(seats, session.needs, t, q)[ahead];
    if (!seat || (seat.offerJid && session.media !== "voice")) return undefined;
    const result = await store.claim(session.id, seat.jid, t);
    return result === "ok" ? { id: session.id, seat: seat.jid, at: t } : result === "not-queued" ? "taken" : undefined;
  }

  /**
   * Allocates these seats (those with room) to waiting customers: it reads only the heads of the
   * lines the seats can serve, in routing order (priority with aging, then arrival), and gives each
   * customer the best of these seats by its queue's strategy. So the work per decision grows with the
   * number of lines (bounded by the configuration), not with the customers waiting or the agents.
   * Safe to run from any instance at any time: a claim that loses a race just looks again.
   */
  async function routePass(jids: string[]): Promise<Assignment[]> {
    const assigned: Assignment[] = [];
    if (jids.length === 0) return assigned;
    // The seats read now (they may have changed while this pass waited; only those still free), with the
    // lines in the same round trip.
    let [candidates, keys] = await Promise.all([store.freeAgents(jids), store.lines()]);
    for (let lost = 0; lost < CLAIM_ATTEMPTS;) {
      const t = now();
      const seats = candidates.filter((a) => hasCapacity(a, t));
      if (seats.length === 0) return assigned;
      if (assigned.length > 0 || lost > 0) keys = await store.lines(); // read again only when there is room to fill
      const lines = lineIndex.servableBy(keys, seats);
      if (lines.length === 0) return assigned;
      // As many as the seats can take (a claim lost to another instance reads again), one more where a
      // customer may be held for another seat (stickySeconds).
      const count = Math.min(seats.reduce((n, a) => n + a.maxChats - a.active, 0), HEADS) + (lines.some((l) => l.rules?.stickySeconds) ? 1 : 0);
      const waiting = await store.heads(lines.map((l) => l.key), count);
      const pass = await allocate(waiting, seats, t);
      assigned.push(...pass.assigned);
      if (pass.lostRaces > 0) lost++; // read again: others took the heads we saw
      // Nobody assigned, or fewer read than asked, so every customer of these lines was looked at: reading
      // them again would find no one new (newcomers route themselves), and cost a pass two round trips.
      else if (pass.assigned.length === 0 || waiting.length < count) return assigned;
      candidates = seats; // seats still free may serve customers beyond the heads read
    }
    return assigned;
  }

  /**
   * One pass: each waiting customer, in routing order, gets the best of the seats, until none is left.
   * The claims then go out together (one round trip; the store applies them in routing order): a pass
   * for many seats freed at once waited a round trip per customer, under load most of a seat's idle time.
   * A claim refused because the seat changed (another instance, a presence) has that seat read again; the
   * caller's next pass looks at the customers again.
   */
  async function allocate(waiting: Session[], seats: Agent[], t: number): Promise<{ assigned: Assignment[]; lostRaces: number }> {
    const hopeless = new Set<string>(); // queue and needs with no free seat in this pass
    const picks: Array<{ session: Session; seat: Agent }> = [];
    for (const session of routingOrder(waiting, queueOf, t)) {
      if (!seats.some((a) => hasCapacity(a, t))) break;
      const overflow = overflowNeeds(session, t);
      const key = `${session.queue}|${session.needs.join(",")}|${overflow?.join(",") ?? ""}`;
      if (hopeless.has(key)) continue;
      const seat = chooseSeat(session, seats, overflow, t);
      if (seat === "hold") continue;
      if (!seat) { hopeless.add(key); continue; }
      if (await offered(session, seat, t)) continue;
      seat.active++; // taken for the customers after this one, unless its claim fails
      seat.lastAssigned = t;
      picks.push({ session, seat });
    }
    const at = now();
    const results = await Promise.all(picks.map(({ session, seat }) => store.claim(session.id, seat.jid, at)));
    const assigned: Assignment[] = [];
    let lostRaces = 0;
    const changed: Agent[] = [];
    results.forEach((result, i) => {
      const { session, seat } = picks[i]!;
      if (result === "ok") { assigned.push({ id: session.id, seat: seat.jid, at }); return; }
      seat.active--;
      lostRaces++; // "not-queued": another seat took this customer; else the seat changed under us
      if (result !== "not-queued" && !changed.includes(seat)) changed.push(seat);
    });
    const fresh = await store.freeAgents(changed.map((a) => a.jid));
    for (const seat of changed) seats.splice(seats.indexOf(seat), 1, ...fresh.filter((a) => a.jid === seat.jid));
    return { assigned, lostRaces };
  }

  /**
   * Agents whose client takes XEP-0142 offers get an offer instead of the customer: the chosen seat,
   * or for a ring-all queue every eligible seat that takes offers. True when an offer went out. Never
   * for a call: the seat's phones ring, and answering is accepting.
   */
  async function offered(session: Session, seat: Agent, t: number): Promise<boolean> {
    if (session.media === "voice") return false; // a call rings the seat's phones at once: its answer is the acceptance
    const q = queueOf(session.queue);
    const targets = q?.strategy === "ring-all"
      ? eligibleSeats(await store.agentsNamed(await store.seats("free", session.needs)), session.needs, t, q).filter((a) => a.offerJid)
      : seat.offerJid ? [seat] : [];
    if (targets.length === 0) return false;
    const until = t + (q?.offerTimeout ?? DEFAULT_OFFER_SECONDS) * 1000;
    await store.offer(session.id, targets.map((a) => a.offerJid), t, until);
    return true;
  }

  /**
   * The seat for one waiting customer, by its queue's strategy: the seat that served it last while
   * stickySeconds run ("hold": wait for it), else seats that did not leave it unanswered, else any.
   */
  function chooseSeat(session: Session, agents: Agent[], overflow: string[] | undefined, t: number): Agent | "hold" | undefined {
    const q = queueOf(session.queue);
    const pick = (list: Agent[]) => pickSeat(list, session.needs, t, q) ?? (overflow && pickSeat(list, overflow, t, q));
    if (session.preferredSeat && q?.stickySeconds && session.queuedAt + q.stickySeconds * 1000 > t)
      return pick(agents.filter((a) => a.jid === session.preferredSeat)) ?? "hold";
    const fresh = session.missedBy.length ? agents.filter((a) => !session.missedBy.includes(a.jid)) : agents;
    return pick(fresh) ?? (fresh !== agents ? pick(agents) : undefined);
  }

  /** The skills that may also serve a customer who waited past the queue's overflowAfter (its extras kept). */
  function overflowNeeds(session: Session, t: number): string[] | undefined {
    const q = queueOf(session.queue);
    if (!q?.overflowAfter || session.queuedAt + q.overflowAfter * 1000 > t) return undefined;
    return lineIndex.line(lineKey(session)).overflow;
  }

  return { route, routeNewcomer, routeSeat, routeSeats };
}
