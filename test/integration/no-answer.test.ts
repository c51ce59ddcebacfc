/**
 * No answer, over real XMPP and the seat module: a seat that does not reply
 * to its customer in time loses it to another seat and, after maxNoAnswer
 * misses in a row, is set not ready with a message saying why. The seat
 * module reports the seat's first reply, which stops the clock.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { NS } from "../../protocol/names.js";
import { agentOnline, iq, startAll, until, type Running } from "../helpers/stack.js";
import { connectGuest, stopAll, waitFor, xmlFor } from "../helpers/xmpp.js";

let r: Running;
const open: Client[] = [];
beforeAll(async () => {
  r = await startAll({ queues: [{ name: "billing", title: "Billing", skills: ["billing"], firstResponseTimeout: 1, maxNoAnswer: 1 }] });
});
afterAll(async () => { await stopAll(...open); await r?.stop(); });

const sb = (name: string) => (s: Element) => s.is("message") && !!s.getChild(name, NS.SB);
const chat = (c: Client, to: string, body: string) => c.send(xmlFor(c)("message", { to, type: "chat" }, xmlFor(c)("body", {}, body)));

describe("a seat that does not answer", () => {
  it("loses the customer to another seat, is paused with the reason, and the answering seat keeps it", async () => {
    const bob = await agentOnline(r, "bob@acme.test"); // ready first: longest idle, gets the customer
    const alice = await agentOnline(r, "alice@acme.test");
    const customer = await connectGuest(r.config);
    open.push(bob, alice, customer);
    await iq(customer, "billing@cc.acme.test", "set", xmlFor(customer)("join-queue", { xmlns: NS.WG }));
    const first = (await waitFor(customer, sb("assigned"))).getChild("assigned", NS.SB)!.attrs;
    expect(first.seat).toBe("bob@acme.test");
    await chat(customer, "bob@acme.test", "Hello?");

    const lost = await waitFor(bob, (s) => s.getChild("ended", NS.SB)?.attrs.reason === "no-answer", 10_000);
    expect(lost.getChildText("body")).toMatch(/did not answer .* set not ready after 1 unanswered customers/);
    expect((await waitFor(customer, (s) => /did not answer in time/.test(s.getChildText("body") ?? ""))).attrs.from).toBe("billing@cc.acme.test");
    const second = (await waitFor(customer, sb("assigned"))).getChild("assigned", NS.SB)!.attrs;
    expect(second).toMatchObject({ session: first.session, seat: "alice@acme.test" });
    expect(await r.app.cti.agent("bob@acme.test")).toMatchObject({ state: "not-ready", reason: "No answer to 1 customer in a row" });

    // Bob's grant is gone; Alice answers and keeps the customer past the deadline.
    await chat(customer, "bob@acme.test", "Bob?");
    expect((await waitFor(customer, (s) => s.attrs.type === "error")).getChild("error")!.getChild("forbidden", NS.STANZAS)).toBeTruthy();
    await waitFor(alice, sb("begin"));
    await chat(alice, customer.jid!.toString(), "Hi, Alice here.");
    await until(() => r.app.cti.session(first.session!), (s) => s?.answeredAt !== null, 5000, "answered");
    const deadline = (await r.app.cti.session(first.session!))!.assignedAt! + 1000;
    await until(async () => Date.now(), (t) => t > deadline, 5000, "deadline passed"); // the behaviour is about time
    await r.app.cti.expire();
    expect(await r.app.cti.session(first.session!)).toMatchObject({ seat: "alice@acme.test" });

    // Writing "ready" to the component ends the pause.
    await chat(bob, "cc.acme.test", "ready");
    await waitFor(bob, (s) => /ready for the next customer/.test(s.getChildText("body") ?? ""));
    expect((await r.app.cti.agent("bob@acme.test"))?.state).toBe("ready");
  });
});
