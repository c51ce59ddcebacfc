/**
 * The supervisor console (/admin/) in Debian's Chromium against the real stack (Prosody with the seat module,
 * Redis, the component serving the bundled page). The supervisor signs in on the page; the customers
 * (anonymous XMPP visitors) and the agents (bob and alice, plain XMPP clients) are the test's own
 * connections, so what each side receives is asserted on the wire and what the supervisor sees on the page.
 * Then the console signed in with an admin API token alone (no XMPP account), a read-only token, and a token
 * the server stops knowing.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createHash } from "node:crypto";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { Redis } from "ioredis";
import { pino } from "pino";
import type { Browser, Locator, Page } from "playwright-core";
import { NS, SB } from "../../protocol/names.js";
import { openHistory, sqliteFile, type History } from "../../records/db.js";
import { startRecorder, type Recorder } from "../../records/recorder.js";
import { launchBrowser, screenshotPath } from "../helpers/browser.js";
import { agentOnline, iq, startAll, until, type Running } from "../helpers/stack.js";
import { connectGuest, nextId, received, stopAll, waitFor, xmlFor } from "../helpers/xmpp.js";

const CC = "cc.acme.test";
const BOB = "bob@acme.test";
const ALICE = "alice@acme.test";
/** A token with the read scope only (the stack's admin.tokens hold its sha256). */
const READER = "reader-secret-token";
const SCREENSHOT = screenshotPath("supervisor-console.png");

let r: Running;
let browser: Browser;
/** The recorder (a process of its own in production) fills the history the console's token parts read. */
let recorder: Recorder;
let history: History;
let page: Page;
const clients: Client[] = [];
/** Uncaught errors in the page: none expected. */
const pageErrors: Error[] = [];
/** Shared by the tests, in order: the agent, the customer and its session. */
let bob: Client;
let ann: Client;
let session = "";
/** The second customer, served by alice and transferred to bob. */
let carl: Client;
let moved = "";

beforeAll(async () => {
  r = await startAll({
    queues: [{ name: "billing", title: "Billing", skills: ["billing"], allowGuests: true }],
    admin: { token: "test-admin-token", tokens: [{ name: "reader", sha256: createHash("sha256").update(READER).digest("hex"), scopes: ["read"] }] },
  });
  history = await openHistory({ file: sqliteFile(r.config.runDir) });
  recorder = startRecorder({ redis: new Redis(r.stack.redisUrl), keys: r.app.store.keys, history, log: pino({ level: "silent" }) });
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" });
  page = await context.newPage();
  page.on("pageerror", (err) => pageErrors.push(err));
  page.setDefaultTimeout(8000);
}, 60000);

afterAll(async () => {
  expect(pageErrors).toEqual([]);
  await browser?.close();
  await stopAll(...clients);
  await recorder?.stop();
  await history?.close();
  await r?.stop();
});

/** The wallboard card of a queue, and one of its figures (the <dd> after the <dt> labelled `label`). */
const card = (title: string) => page.locator("#wallboard").getByRole("region", { name: title, exact: true });
const figure = (title: string, label: string) => card(title).locator(`dt:text-is("${label}") + dd`);
const agentRow = (jid: string) => page.getByRole("region", { name: "Agents" }).getByRole("row").filter({ has: page.getByRole("rowheader", { name: jid }) });
const sessionRow = (id: string) => page.getByRole("region", { name: "Live sessions" }).getByRole("row").filter({ has: page.getByRole("rowheader", { name: id }) });
const monitorPanel = (id: string) => page.getByRole("article", { name: `Session ${id}` });
/** A new tab (its own sessionStorage) signed in with an admin API token alone. */
async function tokenTab(token: string, width = 1280): Promise<{ tab: Page; close: () => Promise<void> }> {
  const context = await browser.newContext({ viewport: { width, height: 1000 }, reducedMotion: "reduce" });
  const tab = await context.newPage();
  tab.on("pageerror", (err) => pageErrors.push(err));
  tab.setDefaultTimeout(8000);
  await tab.goto(`http://127.0.0.1:${r.app.webPort}/admin/`);
  await tab.getByLabel("Admin API token").fill(token);
  await tab.getByLabel("Admin API token").press("Enter");
  return { tab, close: () => context.close() };
}
/** The agent's state as its row shows it. */
const agentState = (jid: string, state: string) => agentRow(jid).locator(".pill").filter({ hasText: new RegExp(`^${state}$`) });
const hasText = async (l: Locator, text: string) => l.filter({ hasText: text }).waitFor();
const is = (name: string, ns: string) => (s: Element) => s.is("message") && !!s.getChild(name, ns);
const withBody = (body: string) => (s: Element) => s.is("message") && s.getChildText("body") === body;

