/**
 * Customer -> CTI: queuing information. XEP-0142 join-queue / depart-queue
 * iqs on a queue's JID, and plain chat messages to it for clients that
 * speak no XEP-0142.
 */
import type { Element } from "@xmpp/xml";
import { CtiError } from "../../cti/errors.js";
import { LIMITS, bareOf, clip } from "../../cti/policy.js";
import type { Joined, JoinRequest } from "../../cti/types.js";
import { xml } from "@xmpp/component";
import { JOIN_FIELDS, NS, SB, WG } from "../../protocol/names.js";
import type { Addr, HandlerDeps } from "./context.js";
import { ratingHandler } from "./rating.js";
import * as st from "./stanzas.js";

/**
 * A submitted data form's fields as var -> values (as sent). Refuses
 * what XEP-0004 forbids (a field without var, a var twice: one would silently
 * overwrite the other) and absurd sizes before anything is read: the CTI's
 * own limit counts only non-empty fields, so 1000 empty ones would pass it.
 */
export function readForm(form: Element): Map<string, string[]> {
  const fields = form.getChildren("field");
  // room for FORM_TYPE and skills beside the LIMITS.formFields fields validateJoin counts
  if (fields.length > LIMITS.formFields + 2) throw new CtiError("bad-request", `At most ${LIMITS.formFields} form fields are accepted.`);
  const read = new Map<string, string[]>();
  for (const field of fields) {
    const name = field.attrs.var;
    if (!name) throw new CtiError("bad-request", "Every form field needs a var attribute.");
    if (read.has(name)) throw new CtiError("bad-request", "A form field is given more than once.");
    read.set(name, field.getChildren("value").map((v) => v.text()));
  }
  return read;
}

/** Reads join-queue's optional data form into a join request; the CTI validates the values. */
export function parseJoin(el: Element, queue: string, customer: string): JoinRequest {
  const req: JoinRequest = { queue, customer, plain: false, extraSkills: [], form: {} };
  const form = el.getChild("x", NS.DATA);
  if (!form) return req;
  if (form.attrs.type && form.attrs.type !== "submit") throw new CtiError("bad-request", "The join form must be of type submit.");
  const fields: Array<[string, string]> = [];
  for (const [name, sent] of readForm(form)) {
    const values = sent.map((v) => v.trim()).filter(Boolean);
    if (name === JOIN_FIELDS.skills) req.extraSkills.push(...values);
    else if (name !== "FORM_TYPE" && values.length > 0) fields.push([name, values.join(", ")]);
  }
  // fromEntries, not form[name] = ...: a field named __proto__ becomes a field the CTI refuses, not a prototype.
  return { ...req, form: Object.fromEntries(fields) };
}

const LEAVE_WORDS = /^(leave|quit|stop|cancel|bye)$/i;
/** A plain customer's first message becomes the subject the agent sees, cut to this length. */
const SUBJECT_LENGTH = 200;

