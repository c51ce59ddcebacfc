/**
 * From chat to call in the same session (issue 11, docs/protocol.md "From chat to call"), in the browser:
 * a chat between the customer page and the agent desk turns into a call to the same seat, from either side
 * (the page's "Call"; the desk's "Call customer", which the page accepts or declines). Audio is proved to
 * flow both ways by RTCPeerConnection statistics; hanging up returns to the chat, which goes on; the
 * session stays a chat with the same seat (/api/sessions). Real stack with voice (Prosody, Redis, Kamailio,
 * the component), Debian's Chromium with a fake microphone.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchBrowser, screenshotPath } from "../helpers/browser.js";
import { startAll, until, type Running } from "../helpers/stack.js";
import { bytesIn, mediaFlowsInto, RECORD_PEER_CONNECTIONS } from "./call-helpers.js";
import { api, openPage, webUrl } from "./customer-helpers.js";

let r: Running;
let browser: Browser;
let contexts: BrowserContext[] = [];
const errors: string[] = [];

const ALICE = "alice@acme.test";

beforeAll(async () => {
  [r, browser] = await Promise.all([
    startAll({
      customerGraceSeconds: 8,
      queues: [{ name: "billing", title: "Billing", skills: ["billing"] }],
      agents: [{ jid: ALICE, name: "Alice", password: "alice-pw", skills: ["billing"], maxChats: 2, voice: true }],
    }, { voice: true }),
    launchBrowser({ media: true }),
  ]);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await r?.stop();
});

afterEach(async () => {
  await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
  contexts = [];
  await until(() => r.app.cti.sessions(0), (s) => s.every((x) => x.state === "ended"), 20_000, "no live session");
  await until(() => r.app.cti.agents(), (a) => a.every((x) => x.state === "offline"), 10_000, "agents offline");
  expect(errors.splice(0)).toEqual([]);
}, 40_000);

async function newPage(viewport = { width: 900, height: 820 }): Promise<Page> {
  const p = await openPage(browser, viewport);
  contexts.push(p.ctx);
  await p.ctx.addInitScript(RECORD_PEER_CONNECTIONS);
  p.page.on("pageerror", (e) => errors.push(`${p.page.url()}: ${String(e)}`));
  p.page.on("console", (m) => {
    if (m.type() !== "error" || /favicon/i.test(m.location().url)) return;
    errors.push(`${p.page.url()}: ${m.text()}`);
  });
  return p.page;
}

/** The desk signed in as Alice, her softphone registered, ready. */
async function desk(): Promise<Page> {
  const page = await newPage({ width: 1280, height: 800 });
  await page.goto(webUrl(r, "/agent/"));
  await page.getByLabel("JID").fill(ALICE);
  await page.getByLabel("Password").fill("alice-pw");
  await page.getByLabel("Password").press("Enter");
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  await page.getByRole("status").filter({ hasText: "Phone ready" }).waitFor({ timeout: 20_000 });
  await until(() => r.app.cti.agent(ALICE), (a) => a?.phone === true && !!a.offerJid, 20_000, "alice's phone registered, taking offers");
  await page.getByRole("button", { name: "Ready", exact: true }).click();
  await until(() => r.app.cti.agent(ALICE), (a) => a?.state === "ready", 5000, "alice ready");
  return page;
}

/** A chat between the page (Ann) and the desk (Alice), served: both sides see each other's first message. */
async function chat(agent: Page, name = "Ann"): Promise<{ page: Page; session: string }> {
  const page = await newPage();
  await page.goto(webUrl(r, "/chat/?queue=billing"));
  const form = page.locator("#prechat");
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Subject").fill("Invoice 42");
  await page.getByRole("button", { name: "Start chat" }).click();
  await agent.getByRole("article", { name }).getByRole("button", { name: "Accept" }).click({ timeout: 30_000 });
  await page.getByText("Alice will help you now.").waitFor({ timeout: 15_000 });
  const live = await until(async () => (await r.app.cti.sessions(0)).find((s) => s.media === "chat" && s.state !== "ended"), (s) => s?.seat === ALICE, 10_000, "chat assigned");
  await say(page, agent, "Hello, about my invoice.");
  await reply(agent, page, "Hi Ann, let me look.");
  return { page, session: live!.id };
}

/** The customer writes; the desk shows it. */
async function say(page: Page, agent: Page, text: string): Promise<void> {
  await page.locator("#message").fill(text);
  await page.locator("#message").press("Enter");
  await chatPanel(agent).locator(".msg.in .bubble").filter({ hasText: text }).waitFor({ state: "attached", timeout: 10_000 });
}

