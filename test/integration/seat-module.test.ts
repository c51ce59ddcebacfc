/**
 * prosody/mod_switchboard.lua against a real Prosody: a raw component stands
 * in for the CTI, so only the module's own behaviour is under test.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Component } from "@xmpp/component";
import type { Element } from "@xmpp/xml";
import { NS } from "../../protocol/names.js";
import { startTestStack, type TestStack } from "../../launcher/stack.js";
import { barrier, connectAccount, connectComponent, connectGuest, nextId, received, stopAll, waitFor, xmlFor, type Entity } from "../helpers/xmpp.js";

const AGENTS = [
  { jid: "alice@acme.test", password: "alice-pw", skills: ["billing"], maxChats: 1 },
  { jid: "bob@acme.test", password: "bob-pw", skills: ["billing"], maxChats: 2 },
  // One seat per presence test, so their announcements never interleave.
  { jid: "carol@acme.test", password: "carol-pw", skills: [], maxChats: 1 },
  { jid: "dave@acme.test", password: "dave-pw", skills: [], maxChats: 1 },
];
const STANZAS = NS.STANZAS;

let stack: TestStack;
let cc: Component;
let alice: Client;
const opened: Entity[] = [];

const ccDomain = () => stack.config.component.domain;
const fullJid = (c: Client) => c.jid!.toString();
const bareJid = (c: Client) => c.jid!.bare().toString();
const isMessageFrom = (from: string, id?: string) => (s: Element) => s.is("message") && s.attrs.from === from && (!id || s.attrs.id === id);

async function agent(jid: string, resource?: string): Promise<Client> {
  const a = AGENTS.find((x) => x.jid === jid)!;
  const c = await connectAccount(stack.config, a.jid, a.password, resource);
  opened.push(c);
  return c;
}

async function guest(): Promise<Client> {
  const c = await connectGuest(stack.config);
  opened.push(c);
  return c;
}

function send(from: Entity, name: string, attrs: Record<string, string | undefined>, ...children: Element[]) {
  return from.send(xmlFor(from)(name, attrs, ...children));
}

function chat(from: Client, to: string, body?: string) {
  const id = nextId("chat");
  const x = xmlFor(from);
  return from.send(x("message", { to, id, type: "chat" }, body === undefined ? x("composing", { xmlns: "http://jabber.org/protocol/chatstates" }) : x("body", {}, body))).then(() => id);
}

/** The component's beginning message for `customer` at `seat`, as the CTI sends it. */
async function begin(seat: Client, customer: Client, session: string) {
  const x = xmlFor(cc);
  await cc.send(
    x("message", { from: ccDomain(), to: bareJid(seat), id: nextId("begin") },
      x("body", {}, `New customer ${fullJid(customer)}`),
      x("begin", { xmlns: NS.SB, session, customer: fullJid(customer), queue: "billing" })),
  );
  await waitFor(seat, (s) => s.is("message") && s.getChild("begin", NS.SB)?.attrs.session === session);
}

async function ended(seat: Client, session: string) {
  const x = xmlFor(cc);
  await cc.send(x("message", { from: ccDomain(), to: bareJid(seat) }, x("ended", { xmlns: NS.SB, session })));
  await waitFor(seat, (s) => s.is("message") && s.getChild("ended", NS.SB)?.attrs.session === session);
}

async function expectBounce(sender: Client, id: string, seat: string) {
  const error = await waitFor(sender, (s) => s.is("message") && s.attrs.id === id);
  expect(error.attrs.type).toBe("error");
  expect(error.attrs.from).toBe(seat);
  const e = error.getChild("error")!;
  expect(e.attrs.type).toBe("cancel");
  expect(e.getChild("forbidden", STANZAS)).toBeDefined();
  expect(e.getChildText("text", STANZAS)).toMatch(/only accepts messages from the customer assigned.*billing@cc\.acme\.test/);
}

