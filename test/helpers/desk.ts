/** Browser tests of the agent desk and the customer page: their stack and Chromium, signing in, going ready. */
import { afterAll, beforeAll, expect } from "@jest/globals";
import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import type { ConfigInput } from "../../component/config.js";
import { launchBrowser } from "./browser.js";
import { startAll, until, type Running } from "./stack.js";

/**
 * A test file's stack (startAll with `overrides`, handed over by `onStart`) and Chromium, started before its
 * tests and stopped after them; no page of it may throw (checked at the end). `newPage`: a page in a context
 * of its own (`options`: viewport...), its actions given up after 8 s.
 */
export function useBrowserStack(overrides: Partial<ConfigInput>, onStart: (r: Running) => void) {
  let r: Running | undefined;
  let browser: Browser | undefined;
  const pageErrors: Error[] = [];
  beforeAll(async () => {
    r = await startAll(overrides);
    onStart(r);
    browser = await launchBrowser();
  }, 60000);
  afterAll(async () => {
    expect(pageErrors).toEqual([]);
    await browser?.close();
    await r?.stop();
  });
  return {
    async newPage(options: BrowserContextOptions): Promise<Page> {
      const page = await (await browser!.newContext(options)).newPage();
      page.on("pageerror", (err) => pageErrors.push(err));
      page.setDefaultTimeout(8000);
      return page;
    },
  };
}

/** Signs the desk in as `jid`; resolves once the CTI knows it takes offers (it announced itself to the queues). */
export async function signInDesk(r: Running, page: Page, jid: string, password: string): Promise<void> {
  await page.goto(`http://127.0.0.1:${r.app.webPort}/agent/`);
  await page.getByLabel("JID").fill(jid);
  await page.getByLabel("Password").fill(password);
  await page.getByLabel("Password").press("Enter");
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  await until(() => r.app.cti.agent(jid), (a) => !!a?.offerJid, 5000, `${jid}'s desk takes offers`);
}

/** Clicks Ready; resolves once the CTI has the agent ready. */
export async function readyDesk(r: Running, page: Page, jid: string): Promise<void> {
  await page.getByRole("button", { name: "Ready", exact: true }).click();
  await until(() => r.app.cti.agent(jid), (a) => a?.state === "ready", 5000, `${jid} ready`);
}
