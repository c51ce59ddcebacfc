/**
 * Turns CTI events into the stanzas customers and seats receive: queue
 * status, the queuing result, the beginning message, the end. Events come from
 * the log's consumer group, so each is acted on once even with several
 * instances, and those of an instance that died are picked up by another.
 */
import type { Element } from "@xmpp/xml";
import type { Logger } from "pino";
import type { Cti } from "../cti/cti.js";
import type { EventReader } from "../cti/redis/events.js";
import type { DueStatus } from "../cti/store.js";
import type { CtiEvent } from "../cti/types.js";
import type { Calls } from "./sip/calls.js";
import { expertNotices } from "./xmpp/expert.js";
import { RATING_QUESTION } from "./xmpp/rating.js";
import * as st from "./xmpp/stanzas.js";

export interface NotifierDeps {
  cti: Cti;
  componentDomain: string;
  send: (stanza: Element) => Promise<void>;
  nameOf: (jid: string) => string;
  log: Logger;
  /** The SIP side, when voice is on: calls' decisions go to the soft switch, not to XMPP. */
  calls?: Pick<Calls, "decided" | "hangUp">;
  /** softswitch.retrySeconds: a seat that missed a call rests this long. */
  retrySeconds?: number;
  /** Told of each event once it is handled (the metrics' counters); must be cheap and must not throw. */
  onHandled?: (e: CtiEvent) => void;
  /**
   * Sends stanzas together (one socket write for the lot, where the connection allows): a status pass's
   * hundreds of statuses were as many writes, most of the component's CPU with thousands waiting.
   */
  sendMany?: (stanzas: Element[]) => Promise<void>;
  /** statusIntervalSeconds in ms: every waiting customer hears its status at least this often. */
  statusIntervalMs?: number;
}

type EndedEvent = Extract<CtiEvent, { type: "ended" }>;

/** A waiting customer's place as a join found it (cti Joined.status), with whom to tell. */
export type KnownStatus = Omit<DueStatus, "id"> & { waitSeconds: number };

function endedTexts(e: EndedEvent, seatName: string): { customer?: string; seat?: string } {
  switch (e.reason) {
    case "seat": return { customer: `${seatName} has ended the chat. Thank you for contacting us.`, seat: `You ended the chat with ${e.customer}.` };
    case "customer": return { customer: `You ended the chat with ${seatName}.`, seat: `${e.customer} ended the chat.` };
    case "customer-offline": return { seat: `${e.customer} went offline, so the chat has ended.` };
    case "seat-offline": return { customer: `${seatName} is no longer available, so this chat has ended. You are welcome to join the queue again.` };
    case "assign-timeout": return {
      customer: `You did not write to ${seatName} in time, so the chat was released. You are welcome to join the queue again.`,
      seat: `${e.customer} did not write in time, so the chat was released.`,
    };
    case "supervisor": return { customer: "The contact center has ended this chat. Thank you for contacting us.", seat: `A supervisor ended your chat with ${e.customer}.` };
    default: return {};
  }
}

/**
 * How often the status pass asks the store who is to hear its queue status (status.lua): newcomers whose
 * join did not tell them, half a second after it; those whose position changed (at most once a second
 * each); and those whose periodic status is due.
 */
export const STATUS_PASS_MS = 250;
/**
 * Statuses read and sent in one go (one status.lua call, one socket write), and the pause after each slice
 * while more are due. Prosody routes a slice's stanzas back to back, and whatever the component sends after
 * them (join results, assignments) waits behind: in a surge of joins (bench `surge`), 200-status slices one
 * after another put join p99 at 7x the raw IQ p99, and 25 with 5 ms between them at 3.6x (no statuses at
 * all: 2.8x). It caps a pass at about 4,000 statuses a second: 60,000 waiting customers' periodic ones.
 */
const STATUS_SLICE = 25;
const STATUS_SLICE_GAP_MS = 5;

/**
 * Timed passes that come due within this long of each other run as one (slotted): one route serves every
 * seat and customer that came due before it, and a route per ended call in a queue with wrap-up was
 * hundreds of full passes a second at the voice peak's rate. The same for ending away customers' sessions.
 */
