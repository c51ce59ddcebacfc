/**
 * The agent desk (/agent/) in Debian's Chromium against the real stack:
 * Prosody with the seat module, Redis, the component serving the bundled page.
 * Customers are plain XMPP clients (test/helpers/xmpp.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { NS, SB } from "../../protocol/names.js";
import { launchBrowser, screenshotPath } from "../helpers/browser.js";
import { recordedMessages } from "../helpers/history.js";
import { iq, startAll, until, type Running } from "../helpers/stack.js";
import { connectAccount, connectGuest, nextId, stopAll, waitFor, xmlFor } from "../helpers/xmpp.js";

const CC = "cc.acme.test";
const BILLING = `billing@${CC}`;
const RETURNS = `returns@${CC}`;
const CHATSTATES = "http://jabber.org/protocol/chatstates";
const RECEIPTS = "urn:xmpp:receipts";
const CANNED = [
  "Thanks for waiting! Let me look into that for you.",
  "Is there anything else I can help you with today?",
];
/**
 * billing asks one extra pre-chat field; the desk shows it with the configured label.
 * The desk takes XEP-0142 offers: on returns they stand 2 s instead of 20.
 */
const QUEUES = [{
  name: "billing", title: "Billing", skills: ["billing"], allowGuests: true, deny: [], open: true,
  fields: [{ var: "account", label: "Account number", required: false }],
}, { name: "returns", title: "Returns", skills: ["billing"], allowGuests: true, offerTimeout: 2 }];
const SCREENSHOT = screenshotPath("agent-desk.png");

let r: Running;
let browser: Browser;
const contexts: BrowserContext[] = [];
/** Uncaught errors in any page: none expected. */
const pageErrors: Error[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  r = await startAll({ cannedResponses: CANNED, queues: QUEUES });
  browser = await launchBrowser();
}, 60000);

afterAll(async () => {
  expect(pageErrors).toEqual([]);
  await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
  await browser?.close();
  await stopAll(...clients);
  await r?.stop();
});

async function newPage(viewport = { width: 1280, height: 800 }): Promise<Page> {
  const context = await browser.newContext({ viewport, reducedMotion: "reduce" });
  contexts.push(context);
  const page = await context.newPage();
  page.on("pageerror", (err) => pageErrors.push(err));
  return page;
}

const deskUrl = () => `http://127.0.0.1:${r.app.webPort}/agent/`;
const agentState = (jid: string) => () => r.app.cti.agent(jid);

/** Signs in, and waits until the CTI knows the desk takes offers (it announces itself to the queues). */
async function signIn(page: Page, jid: string, password: string): Promise<void> {
  const before = (await r.app.cti.agent(jid))?.offerJid;
  await page.goto(deskUrl());
  await page.getByLabel("JID").fill(jid);
  await page.getByLabel("Password").fill(password);
  await page.getByLabel("Password").press("Enter"); // the keyboard way; the button is clicked in the first test
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  await until(agentState(jid), (a) => !!a?.offerJid && a.offerJid !== before, 5000, `${jid} takes offers`);
}

async function clickReady(page: Page, jid: string): Promise<void> {
  await page.getByRole("button", { name: "Ready", exact: true }).click();
  await until(agentState(jid), (a) => a?.state === "ready", 5000, `${jid} ready`);
  await page.getByRole("status").filter({ hasText: /^Ready$/ }).waitFor();
}

const is = (name: string, ns: string) => (s: Element) => s.is("message") && !!s.getChild(name, ns);

/** A web visitor joins billing (or another queue) with a form (name, subject and extra fields). */
async function guestQueues(form: Record<string, string>, queue = BILLING) {
  const c = await connectGuest(r.config);
  clients.push(c);
  const xml = xmlFor(c);
  const res = await iq(c, queue, "set", xml("join-queue", { xmlns: NS.WG }, xml("queue-notifications"),
    xml("x", { xmlns: NS.DATA, type: "submit" }, ...Object.entries(form).map(([v, value]) => xml("field", { var: v }, xml("value", {}, value))))));
  expect(res.attrs.type).toBe("result");
  return { c, jid: c.jid!.toString(), session: res.getChild(SB.session, NS.SB)!.attrs.id! };
}

/** The seat the CTI assigned the customer to. */
async function assignedSeat(c: Client): Promise<string> {
  return (await waitFor(c, is(SB.assigned, NS.SB), 10000, "assigned")).getChild(SB.assigned, NS.SB)!.attrs.seat!;
}

/** A customer's offer on the desk (one card per customer offered). */
const offerOf = (page: Page, name: string | RegExp) => page.getByRole("article", { name });

