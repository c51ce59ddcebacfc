/**
 * Shared by the customer page and widget browser tests: a stack with pre-chat
 * fields and a closed queue, an XMPP agent that answers like a seat, a page
 * that fails the test on script errors, and a server for another origin.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { NS } from "../../protocol/names.js";
import { startAll, until, type Running } from "../helpers/stack.js";
import { stopAll, waitFor, xmlFor } from "../helpers/xmpp.js";

export const CHATSTATES = "http://jabber.org/protocol/chatstates";
export const RECEIPTS = "urn:xmpp:receipts";

/** billing has a required extra pre-chat field; vip refuses guests; closed is closed. Short grace so ended-by-offline sessions clear quickly. */
export function startCustomerStack(): Promise<Running> {
  return startAll({
    customerGraceSeconds: 8,
    queues: [
      {
        name: "billing", title: "Billing", skills: ["billing"], allowGuests: true, deny: [], open: true,
        fields: [
          { var: "order", label: "Order number", required: true },
          { var: "phone", label: "Phone", required: false },
        ],
      },
      { name: "vip", title: "VIP desk", skills: ["billing"], allowGuests: false, deny: [], open: true, fields: [] },
      { name: "closed", title: "After hours", skills: ["billing"], allowGuests: true, deny: [], open: false, fields: [] },
    ],
  });
}

export const webUrl = (r: Running, path: string) => `http://127.0.0.1:${r.app.webPort}${path}`;

export async function api(r: Running, path: string): Promise<any> {
  const res = await fetch(webUrl(r, path), { headers: { authorization: `Bearer ${r.config.admin.token}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** A browser page whose uncaught errors are collected (check with expectNoErrors). */
export async function openPage(browser: Browser, viewport = { width: 900, height: 820 }): Promise<{ ctx: BrowserContext; page: Page; errors: string[] }> {
  const ctx = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error" && !/favicon|ERR_CONNECTION_CLOSED/i.test(m.text())) errors.push(m.text()); });
  return { ctx, page, errors };
}

export const isMsg = (name: string, ns: string) => (s: Element) => s.is("message") && !!s.getChild(name, ns);
export const beginMsg = isMsg("begin", NS.SB);
export const endedMsg = isMsg("ended", NS.SB);

/** The seat's side: receive the beginning message, answer receipt requests, write to the customer. */
export class Seat {
  /** Customer's full JID from the latest beginning message. */
  customer = "";
  session = "";
  answerReceipts = true;

  constructor(readonly c: Client) {
    c.on("stanza", (s: Element) => {
      if (this.answerReceipts && s.is("message") && s.attrs.type !== "error" && s.getChild("request", RECEIPTS) && s.attrs.id) {
        const xml = xmlFor(c);
        void c.send(xml("message", { to: s.attrs.from, type: "chat" }, xml("received", { xmlns: RECEIPTS, id: s.attrs.id })));
      }
    });
  }

  async begin(ms = 10000): Promise<Element> {
    const m = await waitFor(this.c, beginMsg, ms, "beginning message");
    const b = m.getChild("begin", NS.SB)!;
    this.customer = b.attrs.customer!;
    this.session = b.attrs.session!;
    return b;
  }

  /** The next chat message with a body from the customer. */
  async heard(text?: string, ms = 10000): Promise<Element> {
    return waitFor(this.c, (s) => s.is("message") && s.attrs.type !== "error" && s.attrs.from === this.customer && !!s.getChildText("body") && (text === undefined || s.getChildText("body") === text), ms, `customer's message ${text ?? ""}`);
  }

  chatState(state: string): Promise<void> {
    const xml = xmlFor(this.c);
    return this.c.send(xml("message", { to: this.customer, type: "chat" }, xml(state, { xmlns: CHATSTATES })));
  }

  say(body: string): Promise<void> {
    const xml = xmlFor(this.c);
    return this.c.send(xml("message", { to: this.customer, type: "chat", id: `a${Math.random().toString(36).slice(2)}` }, xml("body", {}, body), xml("active", { xmlns: CHATSTATES })));
  }
}

/** Between tests: agents off (ends their sessions), pages closed (queued customers leave), and the CTI idle again. */
export async function cleanUp(r: Running, agents: Client[], contexts: BrowserContext[]): Promise<void> {
  await Promise.all(contexts.map((c) => c.close().catch(() => {})));
  await stopAll(...agents);
  await until(() => r.app.cti.agents(), (a) => a.every((x) => x.state === "offline"), 10000, "agents offline");
  await until(() => r.app.cti.sessions(0), (s) => s.every((x) => x.state === "ended"), 15000, "no live session");
}

/** Serves `html` at / from http://localhost:PORT: another origin (and site) than the web server's 127.0.0.1. */
export async function serveOtherOrigin(html: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://localhost:${(server.address() as AddressInfo).port}/`, server };
}

export { screenshotPath } from "../helpers/browser.js";
