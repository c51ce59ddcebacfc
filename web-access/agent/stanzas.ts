/**
 * Switchboard's own stanzas as the desk reads and writes them (docs/protocol.md):
 * beginning and ended messages, the agent's presence, end and stats iqs, and
 * XEP-0142 offers. Chat states and receipts are in ../lib/xep.ts. Pure
 * functions over xmpp.js elements.
 */
import { xml } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { NS, SB, WG } from "../../protocol/names.js";

export interface Begin {
  session: string;
  /** The full JID the customer joined from: where the agent writes. */
  customer: string;
  queue: string;
  /** The message body: what plain clients show. */
  body: string;
  /** The customer's form: the data form in <begin/> (labels only if the server gives them), else parsed from the body. */
  fields: Array<{ var: string; value: string; label?: string }>;
  name?: string;
  /** When the customer joined the queue (ms, the server's clock), if the server says. */
  queuedAt?: number;
  /** Issue 15: "expert" when this desk is invited into `seat`'s conversation (by `by`), else absent. */
  role?: string;
  seat?: string;
  by?: string;
}

export interface Ended {
  session: string;
  reason: string;
  body: string;
}

export const bareOf = (jid: string) => jid.split("/")[0]!.toLowerCase();

/**
 * The body reads `New customer Ann (anon@guest/web) (billing, "Invoice 42"). ...`
 * (component/xmpp/stanzas.ts): recover the name and subject the customer typed.
 */
export function formFromBody(body: string, customer: string, queue: string): { name?: string; subject?: string } {
  const out: { name?: string; subject?: string } = {};
  const prefix = "New customer ";
  const whoEnd = body.indexOf(` (${customer})`);
  if (body.startsWith(prefix) && whoEnd > prefix.length) out.name = body.slice(prefix.length, whoEnd);
  const about = `(${queue}, "`;
  const s = body.indexOf(about, whoEnd >= 0 ? whoEnd : 0);
  if (s >= 0) {
    const e = body.lastIndexOf(`")`);
    if (e > s + about.length) out.subject = body.slice(s + about.length, e);
  }
  return out;
}

/** A beginning message from the component, or null. */
export function parseBegin(stanza: Element, componentDomain: string): Begin | null {
  if (!stanza.is("message") || stanza.attrs.type === "error" || stanza.attrs.from !== componentDomain) return null;
  const b = stanza.getChild(SB.begin, NS.SB);
  const { session, customer, queue } = b?.attrs ?? {};
  if (!b || !session || !customer || !queue) return null;
  const body = stanza.getChildText("body") ?? "";
  const form = b.getChild("x", NS.DATA);
  const fields = formFields(form);
  if (!form) { // an older server: only what the body tells
    const { name, subject } = formFromBody(body, customer, queue);
    if (name) fields.push({ var: "name", value: name });
    if (subject) fields.push({ var: "subject", value: subject });
  }
  const queuedAt = Date.parse(b.attrs["queued-at"] ?? "");
  return {
    session, customer, queue, body, fields,
    name: fields.find((f) => f.var === "name")?.value,
    queuedAt: Number.isFinite(queuedAt) ? queuedAt : undefined,
    ...(b.attrs.role && { role: b.attrs.role, seat: b.attrs.seat, by: b.attrs.by }),
  };
}

/** The filled fields of a data form (values joined), in order. */
function formFields(form: Element | undefined): Begin["fields"] {
  const fields: Begin["fields"] = [];
  for (const f of form?.getChildren("field") ?? []) {
    const value = f.getChildren("value").map((v) => v.getText()).join(", ");
    if (f.attrs.var && value) fields.push({ var: f.attrs.var, value, label: f.attrs.label });
  }
  return fields;
}

export function parseEnded(stanza: Element, componentDomain: string): Ended | null {
  if (!stanza.is("message") || stanza.attrs.type === "error" || stanza.attrs.from !== componentDomain) return null;
  const e = stanza.getChild(SB.ended, NS.SB);
  if (!e?.attrs.session) return null;
  return { session: e.attrs.session, reason: e.attrs.reason ?? "", body: stanza.getChildText("body") ?? "" };
}

/** Ready: available. Not ready: away with the reason as status. */
export function presence(ready: boolean, reason: string): Element {
  return ready ? xml("presence", {}) : xml("presence", {}, xml("show", {}, "away"), reason ? xml("status", {}, reason) : undefined);
}

export const unavailable = () => xml("presence", { type: "unavailable" });

export const endIq = (session: string) => xml(SB.end, { xmlns: NS.SB, session });
export const statsIq = () => xml(SB.stats, { xmlns: NS.SB });

export interface Stats {
  handled: number;
  averageHandleSeconds: number;
  /** The agent's live sessions and how many it may hold at once (absent from older servers). */
  capacity?: { active: number; maxChats: number };
}
export function parseStats(el: Element | undefined): Stats | null {
  if (!el?.is(SB.stats, NS.SB)) return null;
  const num = (attr: string) => Number(el.attrs[attr]); // absent: NaN
  const handled = num("handled"), averageHandleSeconds = num("averageHandleSeconds"), active = num("active"), maxChats = num("maxChats");
  if (!Number.isFinite(handled) || !Number.isFinite(averageHandleSeconds)) return null;
  return { handled, averageHandleSeconds, capacity: active >= 0 && maxChats > 0 ? { active, maxChats } : undefined };
}