/** The next aggregate presence of `seat` at the component, as "unavailable", "online" or the show. */
async function nextAggregate(seat: string): Promise<string> {
  const p = await waitFor(cc, (s) => s.is("presence") && s.attrs.from === seat && s.attrs.type !== "probe");
  expect(p.attrs.to).toBe(ccDomain());
  return p.attrs.type === "unavailable" ? "unavailable" : p.getChildText("show") ?? "online";
}

function presence(c: Client, show?: string) {
  const x = xmlFor(c);
  return c.send(show ? x("presence", {}, x("show", {}, show)) : x("presence"));
}

beforeAll(async () => {
  stack = await startTestStack({ agents: AGENTS.map((a) => ({ ...a })) });
  cc = await connectComponent(stack.config);
  cc.iqCallee.set(NS.SB, "in-service", () => true);
  cc.iqCallee.set(NS.SB, "answered", () => true);
  cc.iqCallee.set(NS.SB, "end", () => true);
  alice = await agent("alice@acme.test");
  await presence(alice);
});

afterAll(async () => {
  await stopAll(...opened, cc);
  await stack?.stop();
});

describe("mod_switchboard", () => {
  it("bounces a stranger's message to a seat with forbidden and a human text, and the seat sees nothing", async () => {
    const stranger = await guest();
    const toBare = await chat(stranger, "alice@acme.test", "hello?");
    await expectBounce(stranger, toBare, "alice@acme.test");
    const toFull = await chat(stranger, fullJid(alice), "hello again?");
    await expectBounce(stranger, toFull, fullJid(alice));
    await barrier(cc, alice, fullJid(alice), ccDomain());
    expect(received(alice).filter((s) => s.attrs.from === fullJid(stranger))).toEqual([]);
  });

  it("lets the customer of a beginning message reach the seat and reports in-service from the host exactly once", async () => {
    const customer = await guest();
    await begin(alice, customer, "S-begin");
    await chat(customer, "alice@acme.test"); // a chat state: delivered, but not yet service
    await waitFor(alice, (s) => s.attrs.from === fullJid(customer) && !!s.getChild("composing"));
    const first = await chat(customer, "alice@acme.test", "my invoice");
    await waitFor(alice, isMessageFrom(fullJid(customer), first));
    const iq = await waitFor(cc, (s) => s.is("iq") && s.getChild("in-service", NS.SB)?.attrs.session === "S-begin");
    expect(iq.attrs).toMatchObject({ type: "set", from: "acme.test", to: ccDomain() });
    expect(iq.getChild("in-service", NS.SB)!.attrs.seat).toBe("alice@acme.test");

    const second = await chat(customer, fullJid(alice), "still there?");
    await waitFor(alice, isMessageFrom(fullJid(customer), second));
    await barrier(alice, cc, ccDomain()); // anything the second message caused is at cc by now
    const inService = received(cc).filter((s) => s.getChild("in-service", NS.SB)?.attrs.session === "S-begin");
    expect(inService).toHaveLength(1);
  });

  it("reports the seat's first reply before what the seat sends next (its <end/> in the same breath)", async () => {
    const customer = await guest();
    await begin(alice, customer, "S-order");
    const x = xmlFor(alice);
    // Both in one tick, so Prosody reads them together: module:send_iq would have sent the report after the <end/>.
    const reply = alice.send(x("message", { to: fullJid(customer), type: "chat" }, x("body", {}, "Hello, how can I help?")));
    const end = alice.send(x("iq", { to: ccDomain(), type: "set", id: nextId("end") }, x("end", { xmlns: NS.SB, session: "S-order" })));
    await Promise.all([reply, end]);
    await waitFor(cc, (s) => s.is("iq") && s.getChild("end", NS.SB)?.attrs.session === "S-order");
    const order = received(cc).filter((s) => s.is("iq") && s.getChildElements().some((c) => c.attrs.session === "S-order")).map((s) => s.getChildElements()[0]!.name);
    expect(order).toEqual(["answered", "end"]);
  });

  it("always lets staff reach a seat: another agent, the component domain and a queue JID on it", async () => {
    const bob = await agent("bob@acme.test");
    const fromBob = await chat(bob, "alice@acme.test", "lunch?");
    await waitFor(alice, isMessageFrom(fullJid(bob), fromBob));
    for (const from of [ccDomain(), `billing@${ccDomain()}`]) {
      const id = nextId("staff");
      await send(cc, "message", { from, to: "alice@acme.test", id, type: "chat" }, xmlFor(cc)("body", {}, "from the CTI"));
      await waitFor(alice, isMessageFrom(from, id));
    }
    await barrier(alice, bob, fullJid(bob));
    expect(received(bob).filter((s) => s.attrs.type === "error")).toEqual([]);
  });

  it("bounces the customer's next message again once the session has ended", async () => {
    const customer = await guest();
    await begin(alice, customer, "S-ended");
    const before = await chat(customer, "alice@acme.test", "hi");
    await waitFor(alice, isMessageFrom(fullJid(customer), before));
    await ended(alice, "S-ended");
    const after = await chat(customer, "alice@acme.test", "one more thing");
    await expectBounce(customer, after, "alice@acme.test");
    await barrier(cc, alice, fullJid(alice), ccDomain());
    expect(received(alice).filter((s) => s.attrs.id === after)).toEqual([]);
  });

  it("reports a seat's presence to the component as the aggregate over its resources", async () => {
    const seat = "carol@acme.test";
    const c1 = await agent(seat, "desk");
    await presence(c1);
    expect(await nextAggregate(seat)).toBe("online");
    await presence(c1, "away");
    expect(await nextAggregate(seat)).toBe("away");
    await presence(c1, "dnd");
    expect(await nextAggregate(seat)).toBe("dnd");
    const c2 = await agent(seat, "phone");
    await presence(c2, "chat");
    expect(await nextAggregate(seat)).toBe("chat");
    await presence(c2, "xa"); // dnd + xa: xa is the more available
    expect(await nextAggregate(seat)).toBe("xa");
    await c2.stop();
    expect(await nextAggregate(seat)).toBe("dnd");
    await presence(c1);
    expect(await nextAggregate(seat)).toBe("online");
    await c1.stop();
    expect(await nextAggregate(seat)).toBe("unavailable");
  });

  it("answers the component's probe with the seat's current aggregate presence", async () => {
    const seat = "dave@acme.test";
    const probe = () => send(cc, "presence", { from: ccDomain(), to: seat, type: "probe" });
    await probe();
    expect(await nextAggregate(seat)).toBe("unavailable");
    const d = await agent(seat);
    await presence(d, "xa");
    expect(await nextAggregate(seat)).toBe("xa");
    await probe();
    expect(await nextAggregate(seat)).toBe("xa");
    await d.stop();
    expect(await nextAggregate(seat)).toBe("unavailable");
  });

  it("tells the component when a guest that wrote to a queue disconnects, with an unavailable presence from its full JID", async () => {
    const silent = await guest(); // never contacts the contact center
    const silentJid = fullJid(silent);
    await silent.stop();
    const customer = await guest();
    const customerJid = fullJid(customer);
    const id = await chat(customer, `billing@${ccDomain()}`, "I need help with an invoice");
    await waitFor(cc, isMessageFrom(customerJid, id));
    await customer.stop();
    const gone = await waitFor(cc, (s) => s.is("presence") && s.attrs.from === customerJid);
    expect(gone.attrs).toMatchObject({ type: "unavailable", to: ccDomain() });
    // The silent guest left well before the customer even connected.
    expect(received(cc).filter((s) => s.attrs.from === silentJid)).toEqual([]);
  });

  it("logs no Lua errors or module warnings while doing all of the above", () => {
    const output = stack.prosodyOutput();
    expect(output).not.toMatch(/traceback|error in|switchboard/i);
  });
});