function say(c: Client, to: string, body: string): Promise<void> {
  const xml = xmlFor(c);
  return c.send(xml("message", { to, type: "chat", id: nextId("m") }, xml("body", {}, body)));
}

describe("supervisor console", () => {
  it("asks for the address, and refuses a wrong password with a clear message", async () => {
    await page.goto(`http://127.0.0.1:${r.app.webPort}/admin/`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "Enter your supervisor address, such as sam@acme.test. Or sign in with an admin API token alone." }).waitFor();
    await page.getByLabel("JID").fill("sam@acme.test");
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "Wrong address or password." }).waitFor();
    expect(await page.getByRole("button", { name: "Sign in" }).isEnabled()).toBe(true);
  }, 20000);

  it("turns an agent away: the console is for supervisors", async () => {
    await page.getByLabel("JID").fill("alice@acme.test");
    await page.getByLabel("Password").fill("alice-pw");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "alice@acme.test is not a supervisor here: the console is for supervisors." }).waitFor();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(await page.locator("#wallboard").count()).toBe(0);
    expect((await r.app.cti.agent("alice@acme.test"))?.state).toBe("offline"); // no presence was sent: not made available
  }, 20000);

  it("signs the supervisor in and shows the wallboard, which moves when an agent goes not ready and when a customer joins", async () => {
    bob = await agentOnline(r, BOB);
    clients.push(bob);
    await page.goto(`http://127.0.0.1:${r.app.webPort}/admin/`);
    await page.getByLabel("JID").fill("sam@acme.test");
    await page.getByLabel("Password").fill("sam-pw");
    await page.getByLabel("Password").press("Enter");
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    await card("Billing").waitFor();
    await hasText(figure("Billing", "Waiting"), "0");
    await expect(figure("Billing", "Ready").textContent()).resolves.toBe("1");
    await expect(figure("Billing", "Not ready").textContent()).resolves.toBe("0");
    await agentState(BOB, "Ready").waitFor();

    // The agent goes not ready on its own client (away): pushed to the page, no reload, no click.
    await bob.send(xmlFor(bob)("presence", {}, xmlFor(bob)("show", {}, "away")));
    await figure("Billing", "Not ready").filter({ hasText: /^1$/ }).waitFor();
    await expect(figure("Billing", "Ready").textContent()).resolves.toBe("0");
    await agentState(BOB, "Not ready").waitFor();

    // A customer joins: nobody is ready, so it waits, and the page counts its wait on.
    ann = await connectGuest(r.config);
    clients.push(ann);
    const x = xmlFor(ann);
    const joined = await iq(ann, `billing@${CC}`, "set", x("join-queue", { xmlns: NS.WG },
      x("x", { xmlns: NS.DATA, type: "submit" }, x("field", { var: "name" }, x("value", {}, "Ann Example")))));
    expect(joined.attrs.type).toBe("result");
    session = joined.getChild(SB.session, NS.SB)!.attrs.id!;
    await figure("Billing", "Waiting").filter({ hasText: /^1$/ }).waitFor();
    await figure("Billing", "Longest wait").filter({ hasText: /^0:0[1-9]$/ }).waitFor(); // counted on in the page
    await page.getByRole("status").filter({ hasText: "Billing: 1 waiting; agents 0 ready, 0 busy, 0 in wrap-up, 1 not ready" }).waitFor();
  }, 30000);

  it("sets the agent ready from the console; the waiting customer goes to it and the wallboard says so", async () => {
    await agentRow(BOB).getByRole("button", { name: `Ready: ${BOB}`, exact: true }).click();
    await until(() => r.app.cti.agent(BOB), (a) => a?.state === "ready", 5000, "bob ready");
    const assigned = await waitFor(ann, is(SB.assigned, NS.SB), 10000, "assigned");
    expect(assigned.getChild(SB.assigned, NS.SB)!.attrs.seat).toBe(BOB);
    await figure("Billing", "Waiting").filter({ hasText: /^0$/ }).waitFor();
    await hasText(figure("Billing", "Longest wait"), "–");
    await agentRow(BOB).getByText("1 of 2").waitFor();
    await sessionRow(session).waitFor();
  }, 30000);

  it("monitors the live chat: both sides' messages appear in the panel; a whisper reaches only the agent, marked; barging in reaches the customer", async () => {
    await waitFor(bob, (s) => s.is("message") && s.getChild(SB.begin, NS.SB)?.attrs.session === session, 5000, "begin");
    await sessionRow(session).getByRole("button", { name: `Monitor session ${session}` }).click();
    const panel = monitorPanel(session);
    await panel.waitFor();
    await sessionRow(session).getByRole("button", { name: `Stop monitoring session ${session}` }).waitFor();

    await say(ann, BOB, "Where is my invoice 42?");
    await waitFor(bob, withBody("Where is my invoice 42?"), 5000, "bob gets ann's words");
    await panel.getByRole("log").getByText(/^Customer \(.+\): Where is my invoice 42\?$/).waitFor();
    await say(bob, ann.jid!.toString(), "Let me check <b>that</b> for you.");
    await waitFor(ann, withBody("Let me check <b>that</b> for you."), 5000, "ann gets bob's words");
    await panel.getByRole("log").getByText(`Agent (${BOB}): Let me check <b>that</b> for you.`).waitFor(); // as text, not markup
    expect(await panel.locator("b").count()).toBe(0);
    // A whiteboard stroke from the agent (issue 15): recorded, and drawn in the transcript view (below).
    const bx = xmlFor(bob);
    await bob.send(bx("message", { to: ann.jid!.toString(), type: "chat", id: "board-1" },
      bx("board", { xmlns: NS.SB, session }, bx("stroke", { id: "s1", color: "#dc2626", width: "6" }, "1000,1000 9000,7000"))));
    await waitFor(ann, (s) => s.attrs.id === "board-1", 5000, "ann gets bob's stroke");

    const annBefore = received(ann).length;
    await panel.getByLabel("Whisper to the agent").fill("Offer the loyalty discount");
    await panel.getByRole("button", { name: "Whisper", exact: true }).click();
    const whisper = await waitFor(bob, withBody("Offer the loyalty discount"), 5000, "the whisper");
    expect(whisper.attrs.from?.split("/")[0]).toBe("sam@acme.test");
    expect(whisper.getChild("whisper", NS.SB)?.attrs.session).toBe(session);
    await panel.getByRole("log").getByText("You whispered: Offer the loyalty discount").waitFor();
    // The customer got nothing of it (a barrier: a message the customer gets after the whisper was sent).
    await say(bob, ann.jid!.toString(), "One moment please.");
    await waitFor(ann, withBody("One moment please."), 5000, "barrier");
    expect(received(ann).slice(annBefore).some((s) => (s.getChildText("body") ?? "").includes("loyalty"))).toBe(false);
    await panel.getByRole("log").getByText(`Agent (${BOB}): One moment please.`).waitFor();

    // Barging in with words: the customer sees the supervisor join and write (from the queue), the agent too.
    await panel.getByLabel("Say to the customer").fill("Hello Ann, I am the team lead.");
    await panel.getByRole("button", { name: "Barge in" }).click();
    await waitFor(ann, withBody("Sam (supervisor) has joined the conversation."), 5000, "ann sees sam join");
    const words = await waitFor(ann, withBody("Sam (supervisor): Hello Ann, I am the team lead."), 5000, "ann gets sam's words");
    expect(words.attrs.from).toBe(`billing@${CC}`);
    await waitFor(bob, (s) => s.is("message") && (s.getChildText("body") ?? "").includes("Sam to the customer: Hello Ann, I am the team lead."), 5000, "bob sees sam's words");
    await panel.getByRole("log").getByText("You: Hello Ann, I am the team lead.").waitFor();
    await panel.getByRole("button", { name: "Send", exact: true }).waitFor(); // barging: the button now just sends
    await say(ann, BOB, "Thanks!");
    await panel.getByRole("log").getByText(/^Customer \(.+\): Thanks!$/).waitFor(); // the customer's reply, copied
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  }, 30000);

  it("puts the agent not ready with a reason, ends the session (the panel says monitoring stopped), logs the agent out", async () => {
    await page.getByLabel("Reason for not ready").fill("Coaching");
    await agentRow(BOB).getByRole("button", { name: `Not ready: ${BOB}`, exact: true }).click();
    await until(() => r.app.cti.agent(BOB), (a) => a?.state === "not-ready" && a.reason === "Coaching", 5000, "bob not ready (Coaching)");
    await agentRow(BOB).getByText("Coaching").waitFor();
    await figure("Billing", "Not ready").filter({ hasText: /^1$/ }).waitFor();

    await sessionRow(session).getByRole("button", { name: `End session ${session}` }).click();
    await waitFor(ann, (s) => s.is("message") && s.getChild(SB.ended, NS.SB)?.attrs.reason === "supervisor", 5000, "ann's chat ended");
    await monitorPanel(session).getByText("monitoring stopped").waitFor();
    await page.getByRole("region", { name: "Live sessions" }).getByText("No session is live.").waitFor();

    // Logging the agent out from the console.
    await agentRow(BOB).getByRole("button", { name: `Log out: ${BOB}`, exact: true }).click();
    await until(() => r.app.cti.agent(BOB), (a) => a?.state === "offline", 5000, "bob logged out");
    await agentState(BOB, "Offline").waitFor();
    await figure("Billing", "Offline").filter({ hasText: /^2$/ }).waitFor();
    await page.getByRole("status").filter({ hasText: `${BOB}: logged out.` }).waitFor();
  }, 30000);

  it("with an admin token: today's figures per queue, the last 7 days, the transcript search and a transcript, as text", async () => {
    const context = await browser.newContext({ viewport: { width: 900, height: 1000 }, reducedMotion: "reduce" }); // a tablet's width
    const tab = await context.newPage();
    tab.on("pageerror", (err) => pageErrors.push(err));
    tab.setDefaultTimeout(8000);
    await tab.goto(`http://127.0.0.1:${r.app.webPort}/admin/`);
    await tab.getByLabel("JID").fill("sam@acme.test");
    await tab.getByLabel("Password").fill("sam-pw");
    await tab.getByLabel("Admin API token (optional)").fill("test-admin-token");
    await tab.getByRole("button", { name: "Sign in" }).click();
    const panel = tab.getByRole("region", { name: "Today and history" });
    await panel.waitFor();
    expect(await tab.evaluate(() => sessionStorage.getItem("switchboard-admin-token"))).toBe("test-admin-token");
    expect(await tab.evaluate(() => localStorage.length)).toBe(0);
    // With the token, bob's time in state comes from the history (exact), not from what this page saw ("≥").
    const bobRow = tab.getByRole("region", { name: "Agents" }).getByRole("row").filter({ has: tab.getByRole("rowheader", { name: BOB }) });
    await bobRow.getByRole("cell").nth(2).filter({ hasText: /^\d+:\d\d$/ }).waitFor();
    // Ann's chat (offered and answered today) is in today's figures once the recorder has it.
    const billing = panel.getByRole("row").filter({ has: tab.getByRole("rowheader", { name: "billing" }) });
    await until(async () => (await history.db.selectFrom("sessions").select("ended_at").where("id", "=", session).executeTakeFirst())?.ended_at ?? null,
      (ended) => ended !== null, 10000, "the recorder has ann's ended session");
    await panel.getByRole("button", { name: "Refresh today's figures" }).click();
    await billing.getByRole("cell").first().filter({ hasText: /^1$/ }).waitFor(); // offered
    await expect(billing.getByRole("cell").nth(1).textContent()).resolves.toBe("1"); // answered
    // The last 7 days (/api/stats/history), as an SVG chart and the same figures in a table for screen readers: today's is the last row.
    const perDay = panel.getByRole("table", { name: "Sessions per day, the last 7 days" });
    expect(await perDay.locator("tbody tr").count()).toBe(7);
    await expect(perDay.locator("tbody tr").last().getByRole("cell").nth(1).textContent()).resolves.toBe("1"); // answered today
    expect(await panel.locator("svg.chart rect").count()).toBe(14);

    await panel.getByLabel("Search transcripts").fill("invoice 42");
    await panel.getByRole("button", { name: "Search", exact: true }).click();
    await panel.getByRole("button", { name: `Transcript of session ${session}` }).click();
    const lines = panel.getByRole("list", { name: `Transcript of session ${session}` });
    await lines.getByText(/: Where is my invoice 42\?$/).waitFor();
    await lines.getByText(`${BOB}: Let me check <b>that</b> for you.`).waitFor(); // as text, not markup
    await lines.getByText(/whispered to the agent: Offer the loyalty discount/).waitFor();
    expect(await lines.locator("b").count()).toBe(0);
    // The whiteboard at the end, as an SVG drawn from the recorded numbers (the board is 4:3: y scaled by 3/4).
    const board = panel.getByRole("img", { name: `Whiteboard of session ${session}: 1 stroke` });
    await board.waitFor();
    const line = board.locator("polyline");
    expect(await line.count()).toBe(1);
    expect(await line.getAttribute("points")).toBe("1000,750 9000,5250");
    expect(await line.getAttribute("stroke")).toBe("#dc2626");
    await tab.screenshot({ path: screenshotPath("supervisor-console-tablet.png"), fullPage: true });
    await tab.getByRole("button", { name: "Sign out" }).click();
    await tab.getByRole("button", { name: "Sign in" }).waitFor();
    await context.close();
  }, 40000);

  it("transfers a served chat to another agent with a note: the agent, the next agent and the customer are each told", async () => {
    const alice = await agentOnline(r, ALICE);
    clients.push(alice);
    carl = await connectGuest(r.config);
    clients.push(carl);
    const x = xmlFor(carl);
    const joined = await iq(carl, `billing@${CC}`, "set", x("join-queue", { xmlns: NS.WG }));
    moved = joined.getChild(SB.session, NS.SB)!.attrs.id!;
    expect((await waitFor(carl, is(SB.assigned, NS.SB), 10000, "carl assigned")).getChild(SB.assigned, NS.SB)!.attrs.seat).toBe(ALICE);
    // Bob (logged out by the console before) comes back on his own client.
    await bob.send(xmlFor(bob)("presence"));
    await until(() => r.app.cti.agent(BOB), (a) => a?.state === "ready", 5000, "bob ready again");
    const row = sessionRow(moved);
    await row.getByRole("cell", { name: ALICE, exact: true }).waitFor();
    await row.getByRole("cell").filter({ hasText: /^billing Chat$/ }).waitFor(); // queue, media
    await row.getByRole("cell").filter({ hasText: /^Assigned (served \d+:\d\d|\d+:\d\d since joining)$/ }).waitFor(); // state, time counted on
    await row.getByRole("cell").filter({ hasText: /^\S+@guest\.acme\.test\/\S+$/ }).waitFor(); // the customer
    await agentState(BOB, "Ready").waitFor(); // the console has listed bob as he is now

    await row.getByRole("button", { name: `Transfer session ${moved}` }).click();
    const form = page.getByRole("form", { name: new RegExp(`^Transfer .+ \\(session ${moved}\\)$`) });
    await expect(form.getByLabel("Transfer to").evaluate((el) => el === document.activeElement)).resolves.toBe(true); // keyboard: focus is in the form
    await form.getByLabel("Transfer to").selectOption(`agent:${BOB}`);
    await form.getByLabel("Note for the next agent (optional)").fill("VIP, be quick");
    await form.getByLabel("Note for the next agent (optional)").press("Enter");

    expect((await waitFor(alice, (s) => s.is("message") && /Sam \(a supervisor\) transferred your customer/.test(s.getChildText("body") ?? ""), 5000, "alice told"))
      .getChild(SB.ended, NS.SB)!.attrs.reason).toBe("transferred");
    expect((await waitFor(bob, (s) => s.is("message") && s.getChild(SB.begin, NS.SB)?.attrs.session === moved, 5000, "bob begins")).getChildText("body"))
      .toMatch(/Sam \(a supervisor\) transferred .* Note: VIP, be quick/);
    await waitFor(carl, (s) => s.is("message") && /You are being transferred to Bob/.test(s.getChildText("body") ?? ""), 5000, "carl told");
    await waitFor(carl, (s) => s.is("message") && s.getChild(SB.assigned, NS.SB)?.attrs.seat === BOB, 5000, "carl assigned to bob");
    await page.getByRole("status").filter({ hasText: `Session ${moved} transferred to ${BOB}.` }).waitFor();
    await sessionRow(moved).getByRole("cell", { name: BOB, exact: true }).waitFor();
    expect(await page.getByRole("form", { name: /^Transfer / }).count()).toBe(0); // the form closed
  }, 30000);

  it("changes bob's capacity for the day: the form shows his skills, and the panel his new capacity", async () => {
    await agentRow(BOB).getByRole("cell", { name: "billing", exact: true }).waitFor(); // his skills, as list-agents gives them
    await agentRow(BOB).getByRole("button", { name: `Change skills or capacity for today: ${BOB}` }).click();
    const form = page.getByRole("form", { name: "Change Bob for today" });
    await expect(form.getByLabel("Skills").inputValue()).resolves.toBe("billing");
    await expect(form.getByLabel("Chats at once").inputValue()).resolves.toBe("2");
    await form.getByLabel("Chats at once").fill("0");
    await form.getByRole("button", { name: "Apply for today" }).click();
    await form.getByRole("alert").filter({ hasText: "Chats at once: a whole number from 1 to 100." }).waitFor(); // checked in the page
    await form.getByLabel("Chats at once").fill("3");
    await form.getByRole("button", { name: "Apply for today" }).click();
    await until(() => r.app.cti.agent(BOB), (a) => a?.maxChats === 3, 5000, "bob takes 3 chats");
    expect((await r.app.cti.agent(BOB))?.skills).toEqual(["billing"]); // only what changed was sent
    await agentRow(BOB).getByText("1 of 3").waitFor();
    await page.getByRole("status").filter({ hasText: `${BOB}: 3 chats at once until midnight.` }).waitFor();
  }, 30000);

  it("signed in with the admin token alone: the wallboard and the agents from the API, an agent set not ready, no monitoring, and the audit log of it all", async () => {
    const { tab, close } = await tokenTab("test-admin-token", 900); // a tablet's width
    const tabCard = tab.locator("#wallboard").getByRole("region", { name: "Billing", exact: true });
    await tabCard.waitFor();
    await tabCard.locator('dt:text-is("Waiting") + dd').filter({ hasText: /^0$/ }).waitFor();
    await tab.getByText("Admin API token", { exact: true }).waitFor(); // who is signed in
    const tabAgent = (jid: string) => tab.getByRole("region", { name: "Agents" }).getByRole("row").filter({ has: tab.getByRole("rowheader", { name: jid }) });
    await tabAgent(BOB).getByText("1 of 3").waitFor();
    await tabAgent(ALICE).getByRole("cell", { name: "billing", exact: true }).waitFor();
    const sessions = tab.getByRole("region", { name: "Live sessions" });
    await sessions.getByText("Monitoring, whisper and barge are not available: they need an XMPP account.").waitFor();
    const tabSession = sessions.getByRole("row").filter({ has: tab.getByRole("rowheader", { name: moved }) });
    await tabSession.getByRole("button", { name: `Transfer session ${moved}` }).waitFor();
    expect(await tabSession.getByRole("button", { name: /Monitor/ }).count()).toBe(0);

    await tab.getByLabel("Reason for not ready").fill("Training");
    await tabAgent(ALICE).getByRole("button", { name: `Not ready: ${ALICE}`, exact: true }).click();
    await until(() => r.app.cti.agent(ALICE), (a) => a?.state === "not-ready" && a.reason === "Training", 5000, "alice not ready (Training)");
    await tabAgent(ALICE).locator(".pill").filter({ hasText: /^Not ready$/ }).waitFor(); // polled: no push over HTTP
    await tabCard.locator('dt:text-is("Not ready") + dd').filter({ hasText: /^1$/ }).waitFor();
    await figure("Billing", "Not ready").filter({ hasText: /^1$/ }).waitFor(); // and the XMPP console had it pushed

    // The audit log, once the recorder has written the three actions: newest first.
    await until(async () => (await history.db.selectFrom("audit").select(["actor", "action"]).execute()).map((a) => `${a.actor} ${a.action}`),
      (a) => ["sam@acme.test transfer", "sam@acme.test adjust-agent", "token:admin set-agent-state"].every((x) => a.includes(x)), 10000, "the recorder has the audit entries");
    const audit = tab.getByRole("region", { name: "Audit log" });
    await audit.getByRole("button", { name: "Refresh the audit log" }).click();
    const entry = (action: string, actor: string) => audit.getByRole("row").filter({ has: tab.getByRole("cell", { name: action, exact: true }) }).filter({ has: tab.getByRole("cell", { name: actor, exact: true }) });
    await entry("set-agent-state", "token:admin").filter({ hasText: "not-ready: Training" }).waitFor();
    await entry("transfer", "sam@acme.test").filter({ hasText: moved }).filter({ hasText: `from ${ALICE} to ${BOB}` }).waitFor();
    await entry("adjust-agent", "sam@acme.test").filter({ hasText: BOB }).filter({ hasText: /3 chats at once, until midnight/ }).waitFor();
    await expect(audit.locator("tbody tr").first().textContent()).resolves.toMatch(/token:adminset-agent-state/); // the newest first
    await tab.screenshot({ path: screenshotPath("supervisor-console-token.png"), fullPage: true });
    await audit.getByLabel("Action").selectOption("transfer");
    await audit.getByRole("status").filter({ hasText: "1 entry of transfer, newest first." }).waitFor();
    expect(await audit.locator("tbody tr").count()).toBe(1);

    // Over the API too, a transfer: bob's chat back to the queue (the form by keyboard only).
    await tabSession.getByRole("button", { name: `Transfer session ${moved}` }).press("Enter");
    const form = tab.getByRole("form", { name: new RegExp(`^Transfer .+ \\(session ${moved}\\)$`) });
    await form.getByLabel("Transfer to").selectOption("queue:billing");
    await form.getByLabel("Note for the next agent (optional)").fill("Back to the line");
    await form.getByRole("button", { name: "Confirm transfer" }).press("Enter");
    await waitFor(bob, (s) => s.is("message") && /An administrator transferred your customer .* to the queue Billing/.test(s.getChildText("body") ?? ""), 5000, "bob told");
    await tab.getByRole("status").filter({ hasText: `Session ${moved} transferred to the queue billing.` }).waitFor();
    await tab.getByRole("button", { name: "Sign out" }).click();
    await tab.getByRole("button", { name: "Sign in" }).waitFor();
    await close();
  }, 40000);

  it("a read-only token: the audit view says the admin scope is missing, and an action is refused in words", async () => {
    const { tab, close } = await tokenTab(READER);
    const audit = tab.getByRole("region", { name: "Audit log" });
    await audit.getByRole("status").filter({ hasText: "This token lacks the admin scope: the audit log is for admin tokens only." }).waitFor();
    expect(await audit.getByRole("table").count()).toBe(0);
    const row = tab.getByRole("region", { name: "Agents" }).getByRole("row").filter({ has: tab.getByRole("rowheader", { name: BOB }) });
    await row.getByRole("button", { name: `Not ready: ${BOB}`, exact: true }).click();
    await tab.getByRole("alert").filter({ hasText: "The action failed: This token lacks the scope this route needs (supervise)." }).waitFor();
    expect((await r.app.cti.agent(BOB))?.state).not.toBe("not-ready");
    await close();
  }, 30000);

  it("a token refused at sign-in, or later (401), leads back to the sign-in with a clear message", async () => {
    const { tab, close } = await tokenTab("not-a-token");
    await tab.getByRole("alert").filter({ hasText: "The admin API token was not accepted" }).waitFor();
    await expect(tab.getByLabel("Admin API token").evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    // Signed in, then the server no longer knows the token (as when it is withdrawn): its next poll gets a 401.
    await tab.getByLabel("Admin API token").fill("test-admin-token");
    await tab.getByRole("button", { name: "Sign in" }).click();
    await tab.locator("#wallboard").getByRole("region", { name: "Billing", exact: true }).waitFor();
    await tab.route("**/api/queues", (route) => route.fulfill({
      status: 401, contentType: "application/json", body: JSON.stringify({ error: { code: "not-authorized", message: "Send the admin token as 'Authorization: Bearer <token>'." } }),
    }));
    await tab.getByRole("alert").filter({ hasText: "The admin token was refused (it is unknown or was withdrawn). Sign in again." }).waitFor();
    await tab.getByRole("button", { name: "Sign in" }).waitFor();
    expect(await tab.locator("#wallboard").count()).toBe(0);
    await close();
  }, 30000);
});