// --- XEP-0142 offers (docs/protocol.md "XEP-0142 offers")

/** Tells a queue that this client takes offers. */
export const agentStatus = (queueJid: string) => xml("presence", { to: queueJid }, xml(WG.agentStatus, { xmlns: NS.WG }));

export interface Offer {
  /** The queue's JID, where the answer goes. */
  queue: string;
  customer: string;
  session: string;
  /** Seconds the offer stands. */
  timeout: number;
  fields: Begin["fields"];
}

/** An <offer/> (the iq's child) from `from`, or null. */
export function parseOffer(el: Element, from: string): Offer | null {
  const { jid: customer, id: session = "" } = el.attrs;
  if (!el.is(WG.offer, NS.WG) || !customer) return null;
  const timeout = Number(el.getChildText("timeout"));
  return { queue: bareOf(from), customer, session, timeout: timeout > 0 ? timeout : 20, fields: formFields(el.getChild("x", NS.DATA)) };
}

/** The error child of an iq reply (xmpp.js's iqCallee wraps it). */
export const iqError = (condition: string) => xml("error", { type: "cancel" }, xml(condition, { xmlns: NS.STANZAS }));

export const offerAnswer = (accept: boolean, customer: string) => xml(accept ? WG.offerAccept : WG.offerReject, { xmlns: NS.WG, jid: customer });

/** An <offer-revoke/>: whose offer (customer JID and/or session), and why. */
export function parseRevoke(el: Element): { customer: string; session: string; reason: string } | null {
  if (!el.is(WG.offerRevoke, NS.WG)) return null;
  return { customer: el.attrs.jid ?? "", session: el.attrs.id ?? "", reason: el.getChildText("reason") ?? "" };
}

// --- calls (docs/voice.md): the component tells the seat's XMPP client about its calls in plain text

export interface CallNotice {
  /** The name the customer gave, if any. */
  name?: string;
  /** The customer: a JID (a page's call) or a SIP URI (a phone's). */
  customer: string;
  queueTitle: string;
  session: string;
}

/**
 * "Call from Ann <ann@guest/web> for Billing: your phone is ringing. (session S1)"
 * (component/sip/calls.ts). `titles`: the configured queue titles, to split
 * "caller for title" where either holds " for ".
 */
export function parseCallNotice(body: string, titles: string[]): CallNotice | null {
  const m = /^Call from (.+): your phone is ringing\. \(session ([^\s()]+)\)$/.exec(body.trim());
  if (!m) return null;
  const middle = m[1]!;
  const title = titles.filter((t) => middle.endsWith(` for ${t}`)).sort((a, b) => b.length - a.length)[0];
  const cut = title !== undefined ? middle.length - title.length - 5 : middle.lastIndexOf(" for ");
  if (cut <= 0) return null;
  const caller = middle.slice(0, cut);
  const named = /^(.+) <([^<>]+)>$/.exec(caller);
  return { name: named?.[1], customer: named?.[2] ?? caller, queueTitle: title ?? middle.slice(cut + 5), session: m[2]! };
}

/** The session a component text is about ("... (session S1)" at its end), if any. */
export function sessionMentioned(body: string): string | undefined {
  return /\(session ([^\s()]+)\)\s*$/.exec(body)?.[1];
}

/** "<customer> is calling you from your chat: your phone is ringing. (session S1)" (component/sip/calls.ts). */
export function parseChatCallNotice(body: string): { customer: string; session: string } | null {
  const m = /^(.+) is calling you from your chat: your phone is ringing\. \(session ([^\s()]+)\)$/.exec(body.trim());
  return m ? { customer: m[1]!, session: m[2]! } : null;
}

/** Turns the session's chat into a call (docs/protocol.md "From chat to call"). */
export const chatCallIq = (session: string) => xml(SB.call, { xmlns: NS.SB, session });

// --- an expert in the conversation (docs/protocol.md "Invite an expert", issue 15)

export const inviteExpertIq = (session: string, jid: string, note: string) => xml(SB.inviteExpert, { xmlns: NS.SB, session, jid }, note || undefined);
export const leaveSessionIq = (session: string) => xml(SB.leaveSession, { xmlns: NS.SB, session });
export const expertsIq = (session: string) => xml(SB.experts, { xmlns: NS.SB, session });
/** The marks messages of an expert's desk carry to the seat: the session they are meant for. */
export const sessionMark = (session: string) => xml(SB.session, { xmlns: NS.SB, id: session });

export interface ExpertChoice { jid: string; name: string; role: string; online: boolean }
/** The agents and supervisors who may be invited (the <experts/> result), or [] when it is not one. */
export function parseExperts(el: Element | undefined): ExpertChoice[] {
  if (!el?.is(SB.experts, NS.SB)) return [];
  return el.getChildren(SB.expert).filter((e) => e.attrs.jid)
    .map((e) => ({ jid: e.attrs.jid!, name: e.attrs.name || e.attrs.jid!, role: e.attrs.role ?? "agent", online: e.attrs.online === "true" }));
}
