/**
 * Standard XMPP extensions the chat UIs use, as small helpers over xmpp.js
 * elements:
 *  - XEP-0085 chat states (composing / paused / active / inactive / gone), and
 *    TypingNotifier, which sends them from keystrokes;
 *  - XEP-0184 message delivery receipts (request on send, answer requests,
 *    read acknowledgements);
 *  - XEP-0004 data forms (type submit), as join-queue and leave-message take.
 */
import { xml } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { NS } from "../../protocol/names.js";

export const CHATSTATES = "http://jabber.org/protocol/chatstates";
export const RECEIPTS = "urn:xmpp:receipts";

export type ChatState = "active" | "composing" | "paused" | "inactive" | "gone";
const STATES: readonly ChatState[] = ["active", "composing", "paused", "inactive", "gone"];

/** The chat state a message carries, if any. */
export function chatStateOf(msg: Element): ChatState | null {
  for (const s of STATES) if (msg.getChild(s, CHATSTATES)) return s;
  return null;
}

/** A standalone chat-state notification (no body). */
export function chatStateMessage(to: string, state: ChatState): Element {
  return xml("message", { to, type: "chat" }, xml(state, { xmlns: CHATSTATES }), xml("no-store", { xmlns: "urn:xmpp:hints" }));
}

/** A chat message with a body, the "active" state, and (by default) a receipt request. `id` is what the receipt will name. */
export function chatMessage(to: string, body: string, id: string, { receipt = true, extra = [] as Element[] } = {}): Element {
  return xml("message", { to, type: "chat", id },
    xml("body", {}, body),
    xml("active", { xmlns: CHATSTATES }),
    receipt ? xml("request", { xmlns: RECEIPTS }) : undefined,
    ...extra);
}

/** The receipt answering `msg` if it asked for one (and has an id), else null. */
export function receiptFor(msg: Element): Element | null {
  if (!msg.getChild("request", RECEIPTS) || !msg.attrs.id || !msg.attrs.from || msg.attrs.type === "error") return null;
  return xml("message", { to: msg.attrs.from, type: msg.attrs.type === "chat" ? "chat" : undefined, id: `r-${msg.attrs.id}` },
    xml("received", { xmlns: RECEIPTS, id: msg.attrs.id }));
}

/** The id of the message a receipt acknowledges, or null. */
export function receivedId(msg: Element): string | null {
  return msg.getChild("received", RECEIPTS)?.attrs.id ?? null;
}

/**
 * Sends chat states as the user types: composing on the first keystroke,
 * paused after `pauseMs` without one (or when the box is emptied), and
 * nothing again until the state changes. Call sent() after sending a message
 * (the message itself carries "active").
 */
export class TypingNotifier {
  private state: ChatState = "active";
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly send: (state: ChatState) => void, private readonly pauseMs = 5000) {}

  /** On every input event; `hasText`: the box is not empty. */
  input(hasText: boolean): void {
    clearTimeout(this.timer);
    if (!hasText) {
      if (this.state === "composing") this.set("paused");
      return;
    }
    this.set("composing");
    this.timer = setTimeout(() => this.set("paused"), this.pauseMs);
  }

  sent(): void {
    clearTimeout(this.timer);
    this.state = "active";
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private set(state: ChatState): void {
    if (state === this.state) return;
    this.state = state;
    this.send(state);
  }
}

/** A jabber:x:data form of type submit; empty values are left out, arrays give several <value/>s. */
export function submitForm(fields: Record<string, string | string[] | undefined>): Element {
  const form = xml("x", { xmlns: NS.DATA, type: "submit" });
  for (const [name, value] of Object.entries(fields)) {
    const values = (Array.isArray(value) ? value : [value ?? ""]).map((v) => v.trim()).filter(Boolean);
    if (values.length) form.append(xml("field", { var: name }, ...values.map((v) => xml("value", {}, v))));
  }
  return form;
}

/** The human text of an error stanza's <error/> (message or iq), or its condition. */
export function stanzaErrorText(stanza: Element): string {
  const error = stanza.getChild("error");
  if (!error) return "";
  const text = error.getChildText("text", NS.STANZAS);
  if (text) return text;
  const condition = error.getChildElements().find((c) => c.attrs.xmlns === NS.STANZAS)?.name;
  return condition ? `Error: ${condition}` : "Error";
}
