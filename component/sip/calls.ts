/**
 * The SIP side of the CTI, beside the XMPP one: what the soft switch reports (a call to a queue, an
 * answer, a hang-up, a registration) becomes CTI commands, and the CTI's decisions about calls (a seat
 * allocated, a refusal, an end) become switch commands. Calls use the same transitions and events as chats.
 */
import type { Element } from "@xmpp/xml";
import type { Logger } from "pino";
import type { Cti } from "../../cti/cti.js";
import { CtiError, ERRORS } from "../../cti/errors.js";
import type { EventReader, LoggedEvent } from "../../cti/redis/events.js";
import type { CtiEvent, Queue } from "../../cti/types.js";
import * as st from "../xmpp/stanzas.js";
import type { SwitchLink } from "./switch-link.js";

/** A report of the soft switch (softswitch/kamailio.cfg): e = what, c = Call-ID (or user), d = data. */
export interface SwitchEvent { e: string; c: string; d: string }

export function parseSwitchEvent(fields: string[]): SwitchEvent {
  const get = (name: string) => { const i = fields.indexOf(name); return i >= 0 ? fields[i + 1] ?? "" : ""; };
  return { e: get("e"), c: get("c"), d: get("d") };
}

/** Reason phrases of the responses we send (RFC 3261 section 21). */
const PHRASES: Record<number, string> = {
  400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict", 480: "Temporarily Unavailable", 481: "Call Does Not Exist",
  486: "Busy Here", 500: "Server Internal Error", 501: "Not Implemented", 503: "Service Unavailable", 513: "Message Too Large",
};

/** A caller as the switch reports it: user@host, both plain (the switch's parser let it through; we are stricter). */
const CALLER = /^[A-Za-z0-9._~+*!=$-]{1,64}@[A-Za-z0-9.-]{1,253}$/;
const QUEUE_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** Reports being handled at once at most (read on when fewer are): bounds the memory a burst can take. */
const MAX_REPORTS_IN_FLIGHT = 500;

/** Calls whose session this instance queued, remembered at most (the oldest are forgotten first). */
const KNOWN_CALLS = 50_000;

type VoiceEvent = Extract<CtiEvent, { type: "assigned" | "ended" | "requeued" | "call" }>;

export interface CallsDeps {
  cti: Cti;
  link: SwitchLink;
  domain: string;
  componentDomain: string;
  /** Seconds a seat's phones ring (a queue's firstResponseTimeout wins). */
  ringSeconds: number;
  /** Seconds a seat whose phone missed a call rests before it is offered another. */
  retrySeconds: number;
  /** XMPP, to tell the seat's chat client about its calls. */
  send: (stanza: Element) => Promise<void>;
  log: Logger;
}