export function queueHandlers({ cti, config, send, greet, nameOf, isAgent }: HandlerDeps) {
  const cc = config.component.domain;
  const rated = ratingHandler({ cti, send });

  /** Joins, with the status pass's next status for the newcomer a whole interval away: tellJoined tells the first. */
  const join = (req: JoinRequest) => cti.join({ ...req, nextStatusInMs: config.statusIntervalSeconds * 1000 });
  /**
   * A newcomer hears its place right after the join's answer, in the same socket write, not with a status
   * pass half a second later: in a surge, the passes' statuses queued in Prosody ahead of join results. The
   * answer is written by promise continuations once this handler returns, and a next-tick callback runs
   * only after they have all run (test/integration/queue-status.test.ts checks the order).
   */
  const tellJoined = (j: Joined) => {
    const { status } = j;
    if (status) process.nextTick(() => void greet(j.queue, j.id, { customer: j.customer, plain: j.plain, ...status }));
  };

  /** The result carries the session and its resume token (for a page that reloads). */
  async function joinQueue(el: Element, addr: Addr): Promise<Element> {
    const joined = await join(parseJoin(el, addr.queue, addr.from));
    tellJoined(joined);
    return xml(SB.session, { xmlns: NS.SB, id: joined.id, token: joined.token });
  }

  /**
   * A page is about to call: to a queue, the token its INVITE carries (RFC 7433 User-to-User) so that the
   * call joins as this customer, with this join's form, and its place in line is told here over XMPP.
   * To the component with a session: the chat turns into a call to the same seat. The customer asking
   * gets the token; the seat asking has it sent to the customer's page, which calls when the customer
   * accepts (a page can call, not be called: it registers nowhere).
   */
  async function callToken(el: Element, addr: Addr): Promise<Element | true> {
    if (!config.ports.sip) throw new CtiError("unsupported", "This contact center takes no calls.");
    if (addr.queue) {
      const token = await cti.callToken(parseJoin(el, addr.queue, addr.from));
      return xml(SB.call, { xmlns: NS.SB, uri: `sip:${addr.queue}@${cc}`, token });
    }
    if (!el.attrs.session) throw new CtiError("bad-request", "Send <call/> to a queue's JID, or to this service with the session it belongs to.");
    const { token, session } = await cti.sessionCallToken(el.attrs.session, addr.from);
    const call = xml(SB.call, { xmlns: NS.SB, session: session.id, uri: `sip:${session.queue}@${cc}`, token });
    if (bareOf(addr.from) === bareOf(session.customer)) return call;
    if (session.plain) throw new CtiError("unsupported", "This customer's client cannot take calls from here.");
    await send(xml("message", { from: cc, to: session.customer, type: "chat" }, xml("body", {}, `${nameOf(session.seat!)} would like to talk with you: accept the call on the page.`), call));
    return true;
  }

  /** XEP-0142 offer-accept / offer-reject from an agent's client; the service answers only with a result. */
  async function answerOffer(el: Element, addr: Addr): Promise<true> {
    if (!isAgent(addr.fromBare)) throw new CtiError("forbidden", "Only agents answer offers.");
    const customer = el.attrs.jid;
    if (!customer) throw new CtiError("bad-request", `<${el.name}/> needs the customer's jid.`);
    if (el.name === WG.offerReject) {
      await cti.rejectOffer(customer, addr.from);
      return true;
    }
    const result = await cti.acceptOffer(customer, addr.from);
    if (result !== "ok") {
      const why = result === "full" ? "You are at capacity." : "The customer is no longer waiting for you.";
      setImmediate(() => void send(st.offerRevoke(st.queueJid(addr.queue, cc), addr.from, customer, el.attrs.id ?? "", why)).catch(() => undefined));
    }
    return true;
  }

  /** XEP-0142 status poll: where the requester stands in this queue. */
  async function pollStatus(_el: Element, addr: Addr): Promise<Element> {
    const id = await cti.sessionOf(addr.from);
    const mine = id ? await cti.statusOf(id, addr.queue) : null; // its rank alone, not the whole queue
    if (!mine) throw new CtiError("not-authorized", `You are not waiting in the queue ${addr.queue}.`);
    return xml(WG.queueStatus, { xmlns: NS.WG }, xml("position", {}, String(mine.position)), xml("time", {}, String(mine.waitSeconds)));
  }

  async function leaveMessage(el: Element, addr: Addr): Promise<true> {
    const form = el.getChild("x", NS.DATA);
    const fields = Object.fromEntries([...(form ? readForm(form) : [])].map(([k, vs]) => [k, vs.join("\n").trim()]));
    await cti.leaveMessage(addr.queue, addr.from, fields);
    return true;
  }

  async function departQueue(_el: Element, addr: Addr): Promise<true> {
    await cti.depart(addr.from, addr.queue);
    return true;
  }

  /**
   * Any chat message to a queue joins it; later ones get a status, "leave" leaves. Just after a chat, the
   * answer to the rating question may come here too (a client may reply to the queue it wrote to).
   */
  async function chatToQueue(stanza: Element, addr: Addr): Promise<void> {
    const body = stanza.getChildText("body")?.trim();
    if (!body) return; // chat states and receipts need no answer
    const from = st.queueJid(addr.queue, cc);
    if (await rated(body, addr, from)) return;
    const id = await cti.sessionOf(addr.from);
    const live = id ? await cti.session(id) : null;
    if (live && live.state !== "ended") {
      if (live.state !== "queued") {
        await send(st.text(from, addr.from, `${nameOf(live.seat!)} is serving you: write to ${live.seat}.`));
      } else if (live.queue !== addr.queue) {
        await send(st.text(from, addr.from, `You are already waiting in the queue ${live.queue}. Write "leave" there first.`));
      } else if (LEAVE_WORDS.test(body)) {
        await cti.depart(addr.from, addr.queue); // the departed message follows from the event
      } else {
        await greet(live.queue, live.id);
      }
      return;
    }
    const joined = await join({
      queue: addr.queue, customer: addr.from, plain: true, extraSkills: [],
      form: { [JOIN_FIELDS.subject]: clip(body, SUBJECT_LENGTH) },
    });
    // A plain client shows the queue as a contact: directed presence shows it online, with no subscription.
    await send(xml("presence", { from, to: addr.from }));
    if (joined.status) {
      await send(st.text(from, addr.from, `You are in the queue ${cti.queue(addr.queue).title ?? addr.queue}. Write "leave" to leave it.`));
      tellJoined(joined);
    }
  }

  return { joinQueue, callToken, departQueue, pollStatus, answerOffer, leaveMessage, chatToQueue };
}
