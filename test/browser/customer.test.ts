/**
 * The customer page (/chat/) in Debian's Chromium against the real stack
 * (Prosody, Redis, component, web server), with an XMPP client as the seat.
 * Screenshots for the README go to docs/screenshots/.
 */
import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { NS } from "../../protocol/names.js";
import { launchBrowser } from "../helpers/browser.js";
import { recordedMessages } from "../helpers/history.js";
import { agentOnline, until, type Running } from "../helpers/stack.js";
import { waitFor, xmlFor } from "../helpers/xmpp.js";
import { api, CHATSTATES, cleanUp, endedMsg, openPage, RECEIPTS, screenshotPath, Seat, startCustomerStack, webUrl } from "./customer-helpers.js";

let r: Running;
let browser: Browser;
let agents: Client[] = [];
let contexts: BrowserContext[] = [];

beforeAll(async () => {
  [r, browser] = await Promise.all([startCustomerStack(), launchBrowser()]);
}, 60000);
afterAll(async () => {
  await browser?.close();
  await r?.stop();
});
afterEach(async () => {
  await cleanUp(r, agents, contexts);
  agents = [];
  contexts = [];
}, 30000);

async function seat(show?: string): Promise<Seat> {
  const c = await agentOnline(r, "alice@acme.test", show);
  agents.push(c);
  return new Seat(c);
}

async function customerPage(path = "/chat/?queue=billing") {
  const p = await openPage(browser);
  contexts.push(p.ctx);
  await p.page.goto(webUrl(r, path));
  return p;
}

/** Fills the pre-chat form (with the required extra field) and starts. */
async function startChat(page: Page, name = "Ann", subject = "Invoice 42", order: string | null = "A-1001") {
  const form = page.locator("#prechat");
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Subject").fill(subject);
  if (order !== null) await form.getByLabel("Order number").fill(order);
  await page.getByRole("button", { name: "Start chat" }).click();
}

const activeId = (page: Page) => page.evaluate("document.activeElement && document.activeElement.id") as Promise<string>;
const xssFlag = (page: Page) => page.evaluate("window.__xss") as Promise<unknown>;

