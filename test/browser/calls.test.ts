/**
 * Calls in the browser (issue 11): the customer page calls a queue with sip.js and the agent desk's
 * softphone answers, in Debian's Chromium with a fake microphone, against the real stack with voice
 * (Prosody, Redis, Kamailio on its WebSocket port, the component). Audio is proved to flow both ways
 * by each side's RTCPeerConnection statistics; the session's life by /api/sessions. Nothing here
 * depends on whether a media relay (rtpengine) sits in the path.
 */
import { createServer } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchBrowser, screenshotPath } from "../helpers/browser.js";
import { startAll, until, type Running } from "../helpers/stack.js";
import { RECORD_PEER_CONNECTIONS, mediaFlowsInto } from "./call-helpers.js";
import { api, openPage, webUrl } from "./customer-helpers.js";
import { startBaresip, toneShare } from "../helpers/baresip.js";

let r: Running;
let browser: Browser;
let contexts: BrowserContext[] = [];
/** Uncaught errors and console errors of every page: none expected (checked and cleared after each test). */
const errors: string[] = [];
/** Console errors a test expects (its deliberately unreachable switch); any other fails it. */
let expectedConsole: RegExp[] = [];

const ALICE = "alice@acme.test";

beforeAll(async () => {
  [r, browser] = await Promise.all([
    startAll({
      customerGraceSeconds: 8,
      queues: [
        { name: "billing", title: "Billing", skills: ["billing"], fields: [{ var: "order", label: "Order number", required: false }] },
        // A caller waits 2 s at most: refused with a Reason the page shows.
        { name: "brief", title: "Brief desk", skills: ["billing"], maxWaitSeconds: 2 },
        { name: "chatonly", title: "Chat only", skills: ["billing"], media: ["chat"] },
        { name: "phone", title: "Phone line", skills: ["billing"], media: ["voice"] },
      ],
      agents: [{ jid: ALICE, name: "Alice", password: "alice-pw", skills: ["billing"], maxChats: 1, voice: true }],
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
  const seen = errors.splice(0);
  expectedConsole = [];
  expect(seen).toEqual([]);
}, 40_000);

async function newPage(viewport = { width: 900, height: 820 }, init?: string): Promise<Page> {
  const p = await openPage(browser, viewport);
  contexts.push(p.ctx);
  await p.ctx.addInitScript(RECORD_PEER_CONNECTIONS);
  if (init) await p.ctx.addInitScript(init);
  p.page.on("pageerror", (e) => errors.push(`${p.page.url()}: ${String(e)}`));
  p.page.on("console", (m) => {
    if (m.type() !== "error" || /favicon/i.test(m.location().url)) return;
    if (expectedConsole.some((re) => re.test(m.text()))) return;
    errors.push(`${p.page.url()}: ${m.text()}`);
  });
  return p.page;
}

/** The agent desk signed in as Alice, her softphone registered (the CTI sees her phone). Not ready until told. */
async function desk(): Promise<Page> {
  const page = await newPage({ width: 1280, height: 800 });
  await page.goto(webUrl(r, "/agent/"));
  await page.getByLabel("JID").fill(ALICE);
  await page.getByLabel("Password").fill("alice-pw");
  await page.getByLabel("Password").press("Enter");
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  await page.getByRole("status").filter({ hasText: "Phone ready" }).waitFor({ timeout: 20_000 });
  await until(() => r.app.cti.agent(ALICE), (a) => a?.phone === true && a.state === "not-ready", 20_000, "alice's phone registered");
  return page;
}

async function ready(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Ready", exact: true }).click();
  await until(() => r.app.cti.agent(ALICE), (a) => a?.state === "ready", 5000, "alice ready");
}

/** The customer page of `queue` with its pre-chat form filled. */
async function caller(queue: string, init?: string, name = "Ann"): Promise<Page> {
  const page = await newPage(undefined, init);
  await page.goto(webUrl(r, `/chat/?queue=${queue}`));
  const form = page.locator("#prechat");
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Subject").fill("Invoice 42");
  return page;
}

/** The latest voice session of the queue, from the admin API. */
async function voiceSession(queue: string): Promise<Record<string, any> | undefined> {
  const all = (await api(r, "/api/sessions")) as Array<Record<string, any>>;
  return all.filter((s) => s.media === "voice" && s.queue === queue).sort((a, b) => Date.parse(b.queuedAt) - Date.parse(a.queuedAt))[0];
}

/** A loopback port nobody listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const callPanel = (page: Page) => page.getByRole("tabpanel");
const fact = (page: Page, label: string) => callPanel(page).locator(`dt:text-is("${label}") + dd`);

describe("calls from the customer page to the agent desk", () => {
  it("queues the call with its place in line, rings the desk, connects audio both ways, and ends the session on hang-up", async () => {
    const agent = await desk();
    const page = await caller("billing");
    // "Call us" stands beside "Start chat"; the form's checks apply.
    expect(await page.getByRole("button", { name: "Start chat" }).isVisible()).toBe(true);
    await page.getByRole("button", { name: "Call us" }).click();

    // Alice is not ready: the call waits in line, the page says where (XEP-0142 queue-status over XMPP; a
    // newcomer's first status comes with the next push, within statusIntervalSeconds: 15 s here).
    await page.getByRole("status").filter({ hasText: /Waiting: position 1, about \d+ min/ }).waitFor({ timeout: 30_000 });
    expect(await page.getByRole("button", { name: "Hang up" }).isVisible()).toBe(true);
    const queued = await until(() => voiceSession("billing"), (s) => s?.state === "queued", 10_000, "call queued");
    expect(queued).toMatchObject({ form: { name: "Ann", subject: "Invoice 42" } });
    expect(queued!.customer).toMatch(/@guest\.acme\.test\//); // the page's XMPP login, not a SIP caller
    await page.screenshot({ path: screenshotPath("customer-call-waiting.png") });

    // Ready: the desk rings at once (a call is never an XEP-0142 offer), with the caller, the queue and the session.
    await ready(agent);
    const tab = agent.getByRole("tab", { name: /Ann/ });
    await tab.filter({ hasText: "ringing" }).waitFor({ timeout: 10_000 });
    await agent.getByRole("status").filter({ hasText: "Incoming call: ringing." }).waitFor();
    expect(await fact(agent, "Queue").textContent()).toBe("Billing");
    expect(await fact(agent, "Subject").textContent()).toBe("Invoice 42");
    expect(await fact(agent, "Waited").textContent()).toMatch(/^\d+:\d\d$/);
    await until(() => fact(agent, "Session").textContent(), (t) => t === queued!.id, 10_000, "session named on the desk");
    expect(await voiceSession("billing")).toMatchObject({ id: queued!.id, state: "assigned", seat: ALICE });

    await agent.getByRole("button", { name: "Answer" }).click();
    await page.getByRole("status").filter({ hasText: "On the call" }).waitFor({ timeout: 20_000 });
    await agent.getByRole("status").filter({ hasText: "On the call." }).waitFor();
    await until(() => voiceSession("billing"), (s) => s?.state === "in-service", 10_000, "in service");

    // Audio both ways, and the meters move.
    await mediaFlowsInto(page, "the caller");
    await mediaFlowsInto(agent, "the agent");
    await until(() => page.locator("#meter-agent").evaluate((m: HTMLMeterElement) => m.value), (v) => v > 0, 10_000, "caller's meter of the agent's voice");
    await until(() => callPanel(agent).getByLabel("Caller’s voice").evaluate((m: HTMLMeterElement) => m.value), (v) => v > 0, 10_000, "desk's meter of the caller's voice");
    await until(() => page.locator("#meter-mic").evaluate((m: HTMLMeterElement) => m.value), (v) => v > 0, 10_000, "caller's microphone meter");
    await until(() => callPanel(agent).getByLabel("Your microphone").evaluate((m: HTMLMeterElement) => m.value), (v) => v > 0, 10_000, "desk's microphone meter");
    expect(await page.getByRole("timer", { name: "Call duration" }).textContent()).toMatch(/^\d+:\d\d$/);

    // Mute (the caller), Hold and back (the agent: a re-INVITE through the switch).
    const mute = page.getByRole("button", { name: "Mute" });
    await mute.click();
    expect(await mute.getAttribute("aria-pressed")).toBe("true");
    await page.getByRole("status").filter({ hasText: "On the call (muted)" }).waitFor();
    await mute.click();
    expect(await mute.getAttribute("aria-pressed")).toBe("false");
    const hold = agent.getByRole("button", { name: "Hold" });
    await hold.click();
    await until(() => hold.getAttribute("aria-pressed"), (v) => v === "true", 10_000, "held");
    await agent.getByRole("tab", { name: /Ann/ }).filter({ hasText: "on hold" }).waitFor();
    await hold.click();
    await until(() => hold.getAttribute("aria-pressed"), (v) => v === "false", 10_000, "resumed");
    await mediaFlowsInto(agent, "the agent after hold");

    await page.screenshot({ path: screenshotPath("customer-call.png") });
    await agent.screenshot({ path: screenshotPath("agent-call.png") });

    // The caller hangs up: both sides say so, and the session ends as the customer's doing.
    await page.getByRole("button", { name: "Hang up" }).click();
    await page.getByText("You ended the call.").waitFor();
    await agent.getByRole("status").filter({ hasText: "The caller hung up." }).waitFor({ timeout: 10_000 });
    const ended = await until(() => api(r, `/api/sessions/${queued!.id}`), (s) => s.state === "ended", 10_000, "session ended");
    expect(ended).toMatchObject({ media: "voice", endReason: "customer", seat: ALICE });
    expect(ended.inServiceAt).toBeTruthy();
    await agent.getByRole("button", { name: "Close call" }).click();
    await agent.getByRole("tab").first().waitFor({ state: "detached" });
  }, 120_000);

  it("a video call from the page: camera video both ways, each side shows the other's picture", async () => {
    const agent = await desk();
    await ready(agent);
    const page = await caller("billing");
    await page.getByRole("button", { name: "Video call" }).click();
    await agent.getByRole("button", { name: "Answer" }).click({ timeout: 20_000 });
    await page.getByRole("status").filter({ hasText: "On the call" }).waitFor({ timeout: 20_000 });
    await mediaFlowsInto(agent, "the agent", "video");
    await mediaFlowsInto(page, "the caller", "video");
    await mediaFlowsInto(page, "the caller", "audio");
    await until(() => callPanel(agent).getByLabel("Caller’s video").evaluate((v: HTMLVideoElement) => v.videoWidth), (w) => w > 0, 15_000, "the desk shows the caller");
    await until(() => page.getByRole("region", { name: "Your call" }).getByLabel("The agent’s video").evaluate((v: HTMLVideoElement) => v.videoWidth), (w) => w > 0, 15_000, "the page shows the agent");
    await page.screenshot({ path: screenshotPath("customer-video-call.png") });
    await page.getByRole("button", { name: "Hang up" }).click();
    await agent.getByRole("status").filter({ hasText: "The caller hung up." }).waitFor({ timeout: 10_000 });
  }, 120_000);

  it("shares a screen in an audio-only call, either way: a re-INVITE adds video, the other side shows it, and stopping takes it away", async () => {
    const agent = await desk();
    await ready(agent);
    const page = await caller("billing");
    await page.getByRole("button", { name: "Call us" }).click();
    await agent.getByRole("button", { name: "Answer" }).click({ timeout: 20_000 });
    await page.getByRole("status").filter({ hasText: "On the call" }).waitFor({ timeout: 20_000 });
    await mediaFlowsInto(agent, "the agent");
    const onDesk = callPanel(agent).getByLabel("Caller’s video");
    const onPage = page.getByRole("region", { name: "Your call" }).getByLabel("The agent’s video");
    const playing = (v: HTMLVideoElement) => !v.hidden && v.videoWidth > 0;
    expect(await onDesk.isHidden()).toBe(true);
    expect(await onPage.isHidden()).toBe(true);

    // The caller shares (remote assistance): the desk shows the screen; stopping hides it again.
    const pageShare = page.getByRole("button", { name: "Share screen" });
    await pageShare.click();
    await until(() => pageShare.getAttribute("aria-pressed"), (v) => v === "true", 15_000, "the caller sharing");
    await mediaFlowsInto(agent, "the agent", "video");
    await until(() => onDesk.evaluate(playing), (p) => p, 20_000, "the desk shows the caller's screen");
    await agent.screenshot({ path: screenshotPath("agent-call-screen.png") });
    await pageShare.click();
    await until(() => pageShare.getAttribute("aria-pressed"), (v) => v === "false", 15_000, "the caller stopped sharing");
    await onDesk.waitFor({ state: "hidden", timeout: 20_000 });
    await mediaFlowsInto(agent, "the agent, still hearing the caller");

    // The agent shares with the caller: the page shows it; stopping hides it.
    const deskShare = callPanel(agent).getByRole("button", { name: "Share screen" });
    await deskShare.click();
    await until(() => deskShare.getAttribute("aria-pressed"), (v) => v === "true", 15_000, "the agent sharing");
    await until(() => onPage.evaluate(playing), (p) => p, 20_000, "the page shows the agent's screen");
    await deskShare.click();
    await until(() => deskShare.getAttribute("aria-pressed"), (v) => v === "false", 15_000, "the agent stopped sharing");
    await onPage.waitFor({ state: "hidden", timeout: 20_000 });
    await mediaFlowsInto(page, "the caller, still hearing the agent");
    await page.getByRole("button", { name: "Hang up" }).click();
    await agent.getByRole("status").filter({ hasText: "The caller hung up." }).waitFor({ timeout: 10_000 });
  }, 150_000);

  it("the desk answers a stock SIP phone (baresip, plain RTP) through rtpengine: audio both ways", async () => {
    const agent = await desk();
    await ready(agent);
    const dave = await startBaresip({ aor: "sip:dave@customer.test", proxy: { host: "127.0.0.1", port: r.config.ports.sip! }, register: false, toneHz: 440 });
    try {
      await dave.command("dial", "sip:billing@cc.acme.test");
      await agent.getByRole("button", { name: "Answer" }).click({ timeout: 20_000 });
      await dave.waitFor("CALL_ESTABLISHED", 1, 20_000);
      await agent.getByRole("status").filter({ hasText: "On the call." }).waitFor({ timeout: 20_000 });
      await mediaFlowsInto(agent, "the agent (from the phone)");
      // Two seconds of the desk's audio decoded by the phone (16 kB/s of samples) before it hangs up.
      await until(() => dave.heardBytes(), (b) => b > 32_000, 20_000, "the phone hears the desk");
      await dave.command("hangup");
      await agent.getByRole("status").filter({ hasText: "The caller hung up." }).waitFor({ timeout: 10_000 });
    } finally {
      const heard = await dave.stop();
      // The desk's fake microphone (Chromium's beep) reached the phone: seconds of decoded audio, not silence,
      // and not the phone's own 440 Hz tone coming back.
      expect(heard.length).toBeGreaterThan(8000);
      expect(heard.some((x) => Math.abs(x) > 1000)).toBe(true);
      expect(toneShare(heard, 440)).toBeLessThan(0.05);
    }
  }, 120_000);

  it("lets the agent hang up: the page says so and the session ends as the seat's doing (markup in a name is text)", async () => {
    const agent = await desk();
    await ready(agent);
    const name = `Ann <img src=x onerror="window.__xss=1"><b>bold</b>`;
    const page = await caller("billing", undefined, name);
    await page.getByRole("button", { name: "Call us" }).click();
    await agent.getByRole("button", { name: "Answer" }).click({ timeout: 20_000 });
    // The name came as the From display name and in the component's notice: shown as text, never run.
    await until(() => callPanel(agent).getByRole("heading", { level: 2 }).textContent(), (t) => t === name, 10_000, "caller's name on the desk");
    expect(await callPanel(agent).locator("img, b").count()).toBe(0);
    await page.getByRole("status").filter({ hasText: "On the call" }).waitFor({ timeout: 20_000 });
    await mediaFlowsInto(page, "the caller");
    const live = await until(() => voiceSession("billing"), (s) => s?.state === "in-service", 10_000, "in service");
    await agent.getByRole("button", { name: "Hang up" }).click();
    await page.getByText("The agent ended the call.").waitFor({ timeout: 10_000 });
    expect(await page.getByText(/^Call duration \d+:\d\d\.$/).isVisible()).toBe(true);
    const ended = await until(() => api(r, `/api/sessions/${live!.id}`), (s) => s.state === "ended", 10_000, "session ended");
    expect(ended.endReason).toBe("seat");
    // Back to the start: the form again.
    expect(await agent.evaluate("window.__xss")).toBeUndefined();
    await page.getByRole("button", { name: "Back to the start" }).click();
    await page.getByRole("button", { name: "Call us" }).waitFor();
  }, 60_000);

  it("lets the agent reject a ringing call (it goes back to the queue) and the caller hang up while waiting", async () => {
    const agent = await desk();
    await ready(agent);
    const page = await caller("billing");
    await page.getByRole("button", { name: "Call us" }).click();
    await agent.getByRole("button", { name: "Reject" }).click({ timeout: 15_000 });
    await agent.getByRole("status").filter({ hasText: "You rejected the call: it goes to another agent." }).waitFor();
    const live = async () => (await r.app.cti.sessions(0)).find((x) => x.media === "voice" && x.queue === "billing");
    const back = await until(live, (x) => x?.state === "queued" && x.missedBy.length === 1, 10_000, "call back in the queue");
    expect(back!.missedBy).toEqual([ALICE]);
    // The caller never stopped waiting.
    expect(await page.getByRole("button", { name: "Hang up" }).isVisible()).toBe(true);
    await page.getByRole("button", { name: "Hang up" }).click();
    await page.getByText("You hung up.").waitFor({ timeout: 10_000 });
    const ended = await until(() => api(r, `/api/sessions/${back!.id}`), (s) => s.state === "ended", 10_000, "session ended");
    expect(["departed", "customer"]).toContain(ended.endReason);
  }, 60_000);

  it("ends a waiting call when the page is reloaded, and says so", async () => {
    await desk(); // not ready: the call waits
    const page = await caller("billing");
    await page.getByRole("button", { name: "Call us" }).click();
    const queued = await until(() => voiceSession("billing"), (s) => s?.state === "queued", 15_000, "call queued");
    await page.reload();
    await page.getByText("Your call ended when the page was closed or reloaded.").waitFor();
    await page.getByRole("button", { name: "Call us" }).waitFor();
    // The page hung up as it went (CANCEL), or its XMPP customer went offline: either way the call ends.
    const ended = await until(() => api(r, `/api/sessions/${queued!.id}`), (s) => s.state === "ended", 20_000, "session ended");
    expect(["departed", "customer", "customer-offline"]).toContain(ended.endReason);
  }, 60_000);

  it("ends a waiting call when the page's tab crashes (nothing can leave it): the switch sees its WebSocket close", async () => {
    await desk(); // not ready: the call waits
    const page = await caller("billing");
    await page.getByRole("button", { name: "Call us" }).click();
    const queued = await until(() => voiceSession("billing"), (s) => s?.state === "queued", 15_000, "call queued");
    const cdp = await page.context().newCDPSession(page);
    const crashed = new Promise((resolve) => page.once("crash", resolve));
    void cdp.send("Page.crash").catch(() => undefined); // the renderer dies: no pagehide, no CANCEL
    await crashed;
    // "departed" is the switch's report of the caller gone; the XMPP customer's going offline would say
    // "customer-offline", and only after its grace (8 s here).
    const ended = await until(() => api(r, `/api/sessions/${queued!.id}`), (s) => s.state === "ended", 5000, "session ended");
    expect(ended.endReason).toBe("departed");
  }, 60_000);

  it("shows the text of a refusal's Reason header", async () => {
    await desk(); // logged in with a phone, not ready: the call is taken, then waits past the queue's 2 s
    const page = await caller("brief");
    await page.getByRole("button", { name: "Call us" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "Sorry, nobody could take your call in time. Please try again later" });
    await alert.waitFor({ timeout: 15_000 });
    const s = await until(() => voiceSession("brief"), (x) => x?.state === "ended", 10_000, "refused call ended");
    expect(s!.endReason).toBe("expired");
    expect(await page.getByRole("button", { name: "Back to the start" }).isVisible()).toBe(true);
  }, 60_000);

  it("explains a denied microphone, and a phone service it cannot reach", async () => {
    await desk();
    const denied = `navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("Permission denied", "NotAllowedError"));`;
    const page = await caller("billing", denied);
    await page.getByRole("button", { name: "Call us" }).click();
    await page.getByRole("alert").filter({ hasText: "Microphone access was denied." }).waitFor();
    expect(await page.getByRole("button", { name: "Call us" }).isVisible()).toBe(true); // still on the form

    // A soft switch nobody listens at: the page says it cannot connect.
    const closed = await closedPort();
    expectedConsole = [new RegExp(`WebSocket connection to 'ws://127\\.0\\.0\\.1:${closed}/' failed`), /sip\.Transport \| WebSocket error occurred/];
    const other = await caller("billing");
    await other.route("**/web-config.json", async (route) => {
      const res = await route.fetch();
      const config = await res.json();
      config.sip.websocketUrl = `ws://127.0.0.1:${closed}/`;
      await route.fulfill({ response: res, json: config });
    });
    await other.reload();
    await other.locator("#prechat").getByLabel("Name").fill("Ann");
    await other.getByRole("button", { name: "Call us" }).click();
    await other.getByRole("alert").filter({ hasText: "Could not connect to the phone service." }).waitFor({ timeout: 20_000 });
  }, 60_000);

  it("offers Call us only where the queue takes calls, and only calls where it takes no chats", async () => {
    const chatOnly = await newPage();
    await chatOnly.goto(webUrl(r, "/chat/?queue=chatonly"));
    await chatOnly.getByRole("button", { name: "Start chat" }).waitFor();
    expect(await chatOnly.getByRole("button", { name: "Call us" }).isVisible()).toBe(false);
    const phoneOnly = await newPage();
    await phoneOnly.goto(webUrl(r, "/chat/?queue=phone"));
    await phoneOnly.getByRole("button", { name: "Call us" }).waitFor();
    expect(await phoneOnly.getByRole("button", { name: "Start chat" }).isVisible()).toBe(false);
    expect(await phoneOnly.getByRole("heading", { level: 1 }).textContent()).toBe("Call us");
    const config = await (await fetch(webUrl(r, "/web-config.json"))).json() as Record<string, any>;
    expect(config.sip).toEqual({ websocketUrl: `ws://127.0.0.1:${r.config.ports.sipWs}/`, domain: "acme.test", iceServers: [] });
    expect(config.queues.map((q: { name: string; media: string[] }) => [q.name, q.media])).toEqual([
      ["billing", ["chat", "voice"]], ["brief", ["chat", "voice"]], ["chatonly", ["chat"]], ["phone", ["voice"]],
    ]);
  });
});
