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
/** A namespace the test clients answer with an empty result, standing in for file transfer, Jingle... */
const NS_TEST = "urn:example:switchboard-test";
const SUPERVISOR = { jid: "sam@acme.test", password: "sam-pw" }; // startTestStack's supervisor

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

/** Sends an iq get/set (or a result) with `NS_TEST`'s element; resolves to its id. */
async function sendIq(from: Client, to: string, type: "get" | "set" | "result" = "get") {
  const id = nextId("iq");
  const x = xmlFor(from);
  await from.send(type === "result" ? x("iq", { to, type, id }) : x("iq", { to, type, id }, x("q", { xmlns: NS_TEST })));
  return id;
}

const reply = (c: Client, name: "iq" | "presence", id: string) => waitFor(c, (s) => s.is(name) && s.attrs.id === id);

/** A refusal by the seat module: forbidden (cancel) from `from`, a fixed human text, nothing of the sender's echoed. */
function expectRefused(stanza: Element, from: string, text: RegExp) {
  expect(stanza.attrs.type).toBe("error");
  expect(stanza.attrs.from).toBe(from);
  expect(stanza.getChildElements().map((c) => c.name)).toEqual(["error"]);
  const e = stanza.getChild("error")!;
  expect(e.attrs.type).toBe("cancel");
  expect(e.getChild("forbidden", STANZAS)).toBeDefined();
  expect(e.getChildText("text", STANZAS)).toMatch(text);
}
const REQUEST_TEXT = /only accepts requests from the customer assigned.*billing@cc\.acme\.test/;
const PRESENCE_TEXT = /only shares presence with the customer assigned.*billing@cc\.acme\.test/;

/** What `seat` received from `other`'s bare JID (any resource), e.g. after a barrier. */
const receivedFrom = (seat: Client, other: Client) => received(seat).filter((s) => s.attrs.from?.split("/")[0] === bareJid(other));

/** Makes `c` answer iq get and set in `NS_TEST` with an empty result, as a client that supports the feature. */
function answersTestIqs(c: Client) {
  c.iqCallee.get(NS_TEST, "q", () => true);
  c.iqCallee.set(NS_TEST, "q", () => true);
}