export function createCalls({ cti, link, domain, componentDomain: cc, ringSeconds, retrySeconds, send, log }: CallsDeps) {
  const refuse = (callId: string, code: number, text: string) => link.send("refuse", callId, String(code), PHRASES[code] ?? "Unavailable", text);
  /**
   * The session of each call this instance queued, so its answer and hang-up need no lookup in Redis
   * (a Call-ID names one call, and its session never changes). Calls queued by another instance, or
   * before a restart, are looked up.
   */
  const known = new Map<string, string>();
  const remember = (callId: string, id: string) => {
    known.set(callId, id);
    if (known.size > KNOWN_CALLS) known.delete(known.keys().next().value!);
  };
  const sessionOf = async (callId: string) => known.get(callId) ?? cti.sessionByHandle(callId);
  const ringFor = (q: Queue) => q.firstResponseTimeout ?? ringSeconds;

  /** The call queuing information: a call to a queue address joins the queue as a chat would. */
  async function invite(callId: string, data: string, redelivered: boolean): Promise<void> {
    const [from = "", auth = "", queue = "", token = "", ...rest] = data.split("|");
    const name = rest.join("|").replace(/^\s*"|"\s*$/g, "").trim().slice(0, 100);
    if (!CALLER.test(from) || !QUEUE_NAME.test(queue) || (auth && !CALLER.test(`${auth}@${domain}`)))
      return refuse(callId, 400, "The caller or the queue address is not one we can take");
    const customer = `sip:${auth ? `${auth}@${domain}` : from.toLowerCase()}`;
    // This report again (taken over from an instance that crashed, or retried): its call may have been
    // queued already, and may have ended since; joining again would queue a call whose transaction is gone.
    // A report read for the first time cannot have been acted on: it needs no lookup.
    if (redelivered && (await sessionOf(callId))) return;
    try {
      // A page's call brings a token (RFC 7433 User-to-User): it joins as the page's XMPP customer.
      const session = token
        ? await cti.joinWithToken(token, queue, callId)
        : await cti.join({ queue, customer, plain: false, extraSkills: [], form: name ? { name } : {}, media: "voice", handle: callId, guest: !auth });
      remember(callId, session.id);
    } catch (err) {
      if (!(err instanceof CtiError)) throw err;
      refuse(callId, ERRORS[err.code].sip, err.text);
    }
  }

  /**
   * Acts on one report of the switch. Throws when it must be retried (the switch or Redis unreachable).
   * `redelivered`: the report may have been acted on before (see LoggedEvent).
   */
  async function handle(ev: SwitchEvent, redelivered = true): Promise<void> {
    if (ev.e === "invite") return invite(ev.c, ev.d, redelivered);
    if (ev.e === "reg") { await cti.phone(`${ev.c}@${domain}`, Number(ev.d) > 0); return; }
    if (ev.e === "expired") return link.send("query", ev.c); // the switch reports what is left
    const id = await sessionOf(ev.c);
    if (!id) return; // a call the CTI never queued (refused at once), or long gone
    if (ev.e !== "answered" && ev.e !== "noanswer") known.delete(ev.c); // its last report
    if (ev.e === "answered") return cti.callAnswered(id, ev.c);
    if (ev.e === "noanswer") return cti.callNotAnswered(id, retrySeconds, ev.c);
    if (ev.e === "cancel") { await cti.callEnded(id, "customer", ev.c); return; }
    if (ev.e === "bye") { await cti.callEnded(id, ev.d === "seat" ? "seat" : "customer", ev.c); return; }
    if (ev.e === "unreachable" || ev.e === "gone") { await cti.callEnded(id, "call-failed", ev.c); return; }
    log.warn({ event: ev.e }, "unknown soft switch report");
  }

  /** The CTI decided about a call (events of the log, read once across instances). */
  async function decided(e: VoiceEvent): Promise<void> {
    const q = cti.queue(e.queue);
    if (e.type === "call") { // a chat turned into a call: ring the chat's seat, no queueing
      if (e.phase !== "ringing") return;
      link.send("route", e.handle, e.seat.split("@")[0]!, String(ringFor(q)));
      await send(st.text(cc, e.seat, `${e.customer} is calling you from your chat: your phone is ringing. (session ${e.session})`));
    } else if (e.type === "assigned") {
      link.send("route", e.handle, e.seat.split("@")[0]!, String(ringFor(q)));
      const caller = e.form.name ? `${e.form.name} <${e.customer}>` : e.customer;
      await send(st.text(cc, e.seat, `Call from ${caller} for ${q.title ?? q.name}: your phone is ringing. (session ${e.session})`));
    } else if (e.type === "requeued") {
      await send(st.text(cc, e.seat, `You did not answer the call from ${e.customer} within ${ringFor(q)} seconds, so it goes to another agent. (session ${e.session})`));
    } else if (e.from === "queued") {
      if (e.reason === "expired") refuse(e.handle, 480, "Sorry, nobody could take your call in time. Please try again later");
      else if (e.reason === "supervisor") refuse(e.handle, 480, "The contact center ended the call");
      // departed: the caller hung up, which the switch has answered already
    } else if (e.reason === "supervisor" || e.reason === "seat-offline") {
      link.send("end", e.handle); // hang-ups and failures were the switch's own news
      if (e.reason === "supervisor") await send(st.text(cc, e.seat!, `A supervisor ended your call with ${e.customer}. (session ${e.session})`));
    }
  }

  /**
   * The switch connected (or reconnected, perhaps after its own restart): ask for the voice agents'
   * registrations, and for every call still waiting or ringing whether the switch holds it yet.
   */
  async function resync(voiceAgents: string[]): Promise<void> {
    for (const jid of voiceAgents) link.send("query", jid.split("@")[0]!);
    for (const s of await cti.sessions(0)) if (s.media === "voice" && s.state !== "in-service" && s.state !== "ended") link.send("check", s.handle);
  }

  /**
   * Reads and acts on the switch's reports until stop(). Reports of one call (or one user's registrations)
   * are handled in order, those of different calls side by side and while the next ones are read, so
   * their Redis commands share round trips (ioredis pipelines what is sent in the same tick) instead of
   * each report waiting for all before it. After a report that fails, the rest of its call already read
   * waits too: they stay pending and are retried in order.
   */
  function run(reader: EventReader<SwitchEvent>) {
    let stopped = false;
    /** Per call, the last of its reports being handled: resolves false if one of them failed. */
    const chains = new Map<string, Promise<boolean>>();
    let inFlight = 0;
    let room: (() => void) | undefined;
    /**
     * Handled, to be acknowledged ahead of the next read (on the same connection: no round trip of its
     * own); when all is quiet that is up to a second later, well inside the STALE_MS before another
     * instance would take them over.
     */
    let handled: string[] = [];
    const ack = () => {
      const ids = handled;
      handled = [];
      return reader.ack(ids).catch((err: Error) => log.warn({ err: err.message }, "soft switch reports not acknowledged; they will be handled again"));
    };
    const take = ({ id, event, redelivered = false }: LoggedEvent<SwitchEvent>) => {
      inFlight++;
      const next = (chains.get(event.c) ?? Promise.resolve(true)).then(async (ok) => {
        if (!ok) return false;
        try {
          await handle(event, redelivered);
          handled.push(id);
          return true;
        } catch (err) {
          log.warn({ err: (err as Error).message, event: event.e }, "soft switch report not handled; it will be retried");
          return false;
        }
      }).finally(() => {
        inFlight--;
        if (chains.get(event.c) === next) chains.delete(event.c);
        room?.();
      });
      chains.set(event.c, next);
    };
    const done = (async () => {
      await reader.ensureGroupPatiently(() => stopped, (err) => log.warn({ err: err.message }, "soft switch report group not ready; retrying"));
      while (!stopped) {
        if (inFlight >= MAX_REPORTS_IN_FLIGHT) {
          await new Promise<void>((r) => { room = r; });
          room = undefined;
          continue;
        }
        try {
          void ack();
          for (const report of await reader.read(1000, MAX_REPORTS_IN_FLIGHT - inFlight)) take(report);
        } catch (err) {
          if (stopped) break;
          log.error({ err: (err as Error).message }, "reading the soft switch reports failed");
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      await Promise.all(chains.values());
      await ack();
    })();
    return { stop: async () => { stopped = true; await done.catch(() => undefined); } };
  }

  /** A chat that ended while a call in it was on: the switch hangs the call up. */
  const hangUp = (callId: string) => link.send("end", callId);

  return { handle, decided, hangUp, resync, run };
}

export type Calls = ReturnType<typeof createCalls>;
