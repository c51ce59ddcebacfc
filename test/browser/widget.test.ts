/**
 * The embeddable widget: a page on another origin (and site: localhost vs the
 * web server's 127.0.0.1) with one script tag and hostile CSS gets a launcher
 * that opens the chat in an iframe from the widget's own origin, which
 * reaches the queue and chats with the seat.
 */
import type { Server } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Browser, BrowserContext } from "playwright-core";
import { launchBrowser } from "../helpers/browser.js";
import { agentOnline, type Running } from "../helpers/stack.js";
import { cleanUp, openPage, screenshotPath, Seat, serveOtherOrigin, startCustomerStack, webUrl } from "./customer-helpers.js";

let r: Running;
let browser: Browser;
let site: { url: string; server: Server };
let agents: Client[] = [];
let contexts: BrowserContext[] = [];

beforeAll(async () => {
  [r, browser] = await Promise.all([startCustomerStack(), launchBrowser()]);
  site = await serveOtherOrigin(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme shop</title>
<style>
  /* a site whose CSS would wreck anything it could reach */
  * { color: #b00 !important; font-family: serif !important; }
  button, iframe, div { border: 5px dashed red !important; display: block; }
  body { font: 18px Georgia, serif; margin: 40px; background: #fffbea; }
</style></head>
<body>
  <h1>Acme shop</h1>
  <p>Everything you need, delivered tomorrow.</p>
  <script src="${webUrl(r, "/widget.js")}" data-queue="billing"></script>
</body></html>`);
}, 60000);
afterAll(async () => {
  await new Promise((resolve) => site?.server.close(resolve));
  await browser?.close();
  await r?.stop();
});
afterEach(async () => {
  await cleanUp(r, agents, contexts);
  agents = [];
  contexts = [];
}, 30000);

describe("widget", () => {
  it("opens the chat from a page on another origin and reaches the queue", async () => {
    const alice = new Seat(await agentOnline(r, "alice@acme.test"));
    agents.push(alice.c);
    const { ctx, page, errors } = await openPage(browser, { width: 1100, height: 800 });
    contexts.push(ctx);
    await page.goto(site.url);
    expect(new URL(page.url()).origin).not.toBe(new URL(webUrl(r, "/")).origin);

    const launcher = page.getByRole("button", { name: "Chat with us" });
    await launcher.waitFor();
    expect(await launcher.getAttribute("aria-expanded")).toBe("false");
    // the host page's CSS does not reach into the widget
    expect(await launcher.evaluate((b: any) => getComputedStyle(b).borderStyle)).not.toBe("dashed");
    await launcher.click();
    await page.getByRole("button", { name: "Close chat" }).waitFor();

    const iframe = page.locator("iframe[title='Chat with us']");
    expect(new URL((await iframe.getAttribute("src"))!).origin).toBe(new URL(webUrl(r, "/")).origin);
    const chat = page.frameLocator("iframe[title='Chat with us']");
    await chat.locator("#prechat").getByLabel("Name").fill("Wendy");
    await chat.getByLabel("Order number").fill("W-7");
    await chat.getByRole("button", { name: "Start chat" }).click();
    const begin = await alice.begin();
    expect(begin.attrs.queue).toBe("billing");
    await chat.getByText("Alice will help you now.").waitFor();

    await chat.getByRole("textbox", { name: "Message", exact: true }).fill("Hi from the shop page");
    await chat.getByRole("button", { name: "Send" }).click();
    await alice.heard("Hi from the shop page");
    await alice.say("Hello Wendy! How can I help?");
    await chat.getByText("Hello Wendy! How can I help?").waitFor();
    await page.screenshot({ path: screenshotPath("widget.png") });

    // Closing hides the panel (the chat goes on inside); reopening shows the same conversation.
    await page.getByRole("button", { name: "Close chat" }).click();
    await iframe.waitFor({ state: "hidden" });
    expect(await launcher.getAttribute("aria-expanded")).toBe("false");
    await launcher.click();
    await chat.getByText("Hello Wendy! How can I help?").waitFor();

    // Escape inside the chat closes the panel and gives the focus back to the launcher.
    await chat.getByRole("textbox", { name: "Message", exact: true }).press("Escape");
    await iframe.waitFor({ state: "hidden" });
    expect(await page.evaluate("document.activeElement && document.activeElement.hasAttribute('data-switchboard-widget')")).toBe(true);

    // A reload of the site: the panel is open again and the conversation goes on (the chat resumes its session).
    // Playwright's contexts block third-party storage, as Chrome does with third-party cookies blocked: the
    // iframe cannot use its own sessionStorage, so this also proves the widget keeps the chat's state for it.
    const chatFrame = page.frames().find((f) => f.url().includes("/chat/"))!;
    expect(await chatFrame.evaluate("(() => { try { sessionStorage.length; return 'available'; } catch { return 'denied'; } })()")).toBe("denied");
    await launcher.click();
    await page.reload();
    await chat.getByText("Hello Wendy! How can I help?").waitFor();
    expect(await page.getByRole("button", { name: "Close chat" }).getAttribute("aria-expanded")).toBe("true");
    const again = await alice.begin(15000);
    expect(again.attrs.session).toBe(begin.attrs.session);
    await chat.getByRole("textbox", { name: "Message", exact: true }).fill("Still me after the reload");
    await chat.getByRole("textbox", { name: "Message", exact: true }).press("Enter");
    await alice.heard("Still me after the reload");
    expect(errors).toEqual([]);
  }, 60000);
});