/** ...whose offer the agent accepts on the desk; resolves once the CTI assigned it a seat. */
async function guestJoins(page: Page, form: Record<string, string>) {
  const g = await guestQueues(form);
  await offerOf(page, form.name!).getByRole("button", { name: "Accept" }).click();
  return { ...g, seat: await assignedSeat(g.c) };
}

/** "1:02" -> 62. */
const secondsOf = (text: string | null) => (text ?? "").split(":").reduce((n, part) => n * 60 + Number(part), 0);

function say(c: Client, to: string, body: string, receipt = false): string {
  const xml = xmlFor(c);
  const id = nextId("cust");
  void c.send(xml("message", { to, type: "chat", id }, xml("body", {}, body), xml("active", { xmlns: CHATSTATES }), receipt ? xml("request", { xmlns: RECEIPTS }) : undefined));
  return id;
}

const panelOf = (page: Page) => page.getByRole("tabpanel");
/** A fact in the chat header: the <dd> after the <dt> labelled `label`. */
const fact = (page: Page, label: string) => panelOf(page).locator(`dt:text-is("${label}") + dd`);
/** "N of M" chats beside the list's heading. */
const chatCount = (page: Page, text: string) => page.getByRole("navigation", { name: "Conversations" }).getByText(text, { exact: true });
const bodyIs = (text: string) => (s: Element) => s.is("message") && s.getChildText("body") === text;