describe("customer page", () => {
  it("goes through the whole flow: form, waiting, chat with typing and receipts, end, rating, transcript", async () => {
    const alice = await seat("away"); // logged in but not ready: the customer waits
    const { page, errors } = await customerPage();

    // Pre-chat form, with the keyboard alone: Tab order name, subject, the queue's extra fields, sign-in, Start chat.
    await page.getByRole("button", { name: "Start chat" }).waitFor();
    await page.keyboard.press("Tab");
    expect(await activeId(page)).toBe("f-name");
    await page.keyboard.type("Ann");
    await page.keyboard.press("Tab");
    expect(await activeId(page)).toBe("f-subject");
    await page.keyboard.type("Invoice 42");
    await page.keyboard.press("Tab");
    expect(await activeId(page)).toBe("x-order");
    // the required extra field is enforced: Enter does not submit while it is empty
    await page.keyboard.press("Enter");
    expect(await page.locator("#x-order").evaluate((e: any) => e.validity.valueMissing)).toBe(true);
    expect(await page.locator("#prechat").isVisible()).toBe(true);
    await page.keyboard.type("A-1001");
    await page.keyboard.press("Tab");
    expect(await activeId(page)).toBe("x-phone");
    await page.screenshot({ path: screenshotPath("customer-form.png") });
    await page.keyboard.press("Enter"); // submits the form from a text field

    // Waiting: position and estimate in role=status.
    const status = page.getByRole("status");
    await status.filter({ hasText: "You are next in line." }).waitFor();
    expect(await status.textContent()).toMatch(/Estimated wait: (less than a minute|about \d+ minutes?)/);
    expect(await page.getByRole("button", { name: "Leave queue" }).isVisible()).toBe(true);
    await page.screenshot({ path: screenshotPath("customer-waiting.png") });

    // The agent becomes ready: assigned, the page names the agent.
    await alice.c.send(xmlFor(alice.c)("presence"));
    const begin = await alice.begin();
    expect(begin.attrs.queue).toBe("billing");
    const session = begin.attrs.session!;
    await page.getByText("Alice will help you now.").waitFor();
    await until(() => activeId(page), (id) => id === "message", 5000, "focus on the message box");

    // Typing: composing reaches the seat; the message carries a receipt request and the session.
    const box = page.getByRole("textbox", { name: "Message", exact: true });
    await box.pressSequentially("Hello, I have a question about my invoice");
    await waitFor(alice.c, (s) => s.is("message") && s.attrs.from === alice.customer && !!s.getChild("composing", CHATSTATES), 5000, "composing");
    await box.press("Enter");
    const first = await alice.heard("Hello, I have a question about my invoice");
    expect(first.getChild("request", RECEIPTS)).toBeTruthy();
    expect(first.getChild("session", NS.SB)?.attrs.id).toBe(session);
    expect(await box.inputValue()).toBe("");
    // the seat's client answered the receipt (Seat does): the page shows it
    await page.locator(".msg.me .delivered").filter({ hasText: "Delivered" }).waitFor();

    // The agent types, then answers with a link.
    await alice.chatState("composing");
    await page.getByText("Alice is typing…").waitFor();
    await alice.say("Sure! Your invoice is at https://billing.example.com/invoices/42. Anything else?");
    await page.getByText("Anything else?").waitFor();
    await page.getByText("Alice is typing…").waitFor({ state: "hidden" });
    const link = page.getByRole("link", { name: "https://billing.example.com/invoices/42" });
    expect(await link.getAttribute("href")).toBe("https://billing.example.com/invoices/42");
    expect(await link.getAttribute("target")).toBe("_blank");
    expect(await link.getAttribute("rel")).toContain("noopener");

    // The customer also answers a receipt the seat asks for.
    const xml = xmlFor(alice.c);
    await alice.c.send(xml("message", { to: alice.customer, type: "chat", id: "ask-receipt-1" }, xml("body", {}, "Let me check one more thing."), xml("request", { xmlns: RECEIPTS })));
    const receipt = await waitFor(alice.c, (s) => s.is("message") && s.getChild("received", RECEIPTS)?.attrs.id === "ask-receipt-1", 5000, "receipt from the page");
    expect(receipt.attrs.from).toBe(alice.customer);
    await box.fill("No, that's all. Thanks!");
    await page.getByRole("button", { name: "Send" }).click();
    await alice.heard("No, that's all. Thanks!");
    await page.getByText("Let me check one more thing.").waitFor();
    await page.screenshot({ path: screenshotPath("customer-chatting.png") });
    await page.setViewportSize({ width: 390, height: 760 }); // a phone: the card fills the screen
    await page.screenshot({ path: screenshotPath("customer-mobile.png") });
    await page.setViewportSize({ width: 900, height: 820 });

    // End chat: both sides learn it; the rating form appears.
    await page.getByRole("button", { name: "End chat" }).click();
    const ended = await waitFor(alice.c, endedMsg, 5000, "ended at the seat");
    expect(ended.getChild("ended", NS.SB)!.attrs).toMatchObject({ session, reason: "customer" });
    await page.getByRole("button", { name: "Send rating" }).waitFor();
    expect(await page.getByRole("textbox", { name: "Message", exact: true }).count()).toBe(0); // the composer is gone
    for (const n of ["1", "2", "3", "4", "5"]) expect(await page.getByRole("radio", { name: n, exact: true }).count()).toBe(1);
    await page.getByRole("radio", { name: "4", exact: true }).check();
    await page.getByLabel("Comment").fill("Quick and friendly, thank you.");
    await page.screenshot({ path: screenshotPath("customer-rating.png") });

    // The transcript is a text file built in the page.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download transcript" }).click()]);
    const transcript = readFileSync((await download.path())!, "utf8");
    expect(transcript).toContain("You: Hello, I have a question about my invoice");
    expect(transcript).toContain("Alice: Sure! Your invoice is at https://billing.example.com/invoices/42. Anything else?");
    expect(transcript).toContain(`Session: ${session}`);

    await page.getByRole("button", { name: "Send rating" }).click();
    await page.getByText("Thank you for your feedback!").waitFor();
    const stored = await api(r, `/api/sessions/${session}`);
    expect(stored).toMatchObject({
      state: "ended", endReason: "customer", form: { name: "Ann", subject: "Invoice 42", order: "A-1001" },
      feedback: { score: 4, comment: "Quick and friendly, thank you." },
    });
    // Recorded server side as well (issue 12): the seat module copied both sides of the page's chat to the log.
    expect(await recordedMessages(r.app.redis, r.app.store.keys, session)).toEqual([
      ["in", "Hello, I have a question about my invoice"],
      ["out", "Sure! Your invoice is at https://billing.example.com/invoices/42. Anything else?"],
      ["out", "Let me check one more thing."],
      ["in", "No, that's all. Thanks!"],
    ]);
    expect(errors).toEqual([]);
  }, 90000);

  it("shows markup in messages as text and never runs it", async () => {
    const alice = await seat();
    const { page, errors } = await customerPage();
    await startChat(page, "<b>Eve</b>", "<script>window.__xss=3</script>");
    await alice.begin();
    await page.getByText("Alice will help you now.").waitFor();

    const attacks = [
      "<img src=x onerror=window.__xss=1>",
      "<script>window.__xss=1</script>",
      "<a href=\"javascript:window.__xss=1\">click</a> javascript:window.__xss=1 http://ok.example/?q=<svg/onload=window.__xss=1>",
    ];
    for (const a of attacks) await alice.say(a);
    const box = page.getByRole("textbox", { name: "Message", exact: true });
    await box.fill("<img src=y onerror=window.__xss=2><iframe src=javascript:window.__xss=2></iframe>");
    await box.press("Enter");
    await alice.heard("<img src=y onerror=window.__xss=2><iframe src=javascript:window.__xss=2></iframe>");

    for (const a of attacks) await page.locator(".msg.agent .bubble").filter({ hasText: a }).waitFor();
    await page.locator(".msg.me .bubble").filter({ hasText: "<img src=y onerror=window.__xss=2>" }).waitFor();
    const log = page.locator("#log");
    expect(await log.locator("img, script, iframe, svg, b").count()).toBe(0);
    // the only link is the http one, cut before the markup
    const links = log.locator("a");
    expect(await links.count()).toBe(1);
    expect(await links.first().getAttribute("href")).toBe("http://ok.example/?q=");
    expect(await xssFlag(page)).toBeUndefined();
    expect(errors).toEqual([]);
  }, 60000);

  it("keeps the conversation over a reload and the seat still receives the customer's messages", async () => {
    const alice = await seat();
    const { page, errors } = await customerPage();
    await startChat(page);
    const begin = await alice.begin();
    const session = begin.attrs.session!;
    const before = alice.customer;
    await page.getByText("Alice will help you now.").waitFor();
    await page.getByRole("textbox", { name: "Message", exact: true }).fill("Message before the reload");
    await page.getByRole("textbox", { name: "Message", exact: true }).press("Enter");
    await alice.heard("Message before the reload");
    await alice.say("Reply before the reload");
    await page.getByText("Reply before the reload").waitFor();

    await page.reload();
    // The transcript is back at once (sessionStorage); the page resumes the session under a new JID.
    await page.getByText("Message before the reload").waitFor();
    await page.getByText("Reply before the reload").waitFor();
    const again = await alice.begin(15000);
    expect(again.attrs.session).toBe(session);
    expect(alice.customer).not.toBe(before);
    await page.getByRole("textbox", { name: "Message", exact: true }).waitFor();
    await page.getByRole("button", { name: "End chat" }).waitFor();

    await page.getByRole("textbox", { name: "Message", exact: true }).fill("Message after the reload");
    await page.getByRole("textbox", { name: "Message", exact: true }).press("Enter");
    const after = await alice.heard("Message after the reload");
    expect(after.attrs.from).toBe(alice.customer);
    await alice.say("Reply after the reload");
    await page.getByText("Reply after the reload").waitFor();
    // nothing was duplicated by the replayed assignment
    expect(await page.getByText("Alice will help you now.").count()).toBe(1);
    expect((await api(r, `/api/sessions/${session}`)).state).toBe("in-service");

    // Ending still works from the resumed page, and the rating is accepted from the new JID.
    await page.getByRole("button", { name: "End chat" }).click();
    await page.getByRole("radio", { name: "5", exact: true }).check();
    await page.getByRole("button", { name: "Send rating" }).click();
    await page.getByText("Thank you for your feedback!").waitFor();
    expect((await api(r, `/api/sessions/${session}`)).feedback).toEqual({ score: 5, comment: "" });
    expect(errors).toEqual([]);
  }, 90000);

  it("recovers from a lost connection", async () => {
    const alice = await seat();
    const p = await openPage(browser);
    contexts.push(p.ctx);
    const { page, errors } = p;
    // Every WebSocket of the page goes through playwright, so the test can cut one.
    const sockets: Array<{ close(): Promise<void> }> = [];
    await page.routeWebSocket(/xmpp-websocket/, (ws) => {
      ws.connectToServer();
      sockets.push(ws);
    });
    await page.goto(webUrl(r, "/chat/?queue=billing"));
    await startChat(page);
    await alice.begin();
    const before = alice.customer;
    await page.getByText("Alice will help you now.").waitFor();
    expect(sockets.length).toBe(1);
    await sockets[0]!.close(); // as a network failure would
    await page.getByText(/Connection lost|Reconnecting/).waitFor();
    const again = await alice.begin(20000);
    expect(alice.customer).not.toBe(before);
    expect(again.attrs.session).toBe(alice.session);
    await page.getByRole("textbox", { name: "Message", exact: true }).fill("Still here");
    await page.getByRole("textbox", { name: "Message", exact: true }).press("Enter");
    await alice.heard("Still here");
    await page.getByText(/Connection lost|Reconnecting/).waitFor({ state: "hidden" });
    // Chromium may log the one socket the test cut as failed, in words that depend on which frame raced the
    // close ("Data frame received after close", ...); anything else is the page's fault.
    const cut = (e: string) => /^WebSocket connection to '[^']*\/xmpp-websocket' failed/.test(e);
    expect(errors.filter(cut).length).toBeLessThanOrEqual(1);
    expect(errors.filter((e) => !cut(e))).toEqual([]);
  }, 60000);

  it("keeps a waiting customer's place over a reload, and serves it when a seat got free while it was away", async () => {
    const alice = await seat("away");
    const { page, errors } = await customerPage();
    await startChat(page);
    await page.getByRole("status").filter({ hasText: "You are next in line." }).waitFor();
    const [queued] = await until(() => r.app.cti.sessions(0), (s) => s.length === 1, 5000, "queued");
    // A reload: the page is back in line, in the same session.
    await page.reload();
    await page.getByRole("status").filter({ hasText: "in line." }).waitFor();
    await page.getByRole("button", { name: "Leave queue" }).waitFor();
    await until(() => r.app.cti.sessions(0), (s) => s.length === 1 && s[0]!.id === queued!.id && s[0]!.customer !== queued!.customer && s[0]!.awaySince === null, 5000, "resumed");
    // Another, whose script waits until the test lets it run: the old page is gone (its connection closed),
    // the new one not yet back.
    let letIn!: () => void;
    const gate = new Promise<void>((resolve) => (letIn = resolve));
    await page.route(/\/app\.js/, async (route) => {
      await gate;
      await route.continue();
    });
    await page.reload({ waitUntil: "commit" });
    // The customer is away (out of the line, its place kept) when the agent gets ready: nobody to route.
    await until(() => r.app.cti.sessions(0), (s) => s.length === 1 && s[0]!.awaySince !== null, 5000, "away");
    await alice.c.send(xmlFor(alice.c)("presence"));
    await until(() => r.app.cti.agents(), (a) => a.some((x) => x.jid === "alice@acme.test" && x.state === "ready"), 5000, "alice ready");
    letIn();
    // The page resumes the same session under a new JID, and is served at once.
    const begin = await alice.begin();
    expect(begin.attrs.queue).toBe("billing");
    expect(begin.attrs.session).toBe(queued!.id);
    expect(alice.customer).not.toBe(queued!.customer);
    await page.getByText("Alice will help you now.").waitFor();
    expect(await page.getByText("Alice will help you now.").count()).toBe(1);
    expect(errors).toEqual([]);
  }, 60000);

  it("without any agent logged in, says so and takes a message instead", async () => {
    const { page, errors } = await customerPage();
    await startChat(page, "Dan", "Refund");
    await page.getByRole("heading", { name: "We can’t chat right now" }).waitFor();
    const text = await page.locator("#unavailable-text").textContent();
    expect(text!.length).toBeGreaterThan(10); // the server's own error text
    expect(text).not.toMatch(/service-unavailable/);

    const form = page.locator("#message-form");
    await form.getByLabel("Email").fill("dan@example.com");
    await form.getByLabel("Your message").fill("Please call me back about my refund.");
    expect(await form.getByLabel("Name").inputValue()).toBe("Dan"); // carried over from the pre-chat form
    await page.screenshot({ path: screenshotPath("customer-leave-message.png") });
    await page.getByRole("button", { name: "Send message" }).click();
    await page.getByRole("status").filter({ hasText: "Thank you, your message was sent." }).waitFor();
    const messages = await api(r, "/api/messages");
    expect(messages[0]).toMatchObject({ queue: "billing" });
    expect(JSON.stringify(messages[0])).toContain("Please call me back about my refund.");
    expect(JSON.stringify(messages[0])).toContain("dan@example.com");
    expect(errors).toEqual([]);
  }, 60000);

  it("shows a closed queue's text", async () => {
    await seat(); // an agent is ready, but the queue is closed
    const { page, errors } = await customerPage("/chat/?queue=closed");
    await page.getByText("After hours").waitFor();
    expect(await page.getByLabel("Order number").count()).toBe(0); // that queue has no extra fields
    await startChat(page, "Ann", "", null);
    await page.getByRole("heading", { name: "We can’t chat right now" }).waitFor();
    expect(await page.locator("#unavailable-text").textContent()).toMatch(/closed/i);
    expect(errors).toEqual([]);
  }, 60000);

  it("lets a customer leave the queue, and sign in with an account", async () => {
    const alice = await seat("away");
    const { page, errors } = await customerPage("/chat/?queue=vip");
    // as a guest: the queue's refusal, and the sign-in part opens
    await startChat(page, "Carol", "Card", null);
    await page.getByRole("alert").filter({ hasText: /regist|guest|account|sign/i }).waitFor();
    await page.getByLabel("Account (user@domain)").waitFor();
    // wrong password: a clear error, still on the form
    await page.getByLabel("Account (user@domain)").fill("carol@acme.test");
    await page.getByLabel("Password").fill("wrong");
    await page.getByRole("button", { name: "Start chat" }).click();
    await page.getByRole("alert").filter({ hasText: "Sign-in failed" }).waitFor();

    await page.getByLabel("Password").fill("carol-pw");
    await page.getByRole("button", { name: "Start chat" }).click();
    await page.getByRole("status").filter({ hasText: "You are next in line." }).waitFor();
    const queued = await until(() => r.app.cti.sessions(0), (s) => s.some((x) => x.state === "queued"), 5000, "queued");
    expect(queued.find((x) => x.state === "queued")!.customer).toMatch(/^carol@acme\.test\//);

    await page.getByRole("button", { name: "Leave queue" }).click();
    await page.getByText("You left the queue.").waitFor();
    await page.getByRole("button", { name: "Start chat" }).waitFor();
    await until(() => r.app.cti.sessions(0), (s) => s.every((x) => x.state === "ended"), 5000, "left");
    void alice;
    expect(errors).toEqual([]);
  }, 60000);
});