const SLOT_MS = 100;

export function createNotifier({ cti, componentDomain: cc, send, nameOf, log, calls, retrySeconds, onHandled, statusIntervalMs = 15_000, sendMany }: NotifierDeps) {
  const sendAll = sendMany ?? (async (stanzas: Element[]) => { await Promise.all(stanzas.map(send)); });
  /** Runs a CTI check when a timer is due (just after, so the deadline has passed). */
  const later = (seconds: number, check: () => Promise<unknown>) =>
    setTimeout(() => void check().catch((err: Error) => log.warn({ err: err.message }, "timed check failed")), seconds * 1000 + 10).unref();
  /** Runs `check` when `seconds` are over, at the end of its SLOT_MS slot: those due in one slot run once. */
  const slotted = (check: () => Promise<unknown>) => {
    const slots = new Set<number>();
    return (seconds: number) => {
      const slot = Math.ceil((Date.now() + seconds * 1000) / SLOT_MS);
      if (slots.has(slot)) return;
      slots.add(slot);
      later((slot * SLOT_MS - Date.now()) / 1000, () => { slots.delete(slot); return check(); });
    };
  };
  /** Routes every free seat when `seconds` are over (a wrap-up, a rest, an overflow or a sticky wait). */
  const routeLater = slotted(() => cti.route());
  /** Ends the sessions of customers who stayed away when their grace is over (the tick would, up to statusIntervalSeconds late). */
  const expireAwayLater = slotted(() => cti.expireAway());

  /**
   * A seat's deadlines for a chat it was given (the customer's first message, the seat's first answer),
   * checked when due: the tick would catch them too, up to statusIntervalSeconds late.
   */
  const timeSeat = (queue: string, session: string) => {
    const q = cti.queue(queue);
    for (const limit of [q.assignTimeout, q.firstResponseTimeout]) if (limit) later(limit, () => cti.expireSession(session));
  };

  /** Who moved a session, in words: a supervisor's JID, or an admin API token ("token:<name>"). */
  const supervisorName = (by: string) => (by.startsWith("token:") ? "An administrator" : `${nameOf(by)} (a supervisor)`);

  const experts = expertNotices({ cti, cc, nameOf });
  /** A session that ended or moved takes its expert out (expert-left, whose notice tells the expert). */
  const dismissExpert = async (session: string, reason: "ended" | "transferred") => {
    const s = await cti.session(session);
    if (s?.expert) await cti.expertChange({ op: "leave", session, expert: s.expert, by: "", reason });
  };

  /** What each waiting customer was last told by this instance, and when: a position never goes up. */
  const told = new Map<string, { position: number; wait: number; text: string; at: number }>();

  /**
   * One customer's status stanza, or null when there is nothing to tell (a phone caller hears ringing: its
   * place counts for the others, a page's call is told over XMPP). `periodic`: its regular status is due,
   * told even when unchanged, except to a plain client: a person reads each one, so it hears only a new text
   * (issue 15: the same "You are next in line" every 15 s was spam). `asked` (it wrote, or came back): always.
   */
  function statusFor(queue: string, d: { id: string; customer: string; plain: boolean; position: number; waitSeconds: number }, when: "asked" | "periodic" | "moved"): Element | null {
    if (d.customer.startsWith("sip:")) return null;
    const before = told.get(d.id);
    // A newcomer of higher priority may go ahead; the protocol promises a position never goes up.
    const position = before ? Math.min(before.position, d.position) : d.position;
    const stanza = st.queueStatus(st.queueJid(queue, cc), d.customer, d.plain, position, d.waitSeconds);
    const text = stanza.getChildText("body") ?? "";
    const same = d.plain ? before?.text === text : before?.position === position && before.wait === d.waitSeconds;
    if (same && (when === "moved" || (when === "periodic" && d.plain))) return null;
    told.set(d.id, { position, wait: d.waitSeconds, text, at: Date.now() });
    return stanza;
  }

  /**
   * Tells one waiting customer where it stands: where its join found it (`known`), or read now (it asked,
   * came back, or was put back in line): O(log n).
   */
  async function pushStatus(queue: string, { only, known }: { only: string; known?: KnownStatus }): Promise<void> {
    const mine = known ? { id: only, ...known } : await cti.statusOf(only, queue);
    const stanza = mine && statusFor(queue, mine, "asked");
    if (stanza) await send(stanza);
  }

  /**
   * One status pass: for each queue, the customers the store says are to hear now (status.lua: position
   * moved, or periodic status due), each told at most once a second. Never the whole queue per event.
   */
  async function statusPass(): Promise<void> {
    for (const q of cti.queues) {
      for (;;) {
        const due = await cti.dueStatuses(q.name, statusIntervalMs, STATUS_SLICE);
        const stanzas: Element[] = [];
        for (const d of due) {
          // The store picks those due, periodic or brought forward by a movement: one brought forward whose
          // status is unchanged since this instance told it, well within the interval, did not move after all.
          const before = told.get(d.id);
          const stanza = statusFor(q.name, d, !before || Date.now() - before.at >= statusIntervalMs - 1000 ? "periodic" : "moved");
          if (stanza) stanzas.push(stanza);
        }
        if (stanzas.length) await sendAll(stanzas);
        // Each told customer is rescheduled, so the next slice reads the next ones. Between slices, joins and
        // routing go first: a whole queue's periodic statuses at once held them for tens of milliseconds.
        if (due.length < STATUS_SLICE) break;
        await new Promise((resolve) => setTimeout(resolve, STATUS_SLICE_GAP_MS));
      }
    }
    // Forget what was told to customers this instance no longer hears of (served or gone through another instance).
    if (Date.now() - prunedAt >= statusIntervalMs) {
      prunedAt = Date.now();
      for (const [id, t] of told) if (prunedAt - t.at > 3 * statusIntervalMs) told.delete(id);
    }
  }
  let prunedAt = Date.now();

  /** The seat is free again once its wrap-up is over: route then (the tick would, up to statusIntervalSeconds later). */
  const routeAfterWrapUp = (queue: string) => {
    const wrapUp = cti.queue(queue).wrapUpSeconds;
    if (wrapUp) routeLater(wrapUp);
  };

  async function handle(e: CtiEvent): Promise<void> {
    // A recorded chat message (issue 12), whiteboard (issue 15) or a supervisor's action (issue 13): for the recorder, nothing to tell anyone.
    if (e.type === "message" || e.type === "board" || e.type === "audit") return;
    if (e.type === "call") return calls?.decided(e);
    if (e.type === "expert-joined") return sendAll(await experts.joined(e));
    if (e.type === "expert-left") return sendAll(await experts.left(e));
    if (e.type === "customer-away") return expireAwayLater(Math.max(0, e.until - Date.now()) / 1000);
    if ((e.type === "assigned" || e.type === "requeued" || e.type === "ended") && e.media === "voice") {
      if (e.type === "ended" && e.from !== "queued") routeAfterWrapUp(e.queue);
      if (e.type === "requeued" && retrySeconds) routeLater(retrySeconds); // the seat's rest is over
      if (e.type !== "requeued") told.delete(e.session);
      return calls?.decided(e);
    }
    if (e.type === "queued") {
      // Its first status came with the join's answer (XMPP), or comes with the status pass half a second
      // later (a page's call), unless it is served first.
      // Checks due while the customer waits (the tick catches them too, later).
      const q = cti.queue(e.queue);
      if (q.maxWaitSeconds) later(q.maxWaitSeconds, () => cti.expireSession(e.session));
      if (q.overflowAfter) routeLater(q.overflowAfter);
      if (q.stickySeconds) routeLater(q.stickySeconds); // the preferred seat did not free up: anyone may serve
    } else if (e.type === "offered") {
      for (const agent of e.agents) await send(st.offer(st.queueJid(e.queue, cc), agent, e.customer, e.session, e.timeout, e.form));
      later(e.timeout, () => cti.expireSession(e.session)); // nobody accepted: revoke, and route again
    } else if (e.type === "offer-withdrawn") {
      if (e.reason === "timeout") {
        const s = await cti.session(e.session);
        for (const agent of e.agents) await send(st.offerRevoke(st.queueJid(s?.queue ?? "", cc), agent, s?.customer ?? "", e.session, "Nobody accepted the offer in time."));
      }
    } else if (e.type === "assigned") {
      told.delete(e.session);
      // Offered to several: the one who accepted has it, the others' offers are revoked.
      for (const agent of e.rang.filter((a) => !a.startsWith(`${e.seat}/`)))
        await send(st.offerRevoke(st.queueJid(e.queue, cc), agent, e.customer, e.session, "Another agent accepted this customer."));
      timeSeat(e.queue, e.session);
      // The beginning message first: Prosody handles our stanzas in order, so the seat module holds the
      // grant before the customer learns whom to write to, and its first message cannot bounce.
      await send(st.begin(cc, e.seat, e.session, e.customer, e.queue, e.form, { queuedAt: e.queuedAt }));
      await send(st.assigned(st.queueJid(e.queue, cc), e.customer, e.plain, e.session, e.seat, nameOf(e.seat)));
    } else if (e.type === "requeued") {
      // The seat did not answer: withdraw its grant, tell it why, and put the customer back in line.
      const q = cti.queue(e.queue);
      const paused = e.paused ? ` You have been set not ready after ${q.maxNoAnswer} unanswered customers: write "ready" to ${cc} when you are back.` : "";
      await send(st.ended(cc, e.seat, true, e.session, "no-answer", `You did not answer ${e.customer} within ${q.firstResponseTimeout} seconds, so the customer goes to another agent.${paused}`));
      await send(st.text(st.queueJid(e.queue, cc), e.customer, `${nameOf(e.seat)} did not answer in time. You are first in line for the next agent.`));
      await pushStatus(e.queue, { only: e.session });
      await dismissExpert(e.session, "transferred");
    } else if (e.type === "transferred") {
      const from = nameOf(e.from);
      const to = e.seat ? nameOf(e.seat) : `the queue ${cti.queue(e.queue).title ?? e.queue}`;
      // A supervisor's move (issue 13) is told as such to the seat that lost the customer.
      const yours = e.by ? `${supervisorName(e.by)} transferred your customer ${e.customer} to ${to}.` : `You transferred ${e.customer} to ${to}.`;
      await send(st.ended(cc, e.from, true, e.session, "transferred", `${yours} (session ${e.session})`));
      await send(st.text(st.queueJid(e.queue, cc), e.customer, e.by ? `You are being transferred to ${to}.` : `${from} transferred you to ${to}.`));
      await dismissExpert(e.session, "transferred");
      if (e.seat) {
        timeSeat(e.queue, e.session); // the new seat's answer is timed afresh
        await send(st.begin(cc, e.seat, e.session, e.customer, e.queue, e.form, { transfer: { by: e.by ? supervisorName(e.by) : from, note: e.note } })); // grant first
        await send(st.assigned(st.queueJid(e.queue, cc), e.customer, e.plain, e.session, e.seat, nameOf(e.seat)));
      } else {
        await pushStatus(e.queue, { only: e.session });
      }
    } else if (e.type === "resumed") {
      // The customer is back under a new JID: tell it where it stands, and re-grant the seat.
      if (e.state === "queued") return pushStatus(e.queue, { only: e.session });
      await send(st.begin(cc, e.seat!, e.session, e.customer, e.queue, e.form, { previous: e.previous })); // grant first
      await send(st.assigned(st.queueJid(e.queue, cc), e.customer, e.plain, e.session, e.seat!, nameOf(e.seat!)));
    } else if (e.type === "ended") {
      told.delete(e.session);
      if (e.from === "queued") {
        const from = st.queueJid(e.queue, cc);
        for (const agent of e.rang) await send(st.offerRevoke(from, agent, e.customer, e.session, "The customer left the queue."));
        if (e.reason === "departed" || e.reason === "customer") await send(st.departed(from, e.customer, e.plain, `You have left the queue ${e.queue}.`));
        if (e.reason === "expired")
          await send(st.departed(from, e.customer, e.plain, `Sorry, nobody could take your chat in time, so you have left the queue ${e.queue}. Please leave a message or try again later.`));
        return;
      }
      routeAfterWrapUp(e.queue);
      if (e.call) calls?.hangUp(e.call);
      const texts = endedTexts(e, nameOf(e.seat!));
      if (texts.customer) {
        // A plain client shows each address as a conversation: the end and the question come from the queue
        // it already talks to (its answer to the queue is taken as the rating), not from a third address.
        const from = e.plain ? st.queueJid(e.queue, cc) : cc;
        await send(st.ended(from, e.customer, e.plain, e.session, e.reason, texts.customer));
        // A plain client has no rating form: ask in the chat (the pending rating is kept before the question goes out).
        if (await cti.askRating(e)) await send(st.text(from, e.customer, RATING_QUESTION));
      }
      if (texts.seat) await send(st.ended(cc, e.seat!, true, e.session, e.reason, `${texts.seat} (session ${e.session})`));
      await dismissExpert(e.session, "ended");
    }
  }

  /**
   * Sends every live session's beginning message again, without a body: the seat module keeps its grants in
   * Prosody's memory, so after Prosody restarted (or the component reconnected to another one) the seats'
   * customers would bounce until their sessions ended. Clients ignore a begin for a session they know.
   */
  async function regrant(): Promise<void> {
    for (const s of await cti.sessions(0)) {
      if (s.seat && s.media === "chat" && (s.state === "assigned" || s.state === "in-service"))
        await send(st.begin(cc, s.seat, s.id, s.customer, s.queue, s.form, { queuedAt: s.queuedAt, regrant: true }));
      if (s.expert && s.seat && s.state !== "ended") await send(experts.regrant(s)); // after the begin: the module checks the session's grant
    }
  }

  /** The periodic safety net: expire what is due and route anything a lost trigger left waiting (statuses: statusPass). */
  async function tick(): Promise<void> {
    await cti.expire();
    await cti.route();
  }

  /** Reads and acts on events until stop() while `online()`; unacknowledged events are retried later. */
  function run(reader: EventReader, online: () => boolean, whenOnline: () => Promise<void>) {
    let stopped = false;
    // Statuses on their own clock, one pass at a time, while connected (a pass left out is made up by the next).
    let passing = false;
    const statuses = setInterval(() => {
      if (passing || stopped || !online()) return;
      passing = true;
      statusPass().catch((err: Error) => log.warn({ err: err.message }, "queue statuses not pushed")).finally(() => { passing = false; });
    }, STATUS_PASS_MS);
    statuses.unref();
    const done = (async () => {
      await reader.ensureGroupPatiently(() => stopped, (err) => log.warn({ err: err.message }, "event log group not ready; retrying"));
      while (!stopped) {
        if (!online()) { await whenOnline(); continue; }
        let batch;
        try {
          batch = await reader.read(1000);
        } catch (err) {
          if (!stopped) log.error({ err }, "reading the event log failed");
          if (!stopped) await new Promise((r) => setTimeout(r, 500)); // back off from a Redis outage
          continue;
        }
        // Acknowledged together after the batch; a failed event stays pending and is retried (XAUTOCLAIM).
        const done: string[] = [];
        for (const { id, event } of batch) {
          try {
            await handle(event);
            done.push(id);
            onHandled?.(event);
          } catch (err) {
            log.warn({ err, event }, "could not deliver an event's stanzas; it will be retried");
          }
        }
        // Not awaited: the acknowledgement goes out ahead of the next read on the same connection, which saves
        // a round trip per batch on the way to the next events.
        void reader.ack(done).catch((err: Error) => log.warn({ err: err.message }, "events not acknowledged; they will be handled again"));
      }
    })();
    return { stop: async () => { stopped = true; clearInterval(statuses); await done.catch(() => undefined); } };
  }

  return { pushStatus, statusPass, handle, tick, run, regrant };
}
