/**
 * Quality monitoring as the agent desk (/agent/, Debian's Chromium) shows it: a supervisor's whisper is marked
 * as a whisper in the customer's chat, and the customer never gets it; a barge shows in that chat too.
 * The customer page (/chat/) shows a barging supervisor joining and writing. The supervisor is a plain XMPP client.
 */
import { afterAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Page } from "playwright-core";
import { NS, SB } from "../../protocol/names.js";
import { readyDesk, signInDesk, useBrowserStack } from "../helpers/desk.js";
import { agentOnline, iq, type Running } from "../helpers/stack.js";
import { connectAccount, connectGuest, received, stopAll, waitFor, xmlFor } from "../helpers/xmpp.js";

const CC = "cc.acme.test";
let r: Running;
const clients: Client[] = [];
afterAll(async () => { await stopAll(...clients); }); // before the stack's own afterAll stops Prosody
const { newPage } = useBrowserStack({ queues: [{ name: "billing", title: "Billing", skills: ["billing"], allowGuests: true }] }, (running) => { r = running; });

/** Alice's desk, signed in and ready. */
async function signIn(page: Page): Promise<void> {
  await signInDesk(r, page, "alice@acme.test", "alice-pw");
  await readyDesk(r, page, "alice@acme.test");
}

describe("the desk and the customer page under quality monitoring", () => {
  it("marks a whisper in the customer's chat, which the customer never gets, and shows a barge there", async () => {
    const page = await newPage({ viewport: { width: 1280, height: 800 } });
    await signIn(page);

    const ann = await connectGuest(r.config);
    clients.push(ann);
    const x = xmlFor(ann);
    const joined = await iq(ann, `billing@${CC}`, "set", x("join-queue", { xmlns: NS.WG },
      x("x", { xmlns: NS.DATA, type: "submit" }, x("field", { var: "name" }, x("value", {}, "Ann Example")))));
    const session = joined.getChild(SB.session, NS.SB)!.attrs.id!;
    await page.getByRole("article", { name: "Ann Example" }).getByRole("button", { name: "Accept" }).click();
    await waitFor(ann, (s) => !!s.getChild(SB.assigned, NS.SB), 10000, "assigned");
    await page.getByRole("tab", { name: /Ann Example/ }).waitFor();
    const panel = page.getByRole("tabpanel");

    const sam = await connectAccount(r.config, "sam@acme.test", "sam-pw");
    clients.push(sam);
    const s = xmlFor(sam);
    expect((await iq(sam, CC, "set", s("whisper", { xmlns: NS.SB, session }, "Offer the loyalty discount"))).attrs.type).toBe("result");
    await panel.getByText("Whisper from sam@acme.test (only you see this): Offer the loyalty discount").waitFor();
    expect(await page.getByRole("tab").count()).toBe(1); // no staff tab: it is in Ann's chat

    expect((await iq(sam, CC, "set", s("barge", { xmlns: NS.SB, session }))).attrs.type).toBe("result");
    await waitFor(ann, (m) => m.getChildText("body") === "Sam (supervisor) has joined the conversation.");
    await panel.getByText("Sam (supervisor) has joined your conversation with").waitFor();
    expect(received(ann).some((m) => (m.getChildText("body") ?? "").includes("loyalty"))).toBe(false);
  }, 30000);

  it("shows the customer on the page the supervisor joining and writing; the supervisor sees the customer's reply", async () => {
    // Alice's desk is busy with Ann (capacity 1): this customer goes to Bob, a plain client.
    const bob = await agentOnline(r, "bob@acme.test");
    clients.push(bob);
    const page = await newPage({ viewport: { width: 900, height: 820 } });
    await page.goto(`http://127.0.0.1:${r.app.webPort}/chat/?queue=billing`);
    await page.locator("#prechat").getByLabel("Name").fill("Carl");
    await page.locator("#prechat").getByLabel("Subject").fill("Refund");
    await page.getByRole("button", { name: "Start chat" }).click();
    const begin = (await waitFor(bob, (m) => !!m.getChild(SB.begin, NS.SB), 10000, "begin")).getChild(SB.begin, NS.SB)!;
    await page.getByText("Bob will help you now.").waitFor();

    const sam = await connectAccount(r.config, "sam@acme.test", "sam-pw", "console");
    clients.push(sam);
    const s = xmlFor(sam);
    await sam.send(s("presence"));
    await waitFor(sam, (m) => m.is("presence") && m.attrs.from === sam.jid!.toString());
    expect((await iq(sam, CC, "set", s("barge", { xmlns: NS.SB, session: begin.attrs.session! }))).attrs.type).toBe("result");
    await page.getByText("Sam (supervisor) has joined the conversation.").waitFor();
    await sam.send(s("message", { to: CC, type: "chat" }, s("body", {}, "I can approve the refund today.")));
    await page.getByText("Sam (supervisor): I can approve the refund today.").waitFor();

    const message = page.getByRole("textbox", { name: "Message", exact: true });
    await message.fill("Great, thank you!");
    await message.press("Enter");
    await waitFor(bob, (m) => m.getChildText("body") === "Great, thank you!");
    const copy = await waitFor(sam, (m) => !!m.getChild("monitored", NS.SB) && m.getChild("forwarded", NS.FORWARD)?.getChild("message")?.getChildText("body") === "Great, thank you!");
    expect(copy.getChild("monitored", NS.SB)!.attrs).toMatchObject({ session: begin.attrs.session, seat: "bob@acme.test", direction: "in" });
  }, 30000);
});
