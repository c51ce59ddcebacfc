/**
 * Every stanza the component sends, built in one place from protocol names.
 * Customer-facing messages come from the queue's JID, seat-facing ones from
 * the component's domain; each carries a human <body> for plain clients.
 */
import { xml } from "@xmpp/component";
import type { Element } from "@xmpp/xml";
import { NS, SB, WG } from "../../protocol/names.js";
import { ERRORS, type CtiError } from "../../cti/errors.js";

export const queueJid = (queue: string, domain: string) => `${queue}@${domain}`;

/** Plain chat customers get type chat, so their client shows the text in the conversation. */
const msgType = (plain: boolean) => (plain ? "chat" : undefined);

export function duration(seconds: number): string {
  if (seconds < 60) return "less than a minute";
  const minutes = Math.round(seconds / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

export function queueStatus(from: string, to: string, plain: boolean, position: number, waitSeconds: number): Element {
  const wait = waitSeconds < 60 ? duration(waitSeconds) : `about ${duration(waitSeconds)}`; // not "about less than a minute"
  const body = position === 0
    ? `You are next in line (${wait}).`
    : `There ${position === 1 ? "is 1 customer" : `are ${position} customers`} ahead of you (${wait}).`;
  return xml("message", { from, to, type: msgType(plain) },
    xml("body", {}, body),
    xml(WG.queueStatus, { xmlns: NS.WG }, xml("position", {}, String(position)), xml("time", {}, String(waitSeconds))));
}

export function assigned(from: string, to: string, plain: boolean, session: string, seat: string, seatName: string): Element {
  return xml("message", { from, to, type: msgType(plain) },
    xml("body", {}, `${seatName} will help you now. Write to ${seat}.`),
    xml(SB.assigned, { xmlns: NS.SB, session, seat }));
}

/**
 * The beginning message. The customer's form data rides along as an XEP-0004
 * result form, so a desk can show every field; `queuedAt` tells how long the
 * customer has waited; `previous` is set when the customer came back under a new JID.
 */
export function begin(from: string, seat: string, session: string, customer: string, queue: string, form: Record<string, string>,
  opts: { queuedAt?: number; previous?: string; transfer?: { by: string; note: string }; regrant?: boolean } = {}): Element {
  const { previous, transfer } = opts;
  const who = form.name ? `${form.name} (${customer})` : customer;
  const about = form.subject ? `${queue}, "${form.subject}"` : queue;
  const body = previous
    ? `Your customer ${previous} reconnected as ${who} (${about}). Write to them there.`
    : transfer
      ? `${transfer.by} transferred ${who} (${about}) to you.${transfer.note ? ` Note: ${transfer.note}` : ""} Write to them.`
      : `New customer ${who} (${about}). They will write to you now.`;
  return xml("message", { from, to: seat, type: "chat" },
    !opts.regrant && xml("body", {}, body), // a re-grant only restores the seat module's grant: nothing to show
    xml(SB.begin, { xmlns: NS.SB, session, customer, queue, "queued-at": opts.queuedAt ? new Date(opts.queuedAt).toISOString() : undefined },
      Object.keys(form).length > 0 && xml("x", { xmlns: NS.DATA, type: "result" },
        ...Object.entries(form).map(([k, v]) => xml("field", { var: k }, xml("value", {}, v))))));
}

/** XEP-0142 offer to an agent's client: the customer, the session, how long it stands, and the form. */
export function offer(from: string, to: string, customer: string, session: string, timeout: number, form: Record<string, string>): Element {
  return xml("iq", { type: "set", from, to, id: `offer-${session}-${Date.now().toString(36)}` },
    xml(WG.offer, { xmlns: NS.WG, jid: customer, id: session },
      xml("timeout", {}, String(timeout)),
      Object.keys(form).length > 0 && xml("x", { xmlns: NS.DATA, type: "result" },
        ...Object.entries(form).map(([k, v]) => xml("field", { var: k }, xml("value", {}, v))))));
}

export function offerRevoke(from: string, to: string, customer: string, session: string, reason: string): Element {
  return xml("iq", { type: "set", from, to, id: `revoke-${session}-${Date.now().toString(36)}` },
    xml(WG.offerRevoke, { xmlns: NS.WG, jid: customer, id: session }, xml("reason", {}, reason)));
}

export function ended(from: string, to: string, plain: boolean, session: string, reason: string, body: string): Element {
  return xml("message", { from, to, type: msgType(plain) }, xml("body", {}, body), xml(SB.ended, { xmlns: NS.SB, session, reason }));
}

/** The customer is out of the queue: it left, or waited too long (`body` says which). */
export function departed(from: string, to: string, plain: boolean, body: string): Element {
  return xml("message", { from, to, type: msgType(plain) }, xml("body", {}, body), xml(WG.departQueue, { xmlns: NS.WG }));
}

export function text(from: string, to: string, body: string): Element {
  return xml("message", { from, to, type: "chat" }, xml("body", {}, body));
}

/** The <error/> child for a refusal, with its human text (and an application condition where the table has one). */
export function errorElement(code: keyof typeof ERRORS, message: string): Element {
  const e: { type: string; xmpp: string; app?: string } = ERRORS[code];
  return xml("error", { type: e.type }, xml(e.xmpp, { xmlns: NS.STANZAS }), xml("text", { xmlns: NS.STANZAS, "xml:lang": "en" }, message),
    e.app ? xml(e.app, { xmlns: NS.COMMANDS }) : undefined);
}

export const ctiErrorElement = (err: CtiError) => errorElement(err.code, err.text);

/** A message error reply; its body repeats the error text, since plain clients show bodies best. */
export function messageError(stanza: Element, error: Element): Element {
  const body = stanza.getChild("body");
  return xml("message", { from: stanza.attrs.to, to: stanza.attrs.from, type: "error", id: stanza.attrs.id },
    body ? xml("body", {}, error.getChildText("text", NS.STANZAS) ?? "") : undefined, error);
}

export function presenceError(stanza: Element, error: Element): Element {
  return xml("presence", { from: stanza.attrs.to, to: stanza.attrs.from, type: "error", id: stanza.attrs.id }, error);
}

/**
 * Every outgoing error, as sent: only the <error/> and always a human text.
 * xmpp.js's iq callee copies the request's payload into an iq error (RFC 6120
 * allows it): whatever a client sent would come back, grown by escaping
 * (Prosody writes '>' as '&gt;') past what Prosody accepts from a component,
 * which then drops the component's stream. It also answers an iq with no or
 * several children with a bare bad-request, and an unhandled one with a bare
 * service-unavailable.
 */
export function asSent(stanza: Element): Element {
  const error = stanza.attrs.type === "error" ? stanza.getChild("error") : undefined;
  if (error && stanza.is("iq")) stanza.children = [error];
  if (error && !error.getChild("text", NS.STANZAS)) {
    const condition = error.getChildElements().find((c) => c.attrs.xmlns === NS.STANZAS)?.name;
    error.append(xml("text", { xmlns: NS.STANZAS, "xml:lang": "en" },
      condition === "bad-request" ? "The request is malformed: an iq must carry exactly one payload element." : "This request cannot be handled here."));
  }
  return stanza;
}
