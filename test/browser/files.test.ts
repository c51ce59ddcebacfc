/**
 * Files in the session from the browser (issue 15): the customer page attaches a picture, the agent desk shows
 * it as an image preview; the desk sends a file back and the page shows a link with its name and size; a file
 * too large or of a type not allowed is refused on the page, in words, before any upload. Debian's Chromium
 * against the real stack (Prosody with mod_http_file_share on its http port, Redis, the component serving the
 * pages); the PUT crosses origins as in production (page on the web port, files on Prosody's).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchBrowser, screenshotPath } from "../helpers/browser.js";
import { startAll, until, type Running } from "../helpers/stack.js";
import { openPage, webUrl } from "./customer-helpers.js";

/** A real 1x1 PNG, so the desk's preview decodes (naturalWidth 1). */
const PIXEL = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==", "base64");
const MAX = 64 * 1024;

let r: Running;
let browser: Browser;
const contexts: BrowserContext[] = [];
/** The customer page's console errors and the desk's uncaught ones: none expected. */
const errors: string[][] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  r = await startAll({ files: { maxBytes: MAX, types: ["image/*", "text/plain"] } });
  browser = await launchBrowser();
}, 60000);

afterAll(async () => {
  for (const e of [...errors, pageErrors]) expect(e).toEqual([]);
  await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
  await browser?.close();
  await r?.stop();
});

async function open(path: string, viewport?: { width: number; height: number }): Promise<Page> {
  const p = await openPage(browser, viewport);
  contexts.push(p.ctx);
  if (path.startsWith("/chat/")) errors.push(p.errors);
  else p.page.on("pageerror", (e) => pageErrors.push(String(e)));
  await p.page.goto(webUrl(r, path));
  return p.page;
}

/** Alice signs in on the desk and goes Ready. */
async function desk(): Promise<Page> {
  const page = await open("/agent/", { width: 1280, height: 800 });
  await page.getByLabel("JID").fill("alice@acme.test");
  await page.getByLabel("Password").fill("alice-pw");
  await page.getByLabel("Password").press("Enter");
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  await until(() => r.app.cti.agent("alice@acme.test"), (a) => !!a?.offerJid, 5000, "alice takes offers");
  await page.getByRole("button", { name: "Ready", exact: true }).click();
  await until(() => r.app.cti.agent("alice@acme.test"), (a) => a?.state === "ready", 5000, "alice ready");
  return page;
}

describe("files from the page and the desk", () => {
  it("sends a picture from the page that the desk previews, a file from the desk that the page links, and refuses bad files in words", async () => {
    const agent = await desk();
    const customer = await open("/chat/?queue=billing");
    const form = customer.locator("#prechat");
    await form.getByLabel("Name").fill("Ann");
    await customer.getByRole("button", { name: "Start chat" }).click();
    await agent.getByRole("article", { name: "Ann" }).getByRole("button", { name: "Accept" }).click();
    await customer.getByText("will help you now").waitFor();

    // The page attaches a picture: its line links it with name and size, the desk shows the image itself.
    await customer.getByRole("button", { name: "Attach a file" }).waitFor();
    await customer.locator("#attach-file").setInputFiles({ name: "screenshot.png", mimeType: "image/png", buffer: PIXEL });
    await customer.getByRole("link", { name: `screenshot.png (${PIXEL.length} bytes)` }).waitFor();
    const preview = agent.getByRole("tabpanel").getByRole("img", { name: "screenshot.png" });
    await preview.waitFor();
    await until(() => preview.evaluate((img) => (img as HTMLImageElement).naturalWidth), (w) => w === 1, 5000, "the preview decoded");
    expect(await preview.getAttribute("src")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/file_share\/[^/]{16,}\/screenshot\.png$/);

    // The desk sends a text file back: the page shows a link with its name and size, and no preview.
    const steps = Buffer.from("1. Open the settings\n2. Choose Billing\n");
    await agent.getByRole("tabpanel").locator("input[type=file]").setInputFiles({ name: "steps.txt", mimeType: "text/plain", buffer: steps });
    const link = customer.getByRole("link", { name: `steps.txt (${steps.length} bytes)` });
    await link.waitFor();
    expect(await (await fetch((await link.getAttribute("href"))!)).text()).toBe(steps.toString());
    expect(await agent.getByRole("tabpanel").getByRole("link", { name: `📎 steps.txt (${steps.length} bytes)` }).count()).toBe(1);

    // Too large, and a type the contact center does not take: refused on the page, in words.
    await customer.locator("#attach-file").setInputFiles({ name: "huge.png", mimeType: "image/png", buffer: Buffer.alloc(MAX + 1000) });
    await customer.getByText("“huge.png” is too large (66.5 KB): files up to 65.5 KB can be sent.").waitFor();
    await customer.locator("#attach-file").setInputFiles({ name: "setup.exe", mimeType: "application/x-msdownload", buffer: Buffer.from("MZ") });
    await customer.getByText("“setup.exe” cannot be sent: only image files, text/plain are accepted here.").waitFor();
    await agent.screenshot({ path: screenshotPath("desk-file-preview.png") });
    expect(await agent.getByText("huge.png").count()).toBe(0);
  });
});
