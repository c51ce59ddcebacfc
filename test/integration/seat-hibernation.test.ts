/**
 * Stream management (XEP-0198, Prosody's mod_smacks) and the seat (issue 15): an agent whose connection drops
 * without closing its stream "hibernates". The seat module reports it not ready at once (no new customer),
 * its granted customer keeps writing and the messages wait for the agent's client to resume; if it never
 * does, the agent goes offline after the hibernation time and its sessions end as seat-offline.
 * Real Prosody, Redis and component; the agent's TCP socket is destroyed, as a lost network would.
 */
import { describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { NS } from "../../protocol/names.js";
import { BILLING, iq, until, useStack, type Running } from "../helpers/stack.js";
import { connectAccount, waitFor, xmlFor } from "../helpers/xmpp.js";

const RESUME_SECONDS = 3; // short, so the expiry is seen in the test; the default is 60 (docs/clients.md)
let r: Running;
const { track, guest, agent } = useStack({ customerGraceSeconds: 0, xmpp: { resumeSeconds: RESUME_SECONDS } }, (running) => { r = running; });

const is = (name: string, ns: string) => (s: Element) => s.is("message") && !!s.getChild(name, ns);
const chat = (c: Client, to: string, body: string) => c.send(xmlFor(c)("message", { to, type: "chat" }, xmlFor(c)("body", {}, body)));
const bodyIs = (body: string) => (s: Element) => s.is("message") && s.getChildText("body") === body;
const agentState = (jid: string) => () => r.app.cti.agent(jid);

/** A customer in the billing queue, assigned to and greeted by `seat`; returns the session id. */
async function served(customer: Client, seat: Client): Promise<string> {
  const joined = await iq(customer, BILLING, "set", xmlFor(customer)("join-queue", { xmlns: NS.WG }, xmlFor(customer)("queue-notifications")));
  expect(joined.attrs.type).toBe("result");
  const session = (await waitFor(customer, is("assigned", NS.SB))).getChild("assigned", NS.SB)!.attrs.session!;
  await waitFor(seat, (s) => is("begin", NS.SB)(s) && s.getChild("begin", NS.SB)!.attrs.session === session);
  await chat(customer, seat.jid!.bare().toString(), `hello ${session}`);
  await waitFor(seat, bodyIs(`hello ${session}`));
  return session;
}

/** Drops the client's TCP connection without closing the stream (a lost network); resolves once it knows. */
async function dropConnection(c: Client): Promise<void> {
  const gone = new Promise((resolve) => c.once("disconnect", resolve));
  (c as unknown as { socket: { destroy(): void } }).socket.destroy();
  await gone;
}

describe("a seat whose connection drops (stream management)", () => {
  it("is not ready while it hibernates, keeps its customer, whose messages arrive on resumption, and is ready again", async () => {
    const bob = await agent("bob@acme.test"); // maxChats 2: a free place stays while it hibernates
    const first = await guest();
    const session = await served(first, bob);
    expect(bob.streamManagement?.enabled).toBe(true);

    const dropped = Date.now();
    await dropConnection(bob);
    const hibernating = await until(agentState("bob@acme.test"), (a) => a?.state === "not-ready", 2000, "bob not ready");
    expect(Date.now() - dropped).toBeLessThan(2000);
    expect(hibernating!.reason).toBe("The agent's connection dropped: waiting for it to resume.");
    expect((await r.app.cti.session(session))?.state).toBe("in-service"); // the session goes on

    // The granted customer may still write (no bounce); a new customer is not given to bob meanwhile.
    await chat(first, "bob@acme.test", "are you still there?");
    const second = await guest();
    const joined = await iq(second, BILLING, "set", xmlFor(second)("join-queue", { xmlns: NS.WG }, xmlFor(second)("queue-notifications")));
    expect(joined.attrs.type).toBe("result");
    const waiting = joined.getChild("session", NS.SB)!.attrs.id!;
    expect((await r.app.cti.session(waiting))?.state).toBe("queued"); // the join allocates at once: no seat

    // The agent's client resumes its stream: the held message arrives, and bob is ready again.
    const resumed = new Promise<void>((resolve) => bob.streamManagement!.once("resumed", resolve));
    await bob.reconnect.reconnect();
    await resumed;
    const held = await waitFor(bob, bodyIs("are you still there?"));
    expect(held.attrs.from).toBe(first.jid!.toString());
    expect(held.getChild("delay", "urn:xmpp:delay")).toBeTruthy(); // queued by the server while it hibernated
    await until(agentState("bob@acme.test"), (a) => a?.state === "ready", 5000, "bob ready again");
    // The waiting customer now gets bob's free place.
    expect((await waitFor(second, is("assigned", NS.SB))).getChild("assigned", NS.SB)!.attrs.seat).toBe("bob@acme.test");
    expect((await r.app.cti.session(session))?.state).toBe("in-service");
  });

  it("counts the agent's other, live client alone while one hibernates, and both again once it resumes", async () => {
    const desk = await agent("bob@acme.test"); // ready
    const phone = track(await connectAccount(r.config, "bob@acme.test", "bob-pw", "phone"));
    const xp = xmlFor(phone);
    await phone.send(xp("presence", {}, xp("show", {}, "away"), xp("status", {}, "Lunch")));
    await waitFor(desk, (s) => s.is("presence") && s.attrs.from === phone.jid!.toString()); // the server has it
    expect((await r.app.cti.agent("bob@acme.test"))?.state).toBe("ready"); // the desk is the more available

    await dropConnection(desk);
    // The hibernating desk no longer counts: the phone's away (and its reason) is the agent's state.
    await until(agentState("bob@acme.test"), (a) => a?.state === "not-ready" && a.reason === "Lunch", 2000, "bob not ready for lunch");
    const resumed = new Promise<void>((resolve) => desk.streamManagement!.once("resumed", resolve));
    await desk.reconnect.reconnect();
    await resumed;
    await until(agentState("bob@acme.test"), (a) => a?.state === "ready", 5000, "bob ready again");
  });

  it("goes offline after the hibernation time when it does not resume, and its sessions end as seat-offline", async () => {
    const alice = await agent("alice@acme.test");
    const customer = await guest();
    const session = await served(customer, alice);
    await dropConnection(alice);
    await until(agentState("alice@acme.test"), (a) => a?.state === "not-ready", 2000, "alice not ready");
    const dropped = Date.now();
    const ended = await waitFor(customer, is("ended", NS.SB), (RESUME_SECONDS + 5) * 1000);
    expect(ended.getChild("ended", NS.SB)!.attrs.session).toBe(session);
    expect(Date.now() - dropped).toBeGreaterThanOrEqual((RESUME_SECONDS - 1) * 1000);
    expect((await r.app.cti.agent("alice@acme.test"))?.state).toBe("offline");
    expect((await r.app.cti.session(session))).toMatchObject({ state: "ended", endReason: "seat-offline" });
  });
});