async function supervisor(): Promise<Client> {
  const c = await connectAccount(stack.config, SUPERVISOR.jid, SUPERVISOR.password);
  opened.push(c);
  return c;
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
  answersTestIqs(alice);
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

  it("drops a stranger's chat states to a seat without a word, and explains a refused message once more as a plain chat message from the server", async () => {
    const stranger = await guest();
    await chat(stranger, "alice@acme.test"); // a chat state only: no error comes back
    const first = await chat(stranger, "alice@acme.test", "hello?");
    await expectBounce(stranger, first, "alice@acme.test");
    // Clients that show an error only as "delivery failed" still get the words, once per seat.
    const note = await waitFor(stranger, (s) => s.is("message") && s.attrs.from === "acme.test" && s.attrs.type === "chat");
    expect(note.getChildText("body")).toMatch(/^This agent only accepts messages from the customer assigned by the contact center\. To reach an agent, write to a queue such as billing@cc\.acme\.test\.$/);
    await chat(stranger, "alice@acme.test");
    const second = await chat(stranger, "alice@acme.test", "anyone?");
    await expectBounce(stranger, second, "alice@acme.test");
    await barrier(cc, stranger, fullJid(stranger), ccDomain());
    // Errors for the two messages only: the two chat states were dropped.
    expect(received(stranger).filter((s) => s.attrs.type === "error").map((s) => s.attrs.id)).toEqual([first, second]);
    expect(received(stranger).filter((s) => s.attrs.from === "acme.test" && s.is("message"))).toHaveLength(1);
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

  it("copies the granted customer's and the seat's messages with a body to the component as XEP-0297 forwards with <record/>, and nothing else", async () => {
    const customer = await guest();
    const stranger = await guest();
    const sam = await supervisor();
    await begin(alice, customer, "S-record");
    const copies = () => received(cc).filter((s) => s.is("message") && s.getChild("record", NS.SB)?.attrs.session === "S-record");
    const copied = (direction: string) => waitFor(cc, (s) => s.is("message") && s.getChild("record", NS.SB)?.attrs.session === "S-record" && s.getChild("record", NS.SB)?.attrs.direction === direction);
    const x = xmlFor(alice);

    await chat(customer, "alice@acme.test"); // a chat state: delivered, not copied
    const inId = await chat(customer, "alice@acme.test", "my invoice, please");
    const delivered = await waitFor(alice, isMessageFrom(fullJid(customer), inId));
    // The original, untouched but for the XEP-0359 id the seat's message archive (mod_mam) gives what it stores.
    expect(delivered.getChildElements().map((c) => c.name).filter((n) => n !== "stanza-id")).toEqual(["body"]);
    const copyIn = await copied("in");
    expect(copyIn.attrs).toMatchObject({ from: "acme.test", to: ccDomain() });
    expect(copyIn.getChild("record", NS.SB)!.attrs).toMatchObject({ session: "S-record", seat: "alice@acme.test", direction: "in" });
    const forwarded = copyIn.getChild("forwarded", NS.FORWARD)!;
    const stamp = forwarded.getChild("delay", NS.DELAY)!.attrs.stamp!;
    expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(stamp) - Date.now())).toBeLessThan(5000);
    const inner = forwarded.getChild("message")!;
    expect(inner.attrs).toMatchObject({ xmlns: "jabber:client", from: fullJid(customer), to: "alice@acme.test", id: inId, type: "chat" });
    expect(inner.getChildText("body")).toBe("my invoice, please");

    const outId = nextId("out");
    await alice.send(x("message", { to: fullJid(customer), type: "chat", id: outId }, x("body", {}, "Here it is.")));
    await waitFor(customer, isMessageFrom(fullJid(alice), outId));
    const copyOut = await copied("out");
    expect(copyOut.getChild("record", NS.SB)!.attrs).toMatchObject({ session: "S-record", seat: "alice@acme.test", direction: "out" });
    expect(copyOut.getChild("forwarded", NS.FORWARD)!.getChild("message")!.attrs).toMatchObject({ from: fullJid(alice), to: fullJid(customer), id: outId });

    // Not copied: a stranger's (refused), a supervisor's, an error from the customer; nothing after the end.
    await expectBounce(stranger, await chat(stranger, "alice@acme.test", "let me in"), "alice@acme.test");
    const fromSam = await chat(sam, "alice@acme.test", "how is it going?");
    await waitFor(alice, isMessageFrom(fullJid(sam), fromSam));
    const errorId = nextId("err");
    // To the full JID: Prosody delivers no error to a bare JID.
    await customer.send(xmlFor(customer)("message", { to: fullJid(alice), type: "error", id: errorId }, xmlFor(customer)("body", {}, "oops")));
    await waitFor(alice, isMessageFrom(fullJid(customer), errorId));
    await ended(alice, "S-record");
    await expectBounce(customer, await chat(customer, "alice@acme.test", "one more thing"), "alice@acme.test");
    const late = nextId("late");
    await alice.send(x("message", { to: fullJid(customer), type: "chat", id: late }, x("body", {}, "bye")));
    await waitFor(customer, isMessageFrom(fullJid(alice), late));
    await barrier(alice, cc, ccDomain()); // any copy of the above would be at cc by now
    expect(copies().map((s) => s.getChild("forwarded", NS.FORWARD)!.getChild("message")!.getChildText("body"))).toEqual(["my invoice, please", "Here it is."]);
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

  it("shows the granted customer the seat's presence while they talk (directed, its show only), and unavailable when the session ends", async () => {
    const customer = await guest();
    const fromAlice = (s: Element) => s.is("presence") && s.attrs.from === fullJid(alice);
    await begin(alice, customer, "S-presence");
    const online = await waitFor(customer, fromAlice);
    expect(online.attrs.type).toBeUndefined();
    await presence(alice, "away");
    expect((await waitFor(customer, (s) => fromAlice(s) && s.getChildText("show") === "away")).getChildText("status")).toBeNull();
    await presence(alice);
    await waitFor(customer, (s) => fromAlice(s) && !s.getChild("show") && s !== online);
    await ended(alice, "S-presence");
    await waitFor(customer, (s) => fromAlice(s) && s.attrs.type === "unavailable");
    // After the end, the seat's changes are its own business again.
    const before = received(customer).filter(fromAlice).length;
    await presence(alice, "dnd");
    await presence(alice);
    await barrier(alice, customer, fullJid(customer)); // the same path as alice's presence would take
    expect(received(customer).filter(fromAlice)).toHaveLength(before);
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

  it("refuses a guest's iq get to a seat's full JID with forbidden and a human text, and the seat's client receives nothing", async () => {
    const stranger = await guest();
    const id = await sendIq(stranger, fullJid(alice));
    expectRefused(await reply(stranger, "iq", id), fullJid(alice), REQUEST_TEXT);
    await barrier(cc, alice, fullJid(alice), ccDomain());
    expect(receivedFrom(alice, stranger)).toEqual([]);
  });

  it("drops a stranger's unsolicited iq result to a seat's full JID without delivering or answering it", async () => {
    const stranger = await guest();
    const result = await sendIq(stranger, fullJid(alice), "result");
    // Prosody handles the stranger's stanzas in order: a reply to the result would come before this refusal.
    const marker = await sendIq(stranger, fullJid(alice));
    await reply(stranger, "iq", marker);
    expect(received(stranger).filter((s) => s.attrs.id === result)).toEqual([]);
    await barrier(cc, alice, fullJid(alice), ccDomain());
    expect(receivedFrom(alice, stranger)).toEqual([]);
  });

  it("still delivers to a seat's client the answer to its own iq to someone who is not its customer", async () => {
    const other = await guest();
    answersTestIqs(other);
    const id = await sendIq(alice, fullJid(other));
    const answer = await reply(alice, "iq", id);
    expect(answer.attrs).toMatchObject({ type: "result", from: fullJid(other) });
  });

  it("lets the customer of a beginning message send iqs to the seat's client and get its answers", async () => {
    const customer = await guest();
    await begin(alice, customer, "S-iq");
    const id = await sendIq(customer, fullJid(alice), "set");
    await waitFor(alice, (s) => s.is("iq") && s.attrs.id === id && s.attrs.from === fullJid(customer));
    expect((await reply(customer, "iq", id)).attrs).toMatchObject({ type: "result", from: fullJid(alice) });
    await ended(alice, "S-iq");
  });

  it("lets a supervisor's iq reach a seat's client", async () => {
    const sam = await supervisor();
    const id = await sendIq(sam, fullJid(alice));
    await waitFor(alice, (s) => s.is("iq") && s.attrs.id === id && s.attrs.from === fullJid(sam));
    expect((await reply(sam, "iq", id)).attrs).toMatchObject({ type: "result", from: fullJid(alice) });
  });

  it("refuses a guest's presence subscription to a seat with a presence error, and the seat gets no subscription request", async () => {
    const stranger = await guest();
    const id = nextId("subscribe");
    await send(stranger, "presence", { to: "alice@acme.test", type: "subscribe", id });
    expectRefused(await reply(stranger, "presence", id), "alice@acme.test", PRESENCE_TEXT);
    await barrier(cc, alice, fullJid(alice), ccDomain());
    expect(receivedFrom(alice, stranger)).toEqual([]);
  });

  it("refuses a guest's directed presence to a seat's client with a presence error, and the client sees nothing", async () => {
    const stranger = await guest();
    const id = nextId("directed");
    await send(stranger, "presence", { to: fullJid(alice), id });
    expectRefused(await reply(stranger, "presence", id), fullJid(alice), PRESENCE_TEXT);
    await barrier(cc, alice, fullJid(alice), ccDomain());
    expect(receivedFrom(alice, stranger)).toEqual([]);
  });

  it("refuses a guest's presence probe of a seat, so the seat's presence is not revealed", async () => {
    const stranger = await guest();
    const id = nextId("probe");
    await send(stranger, "presence", { to: "alice@acme.test", type: "probe", id });
    expectRefused(await reply(stranger, "presence", id), "alice@acme.test", PRESENCE_TEXT);
    await barrier(alice, stranger, fullJid(stranger)); // anything alice's server sent the stranger is there by now
    expect(receivedFrom(stranger, alice).filter((s) => s.is("presence") && s.attrs.type !== "error")).toEqual([]);
  });

  it("lets the customer of a beginning message send directed presence to the seat's client", async () => {
    const customer = await guest();
    await begin(alice, customer, "S-presence");
    const id = nextId("directed");
    await send(customer, "presence", { to: fullJid(alice), id });
    const p = await waitFor(alice, (s) => s.is("presence") && s.attrs.id === id);
    expect(p.attrs.from).toBe(fullJid(customer));
    await ended(alice, "S-presence");
  });

  it("still passes a former customer's unavailable presence after its session ended, so the seat shows no ghost", async () => {
    const customer = await guest();
    await begin(alice, customer, "S-ghost");
    await send(customer, "presence", { to: fullJid(alice) });
    await waitFor(alice, (s) => s.is("presence") && s.attrs.from === fullJid(customer) && !s.attrs.type);
    await ended(alice, "S-ghost");
    const customerJid = fullJid(customer);
    await customer.stop(); // Prosody sends the seat its unavailable: the customer had sent it presence
    await waitFor(alice, (s) => s.is("presence") && s.attrs.from === customerJid && s.attrs.type === "unavailable");
  });

  it("applies a former customer's unsubscribe to the seat's roster without showing the seat the stanza", async () => {
    const customer = await guest();
    const customerBare = bareJid(customer);
    await begin(alice, customer, "S-roster");
    await send(customer, "presence", { to: "alice@acme.test", type: "subscribe" }); // granted: allowed
    await waitFor(alice, (s) => s.is("presence") && s.attrs.type === "subscribe" && s.attrs.from === customerBare);
    await send(alice, "presence", { to: customerBare, type: "subscribed" });
    const rosterItem = async () => {
      const id = nextId("roster");
      const x = xmlFor(alice);
      await alice.send(x("iq", { type: "get", id }, x("query", { xmlns: "jabber:iq:roster" })));
      const result = await reply(alice, "iq", id);
      return result.getChild("query")!.getChildren("item").find((i) => i.attrs.jid === customerBare)?.attrs.subscription;
    };
    expect(await rosterItem()).toBe("from"); // handled after alice's subscribed: same connection
    await ended(alice, "S-roster");
    await send(customer, "presence", { to: "alice@acme.test", type: "unsubscribe" });
    // The customer's stanzas are handled in order: once a refused one is answered, the unsubscribe was handled.
    const marker = await sendIq(customer, fullJid(alice));
    await reply(customer, "iq", marker);
    expect(await rosterItem()).toBe("none");
    await barrier(cc, alice, fullJid(alice), ccDomain());
    expect(receivedFrom(alice, customer).filter((s) => s.is("presence") && s.attrs.type === "unsubscribe")).toEqual([]);
  });

  it("lets a supervisor's presence subscription reach a seat", async () => {
    const sam = await supervisor();
    const id = nextId("subscribe");
    await send(sam, "presence", { to: "alice@acme.test", type: "subscribe", id });
    const request = await waitFor(alice, (s) => s.is("presence") && s.attrs.id === id);
    expect(request.attrs).toMatchObject({ type: "subscribe", from: bareJid(sam) });
  });

  it("lets another seat's directed presence reach a seat's client", async () => {
    const bob = await agent("bob@acme.test", "presence");
    const id = nextId("directed");
    await send(bob, "presence", { to: fullJid(alice), id });
    const p = await waitFor(alice, (s) => s.is("presence") && s.attrs.id === id);
    expect(p.attrs.from).toBe(fullJid(bob));
  });

  it("still shows an agent's resources each other's presence", async () => {
    const phone = await agent("alice@acme.test", "phone");
    await presence(phone, "away");
    await waitFor(alice, (s) => s.is("presence") && s.attrs.from === fullJid(phone) && s.getChildText("show") === "away");
    await waitFor(phone, (s) => s.is("presence") && s.attrs.from === fullJid(alice) && !s.attrs.type);
    const phoneJid = fullJid(phone);
    await phone.stop();
    await waitFor(alice, (s) => s.is("presence") && s.attrs.from === phoneJid && s.attrs.type === "unavailable");
  });

  it("refuses an anonymous visitor's message, iq, subscription and directed presence to an account that is no seat, which receives none of them", async () => {
    const sam = await supervisor();
    const stranger = await guest();
    const ids = [await chat(stranger, bareJid(sam), "hello"), await sendIq(stranger, fullJid(sam))];
    for (const [to, type] of [[bareJid(sam), "subscribe"], [fullJid(sam), undefined]] as const) {
      const id = nextId("presence");
      await send(stranger, "presence", { to, type, id });
      ids.push(id);
    }
    for (const id of ids) {
      const refusal = await waitFor(stranger, (s) => s.attrs.id === id);
      expectRefused(refusal, refusal.attrs.from!, /Visitors can write only to the contact center, such as billing@cc\.acme\.test/);
    }
    await barrier(cc, sam, fullJid(sam), ccDomain());
    expect(receivedFrom(sam, stranger)).toEqual([]);
  });

  it("lets an anonymous visitor reach its own server and the contact center", async () => {
    const visitor = await guest();
    const ping = nextId("ping");
    await send(visitor, "iq", { to: stack.config.guestDomain, type: "get", id: ping }, xmlFor(visitor)("ping", { xmlns: NS.PING }));
    expect((await reply(visitor, "iq", ping)).attrs.type).toBe("result");
    const id = await chat(visitor, `billing@${ccDomain()}`, "hi");
    await waitFor(cc, (s) => s.is("message") && s.attrs.id === id && s.attrs.from === fullJid(visitor));
  });

  it("logs no Lua errors or module warnings while doing all of the above", () => {
    const output = stack.prosodyOutput();
    expect(output).not.toMatch(/traceback|error in|switchboard/i);
  });
});
