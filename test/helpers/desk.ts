/** The agent desk in a browser test: signing in and going ready, as an agent does it. */
import type { Page } from "playwright-core";
import { until, type Running } from "./stack.js";

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