describe("agent desk", () => {
  it("refuses a wrong password with a clear message", async () => {
    const page = await newPage();
    await page.goto(deskUrl());
    await page.getByLabel("JID").fill("alice@acme.test");
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "Wrong address or password." }).waitFor();
    expect(await page.getByRole("button", { name: "Sign in" }).isEnabled()).toBe(true);
    expect((await r.app.cti.agent("alice@acme.test"))?.state).toBe("offline");
    await page.context().close();
  });

  it("serves a customer end to end: ready, chat both ways, typing, receipts, canned response, end, not ready", async () => {
    const page = await newPage();
    await signIn(page, "alice@acme.test", "alice-pw");
    // Signed in means present but not ready, until the agent says so.
    await until(agentState("alice@acme.test"), (a) => a?.state === "not-ready", 5000, "alice not ready after sign-in");
    await chatCount(page, "0 of 1").waitFor(); // Alice's capacity (maxChats 1), from <stats/>

    // Ann queues while Alice is not ready: her wait starts at queued-at, not when the chat reaches the desk.
    const queued = await guestQueues({ name: "Ann Example", subject: "Invoice 42", account: "ACC-1009" });
    await until(() => r.app.cti.session(queued.session), (x) => x?.state === "queued" && Date.now() - x.queuedAt >= 2000, 5000, "Ann queued for 2 s");
    await clickReady(page, "alice@acme.test");
    await offerOf(page, "Ann Example").getByRole("button", { name: "Accept" }).click(); // the desk takes offers
    const ann = { ...queued, seat: await assignedSeat(queued.c) };
    expect(ann.seat).toBe("alice@acme.test");
    const tab = page.getByRole("tab", { name: /Ann Example/ });
    await tab.waitFor();
    expect(await tab.getAttribute("aria-selected")).toBe("true"); // the first chat opens by itself
    const panel = page.getByRole("tabpanel");
    await panel.getByText("Invoice 42", { exact: true }).waitFor();
    await panel.getByText("Billing", { exact: true }).waitFor();
    await panel.getByText(ann.jid, { exact: true }).waitFor();
    await panel.getByText("Waiting", { exact: true }).waitFor();
    expect(await fact(page, "Account number").textContent()).toBe("ACC-1009"); // the queue's extra field, with its label
    const times = (await r.app.cti.session(ann.session))!;
    const inQueue = secondsOf(await fact(page, "In queue").textContent());
    expect(inQueue).toBeGreaterThanOrEqual(Math.floor((times.assignedAt! - times.queuedAt) / 1000)); // >= 2
    expect(inQueue).toBeLessThanOrEqual(Math.ceil((times.assignedAt! - times.queuedAt) / 1000) + 1);
    expect(secondsOf(await fact(page, "Waiting").textContent())).toBeGreaterThanOrEqual(inQueue); // until Alice replies
    await chatCount(page, "1 of 1").waitFor(); // refreshed when the chat began

    // Customer -> agent: typing, then a message asking for a receipt.
    await ann.c.send(xmlFor(ann.c)("message", { to: ann.seat, type: "chat" }, xmlFor(ann.c)("composing", { xmlns: CHATSTATES })));
    await panel.getByText("Ann Example is typing…").waitFor();
    const askId = say(ann.c, ann.seat, "Hello, invoice 42 charges me twice.", true);
    await panel.getByText("Hello, invoice 42 charges me twice.").waitFor();
    await panel.getByText("Ann Example is typing…").waitFor({ state: "hidden" });
    await waitFor(ann.c, (s) => s.getChild("received", RECEIPTS)?.attrs.id === askId, 5000, "receipt from the desk");

    // Agent -> customer: typing shows on the customer's side, Enter sends, a receipt shows as delivered.
    const message = panel.getByRole("textbox", { name: "Message" });
    await message.pressSequentially("Sorry about that");
    await waitFor(ann.c, (s) => s.is("message") && !!s.getChild("composing", CHATSTATES), 5000, "composing from the desk");
    await message.press("Enter");
    const reply = await waitFor(ann.c, bodyIs("Sorry about that"), 5000, "the agent's reply");
    expect(reply.attrs.from).toMatch(/^alice@acme\.test\//);
    expect(reply.getChild("active", CHATSTATES)).toBeDefined();
    expect(await message.inputValue()).toBe("");
    const x = xmlFor(ann.c);
    await ann.c.send(x("message", { to: reply.attrs.from }, x("received", { xmlns: RECEIPTS, id: reply.attrs.id })));
    await panel.getByText("Delivered ✓").waitFor();

    // A canned response from /web-config.json, inserted then sent with the button.
    await panel.getByLabel("Canned response").selectOption({ label: CANNED[0]! });
    expect(await message.inputValue()).toBe(CANNED[0]);
    await panel.getByRole("button", { name: "Send" }).click();
    await waitFor(ann.c, bodyIs(CANNED[0]!), 5000, "the canned response");

    // Markup from a customer is text; links are links (http/https only).
    const nasty = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b> see https://example.com/help?q=1. or javascript:alert(1)`;
    say(ann.c, ann.seat, nasty);
    await panel.getByText(nasty.slice(0, 40)).waitFor();
    expect(await panel.locator(".log img, .log script, .log b").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    const links = panel.locator(".log a");
    expect(await links.count()).toBe(1);
    expect(await links.getAttribute("href")).toBe("https://example.com/help?q=1");
    expect(await links.textContent()).toBe("https://example.com/help?q=1");

    // A staff member's message shows in a tab of its own; the customer's chat stays selected.
    const bob = await connectAccount(r.config, "bob@acme.test", "bob-pw");
    clients.push(bob);
    await bob.send(xmlFor(bob)("message", { to: "alice@acme.test", type: "chat" }, xmlFor(bob)("body", {}, "Alice, can you take the 3 pm call?")));
    const staffTab = page.getByRole("tab", { name: /bob@acme\.test/ });
    await staffTab.waitFor();
    await staffTab.getByText("Staff").waitFor();
    expect(await tab.getAttribute("aria-selected")).toBe("true");
    await staffTab.click();
    await page.getByRole("tabpanel").getByText("Alice, can you take the 3 pm call?").waitFor();
    await tab.click();

    // End chat: the customer gets <ended/>, the tab says so and can be closed; figures refresh.
    await panel.getByRole("button", { name: "End chat" }).click();
    const ended = await waitFor(ann.c, is(SB.ended, NS.SB), 5000, "ended at the customer");
    expect(ended.getChild(SB.ended, NS.SB)!.attrs).toMatchObject({ session: ann.session, reason: "seat" });
    await panel.getByText("Chat ended.").waitFor();
    await panel.getByText(/You ended the chat with/).first().waitFor();
    await until(() => r.app.cti.session(ann.session), (s) => s?.state === "ended", 5000, "session ended");
    await chatCount(page, "0 of 1").waitFor(); // refreshed when it ended

    // Today's figures as the component reports them (or "—" while it cannot).
    const probe = await connectAccount(r.config, "alice@acme.test", "alice-pw", "probe"); // no presence: not a seat resource
    clients.push(probe);
    const stats = (await iq(probe, CC, "get", xmlFor(probe)(SB.stats, { xmlns: NS.SB }))).getChild("stats", NS.SB);
    const handled = page.getByRole("group", { name: "Your figures today" });
    if (stats) {
      expect(stats.attrs.handled).toBe("1");
      await handled.getByText("1", { exact: true }).waitFor();
    } else {
      await handled.getByText("—", { exact: true }).first().waitFor();
    }
    await stopAll(probe);

    await panel.getByRole("button", { name: "Close chat" }).click();
    await tab.waitFor({ state: "detached" });

    // Not ready with a reason.
    await page.getByLabel("Reason", { exact: true }).selectOption("Lunch");
    await page.getByRole("button", { name: "Not ready", exact: true }).click();
    const a = await until(agentState("alice@acme.test"), (x) => x?.state === "not-ready", 5000, "alice not ready");
    expect(a?.reason).toBe("Lunch"); // the seat module forwards the status text
    await page.getByRole("status").filter({ hasText: "Not ready · Lunch" }).waitFor();

    await page.context().close();
    await until(agentState("alice@acme.test"), (x) => x?.state === "offline", 5000, "alice offline once the page is gone");
  }, 60000);

  it("holds two chats, switches between them by keyboard, and signing out ends them", async () => {
    const page = await newPage({ width: 1440, height: 860 }); // the screenshot's size
    await signIn(page, "bob@acme.test", "bob-pw"); // maxChats 2
    // A free-text reason first, then ready.
    await page.getByLabel("Reason", { exact: true }).selectOption({ label: "Other…" });
    await page.getByLabel("Other reason").fill("Coaching session");
    await page.getByLabel("Other reason").press("Enter");
    await page.getByRole("status").filter({ hasText: "Not ready · Coaching session" }).waitFor();
    await until(agentState("bob@acme.test"), (a) => a?.state === "not-ready" && a.reason === "Coaching session", 5000, "bob not ready, coaching");
    await clickReady(page, "bob@acme.test");

    const ann = await guestJoins(page, { name: "Ann Example", subject: "Invoice 42 charged twice", account: "ACC-2231" });
    await page.getByRole("tab", { name: /Ann Example/ }).waitFor();
    // A registered customer on a plain client: its first message becomes the subject.
    const carol = await connectAccount(r.config, "carol@acme.test", "carol-pw", "phone");
    clients.push(carol);
    await carol.send(xmlFor(carol)("message", { to: BILLING, type: "chat" }, xmlFor(carol)("body", {}, "Can I change my delivery address?")));
    await offerOf(page, "carol@acme.test").getByRole("button", { name: "Accept" }).press("Enter"); // by keyboard
    const carolBegin = await waitFor(carol, is(SB.assigned, NS.SB), 10000, "carol assigned");
    const carolSession = carolBegin.getChild(SB.assigned, NS.SB)!.attrs.session!;
    const carolTab = page.getByRole("tab", { name: /carol@acme\.test/ });
    await carolTab.waitFor();
    await chatCount(page, "2 of 2").waitFor();
    // A new chat does not take over the one the agent is in.
    const annTab = page.getByRole("tab", { name: /Ann Example/ });
    expect(await annTab.getAttribute("aria-selected")).toBe("true");
    await carolTab.getByText("waiting").waitFor();
    await carolTab.getByLabel("1 unread").waitFor(); // a new customer not yet looked at
    await carolTab.click();
    await carolTab.getByLabel("1 unread").waitFor({ state: "hidden" });
    await panelOf(page).getByText("Can I change my delivery address?", { exact: true }).waitFor(); // the subject, from the beginning message
    await annTab.click();

    say(ann.c, "bob@acme.test", "Hi! I was charged twice for invoice 42, see https://acme.test/invoices/42");
    const panel = page.getByRole("tabpanel");
    await panel.getByText("Hi! I was charged twice for invoice 42", { exact: false }).waitFor();
    await panel.getByRole("textbox", { name: "Message" }).fill("Hello Ann, I'm Bob. Let me check invoice 42.");
    await panel.getByRole("textbox", { name: "Message" }).press("Enter");
    const hello = await waitFor(ann.c, bodyIs("Hello Ann, I'm Bob. Let me check invoice 42."));
    await ann.c.send(xmlFor(ann.c)("message", { to: hello.attrs.from }, xmlFor(ann.c)("received", { xmlns: RECEIPTS, id: hello.attrs.id })));
    await panel.getByText("Delivered ✓").waitFor();
    say(ann.c, "bob@acme.test", "Thank you!");
    await panel.getByText("Thank you!").waitFor();
    // What the desk sent and received is recorded server side (issue 12: the seat module's tap), in order.
    await until(() => recordedMessages(r.app.redis, r.app.store.keys, ann.session), (m) => m.length >= 3, 5000, "the desk's chat recorded");
    expect(await recordedMessages(r.app.redis, r.app.store.keys, ann.session)).toEqual([
      ["in", "Hi! I was charged twice for invoice 42, see https://acme.test/invoices/42"],
      ["out", "Hello Ann, I'm Bob. Let me check invoice 42."],
      ["in", "Thank you!"],
    ]);
    await ann.c.send(xmlFor(ann.c)("message", { to: "bob@acme.test", type: "chat" }, xmlFor(ann.c)("composing", { xmlns: CHATSTATES })));
    await panel.getByText("Ann Example is typing…").waitFor();

    // Carol writes while Bob is in Ann's chat: an unread badge on her tab.
    say(carol, "bob@acme.test", "My order number is 1009.");
    await carolTab.getByLabel("1 unread").waitFor();

    // Keyboard: arrows in the list, Alt+arrows anywhere.
    await annTab.focus();
    await page.keyboard.press("ArrowDown");
    expect(await carolTab.getAttribute("aria-selected")).toBe("true");
    await carolTab.getByLabel("1 unread").waitFor({ state: "hidden" });
    await page.getByRole("tabpanel").getByText("My order number is 1009.").waitFor();
    await page.keyboard.press("Tab"); // into Carol's panel: End chat
    await page.keyboard.press("Alt+ArrowUp");
    expect(await annTab.getAttribute("aria-selected")).toBe("true");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.tagName)).toBe("TEXTAREA");
    await page.keyboard.type("One moment please");

    await page.screenshot({ path: SCREENSHOT, animations: "disabled" });

    // Signing out takes the seat offline: the contact center ends both chats.
    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    for (const c of [ann.c, carol]) {
      const e = await waitFor(c, is(SB.ended, NS.SB), 5000, "ended after sign-out");
      expect(e.getChild(SB.ended, NS.SB)!.attrs.reason).toBe("seat-offline");
    }
    await until(() => r.app.cti.session(carolSession), (s) => s?.state === "ended", 5000, "carol's session ended");
    await until(agentState("bob@acme.test"), (x) => x?.state === "offline", 5000, "bob offline");
  }, 60000);

  it("takes offers: Accept opens the chat, Reject has the customer offered again, an unanswered offer is revoked", async () => {
    const page = await newPage();
    await signIn(page, "bob@acme.test", "bob-pw"); // maxChats 2; the only agent online
    await clickReady(page, "bob@acme.test");

    // Ann joins billing: the desk shows her offer (queue, form, countdown from 20 s) until Bob answers.
    const ann = await guestQueues({ name: "Ann Example", subject: "Invoice 42", account: "ACC-3310" });
    const annOffer = offerOf(page, "Ann Example");
    await annOffer.getByText("Billing", { exact: true }).waitFor();
    await annOffer.getByText("Invoice 42", { exact: true }).waitFor();
    expect(await annOffer.locator('dt:text-is("Account number") + dd').textContent()).toBe("ACC-3310");
    const left = (await annOffer.getByRole("timer").textContent())!;
    expect(left).toMatch(/^0:\d\d left$/);
    expect(secondsOf(left.replace(" left", ""))).toBeGreaterThan(10);
    expect((await r.app.cti.session(ann.session))?.state).toBe("queued"); // offered, not assigned
    await annOffer.getByRole("button", { name: "Accept" }).click();
    expect(await assignedSeat(ann.c)).toBe("bob@acme.test");
    await page.getByRole("tab", { name: /Ann Example/ }).waitFor();
    await panelOf(page).getByText("Invoice 42", { exact: true }).waitFor();
    expect(await annOffer.count()).toBe(0);

    // Ben joins returns (offers stand 2 s): Bob rejects; being the only seat, he is offered Ben again.
    const ben = await guestQueues({ name: "Ben Example", subject: "Return a parcel" }, RETURNS);
    const benOffer = offerOf(page, "Ben Example");
    await benOffer.getByText("Returns", { exact: true }).waitFor();
    const firstRing = (await r.app.cti.session(ben.session))!.ringUntil;
    await benOffer.getByRole("button", { name: "Reject" }).click();
    await until(() => r.app.cti.session(ben.session), (s) => s?.state === "queued" && s.ringUntil !== null && s.ringUntil !== firstRing, 5000, "Ben offered again");
    await benOffer.getByRole("timer").waitFor();
    expect(await benOffer.count()).toBe(1);
    expect(await page.getByText(/^Offer of Ben Example withdrawn/).count()).toBe(0); // rejected in time, not revoked

    // Bob steps away and leaves the offer unanswered: revoked after 2 s, the desk removes it and says why.
    await page.getByRole("button", { name: "Not ready", exact: true }).click();
    await until(agentState("bob@acme.test"), (a) => a?.state === "not-ready", 5000, "bob not ready");
    await page.getByText("Offer of Ben Example withdrawn: Nobody accepted the offer in time.").waitFor();
    expect(await benOffer.count()).toBe(0);
    expect((await r.app.cti.session(ben.session))?.state).toBe("queued"); // waiting for another seat
    expect(await page.getByRole("tab").count()).toBe(1); // Ann's chat only
  }, 30000);
});