/** The agent writes in the chat; the page shows it. */
async function reply(agent: Page, page: Page, text: string): Promise<void> {
  await chatTab(agent).click();
  await chatPanel(agent).getByLabel("Message").fill(text);
  await chatPanel(agent).getByLabel("Message").press("Enter");
  await page.locator("#log .msg.agent").filter({ hasText: text }).waitFor({ timeout: 10_000 });
}

const chatTab = (agent: Page) => agent.getByRole("tab").filter({ hasNotText: "☎" }).first();
const callTab = (agent: Page) => agent.getByRole("tab").filter({ hasText: "☎" }).first();
const chatPanel = (agent: Page) => agent.locator(".panel:not(.call-panel)").filter({ has: agent.locator("button", { hasText: "End chat" }) });
const callBar = (page: Page) => page.getByRole("group", { name: "Call with the agent" });

/** The session from the admin API: still a chat with Alice, not ended. */
async function stillAChat(session: string): Promise<void> {
  const s = await api(r, `/api/sessions/${session}`);
  expect(s).toMatchObject({ id: session, media: "chat", seat: ALICE });
  expect(s.state).not.toBe("ended");
}

describe("from chat to call in the same session", () => {
  it("the customer calls from the chat: the desk rings and answers, audio both ways, hanging up returns to the chat", async () => {
    const agent = await desk();
    const { page, session } = await chat(agent);

    await page.getByRole("button", { name: "Call", exact: true }).click();
    await callBar(page).getByRole("status").filter({ hasText: /Calling Alice|Ringing Alice/ }).waitFor();
    // The desk's softphone rings at once (no queueing), the call named after the chat's customer and session.
    await callTab(agent).filter({ hasText: "ringing" }).waitFor({ timeout: 15_000 });
    await callTab(agent).click();
    const callPanel = agent.locator(".call-panel:not([hidden])");
    await until(() => callPanel.locator('dt:text-is("Session") + dd').textContent(), (t) => t === session, 10_000, "session named on the call");
    expect(await callPanel.getByRole("heading", { level: 2 }).textContent()).toBe("Ann");
    await callPanel.getByRole("button", { name: "Answer" }).click();
    await callBar(page).getByRole("status").filter({ hasText: "On the call with Alice" }).waitFor({ timeout: 20_000 });
    await agent.getByRole("status").filter({ hasText: "On the call." }).waitFor();

    await mediaFlowsInto(page, "the customer");
    await mediaFlowsInto(agent, "the agent");
    await stillAChat(session);
    // The chat goes on during the call.
    await say(page, agent, "Can you hear me?");
    await agent.screenshot({ path: screenshotPath("agent-chat-call.png") });
    await page.screenshot({ path: screenshotPath("customer-chat-call.png") });

    // The customer hangs up: back to the chat, which still carries messages both ways.
    await callBar(page).getByRole("button", { name: "Hang up" }).click();
    await callBar(page).waitFor({ state: "hidden" });
    await page.locator("#log .system").filter({ hasText: /^You ended the call\. \(\d+:\d\d\)$/ }).waitFor();
    await agent.getByRole("status").filter({ hasText: "The caller hung up." }).waitFor({ timeout: 10_000 });
    expect(await page.getByRole("button", { name: "Call", exact: true }).isVisible()).toBe(true);
    await say(page, agent, "Thanks, that helped.");
    await reply(agent, page, "You are welcome.");
    await chatPanel(agent).locator(".sys").filter({ hasText: "The call from this chat ended; the chat goes on." }).waitFor();
    await stillAChat(session);
    await until(() => r.app.cti.session(session), (s) => !s?.callHandle, 10_000, "the chat's call over");
  }, 150_000);

  it("the agent asks to talk: Decline hides the request, Accept calls the desk, which hangs up; errors show in the chat", async () => {
    const agent = await desk();
    const { page, session } = await chat(agent, `Ann <img src=x onerror="window.__xss=1">`);

    // Decline: the request goes, nothing else happens.
    await chatPanel(agent).getByRole("button", { name: "Call customer" }).click();
    await chatPanel(agent).locator(".sys").filter({ hasText: /asked .* to take a call/ }).waitFor({ timeout: 10_000 });
    const invite = page.getByRole("group", { name: "Alice would like to talk with you" });
    await invite.waitFor({ timeout: 10_000 });
    await invite.getByRole("button", { name: "Decline" }).click();
    await invite.waitFor({ state: "hidden" });
    expect(await callTab(agent).count()).toBe(0);

    // Again, and Accept: the page calls with the token that came with the request; the desk rings.
    await chatPanel(agent).getByRole("button", { name: "Call customer" }).click();
    await invite.getByRole("button", { name: "Accept" }).click({ timeout: 10_000 });
    await callTab(agent).filter({ hasText: "ringing" }).waitFor({ timeout: 15_000 });
    await callTab(agent).click();
    const callPanel = agent.locator(".call-panel:not([hidden])");
    await callPanel.getByRole("button", { name: "Answer" }).click();
    await callBar(page).getByRole("status").filter({ hasText: "On the call with Alice" }).waitFor({ timeout: 20_000 });
    await mediaFlowsInto(page, "the customer");
    await mediaFlowsInto(agent, "the agent");
    // Markup in the customer's name is text on the desk.
    await until(() => callPanel.getByRole("heading", { level: 2 }).textContent(), (t) => t === `Ann <img src=x onerror="window.__xss=1">`, 10_000, "caller's name");
    expect(await agent.locator(".panel img[src=x]").count()).toBe(0);
    await stillAChat(session);

    // A second call while this one is on: the component refuses, and the chat says why.
    await chatTab(agent).click();
    await chatPanel(agent).getByRole("button", { name: "Call customer" }).click();
    await chatPanel(agent).locator(".sys").filter({ hasText: "The call could not be offered: A call is already on in this chat." }).waitFor({ timeout: 10_000 });
    await callTab(agent).click();

    // The agent hangs up: the page says so and the chat goes on.
    await callPanel.getByRole("button", { name: "Hang up" }).click();
    await page.locator("#log .system").filter({ hasText: /^The agent ended the call\. \(\d+:\d\d\)$/ }).waitFor({ timeout: 10_000 });
    await callBar(page).waitFor({ state: "hidden" });
    await say(page, agent, "Bye for now.");
    await reply(agent, page, "Goodbye.");
    await stillAChat(session);
    expect(await agent.evaluate("window.__xss")).toBeUndefined();
    expect(await page.evaluate("window.__xss")).toBeUndefined();
  }, 150_000);

  it("a video call from the chat: camera video both ways, shown on the desk, and the customer's screen shared", async () => {
    const agent = await desk();
    const { page, session } = await chat(agent);
    await page.getByRole("button", { name: "Video", exact: true }).click();
    await callTab(agent).filter({ hasText: "ringing" }).waitFor({ timeout: 15_000 });
    await callTab(agent).click();
    const callPanel = agent.locator(".call-panel:not([hidden])");
    await callPanel.getByRole("button", { name: "Answer" }).click();
    await callBar(page).getByRole("status").filter({ hasText: "On the call with Alice" }).waitFor({ timeout: 20_000 });
    await mediaFlowsInto(agent, "the agent", "video");
    await mediaFlowsInto(page, "the customer", "video");
    await mediaFlowsInto(agent, "the agent", "audio");
    // The desk shows the caller's (fake camera's) picture; the page the agent's.
    const shown = callPanel.getByLabel("Caller’s video");
    await until(() => shown.evaluate((v: HTMLVideoElement) => v.videoWidth), (w) => w > 0, 15_000, "the desk's video playing");
    await until(() => page.locator("#chat-call-video").evaluate((v: HTMLVideoElement) => v.videoWidth), (w) => w > 0, 15_000, "the page's video playing");
    expect(await bytesIn(agent, "video")).toBeGreaterThan(0);

    // Share screen: the screen's picture replaces the camera's on the desk, and back. Told by the picture's shape
    // (the encoder may scale it down on a busy machine, never change its aspect ratio much).
    const ratio = (v: HTMLVideoElement) => (v.videoHeight ? v.videoWidth / v.videoHeight : 0);
    const near = (a: number, b: number) => Math.abs(a - b) < 0.06;
    const camera = await shown.evaluate(ratio);
    const share = callBar(page).getByRole("button", { name: "Share screen" });
    await share.click();
    await until(() => share.getAttribute("aria-pressed"), (v) => v === "true", 10_000, "sharing");
    await until(() => shown.evaluate(ratio), (r) => r > 0 && !near(r, camera), 20_000, "the desk shows the screen (not the camera's 4:3)");
    await share.click();
    await until(() => shown.evaluate(ratio), (r) => near(r, camera), 20_000, "the desk shows the camera again");
    await agent.screenshot({ path: screenshotPath("agent-chat-video.png") });
    await callBar(page).getByRole("button", { name: "Hang up" }).click();
    await callBar(page).waitFor({ state: "hidden" });
    await say(page, agent, "That was clear.");
    await stillAChat(session);
  }, 150_000);
});
