/**
 * Communication recording (issue 12): the seat module copies every chat message with a body between a
 * granted customer and its seat to the component (XEP-0297 forward + <record/>), which appends a `message`
 * event to the log. Real Prosody, Redis and component; plain-chat customers and agents on real connections.
 */
import { describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { NS } from "../../protocol/names.js";
import { parseEvent } from "../../cti/redis/events.js";
import type { CtiEvent } from "../../cti/types.js";
import { BILLING, CC, iq, until, useStack, type Running } from "../helpers/stack.js";
import { connectAccount, nextId, waitFor, xmlFor } from "../helpers/xmpp.js";

type MessageEvent = Extract<CtiEvent, { type: "message" }>;

let r: Running;
const { track, guest, agent } = useStack({ customerGraceSeconds: 0 }, (running) => { r = running; });

const bare = (c: Client) => c.jid!.bare().toString();
const chat = async (c: Client, to: string, body: string) => {
  const id = nextId("m");
  await c.send(xmlFor(c)("message", { to, type: "chat", id }, xmlFor(c)("body", {}, body)));
  return id;
};
const withBody = (body: string) => (s: Element) => s.is("message") && s.getChildText("body") === body;

/** Every `message` event in the log, read back as the notifier and the recorder read events. */
async function recorded(): Promise<MessageEvent[]> {
  const entries = (await r.app.redis.xrange(r.app.store.keys.events(), "-", "+")) as Array<[string, string[]]>;
  return entries.map(([, fields]) => parseEvent(fields)).filter((e): e is MessageEvent => e.type === "message");
}

/** Waits until a message with this body is recorded, and returns it. */
async function recordedBody(body: string): Promise<MessageEvent> {
  const all = await until(recorded, (es) => es.some((e) => e.body === body), 5000, `recorded "${body.slice(0, 40)}"`);
  return all.find((e) => e.body === body)!;
}

/** A plain-chat customer (an anonymous visitor writing to the queue) served by an agent: the session id and the seat's client. */
async function served(customer: Client, seats: Record<string, Client>): Promise<{ session: string; seat: Client; seatJid: string }> {
  await chat(customer, BILLING, "Hello, I need help with an invoice");
  const assigned = (await waitFor(customer, (s) => s.is("message") && !!s.getChild("assigned", NS.SB))).getChild("assigned", NS.SB)!;
  const seatJid = assigned.attrs.seat!;
  const seat = seats[seatJid]!;
  await waitFor(seat, (s) => s.is("message") && s.getChild("begin", NS.SB)?.attrs.session === assigned.attrs.session);
  return { session: assigned.attrs.session!, seat, seatJid };
}

describe("the recording tap", () => {
  it("records the customer's and the seat's messages, in and out, with session, seat, sender, body and time, and delivers them unchanged", async () => {
    const alice = await agent("alice@acme.test");
    const customer = await guest();
    const { session } = await served(customer, { "alice@acme.test": alice });
    const before = Date.now();

    const question = `Where is invoice 42? ${nextId()}`;
    await chat(customer, "alice@acme.test", question);
    const delivered = await waitFor(alice, withBody(question));
    expect(delivered.attrs.from).toBe(customer.jid!.toString());
    expect(delivered.getChild("record", NS.SB)).toBeUndefined();
    expect(delivered.getChild("forwarded", NS.FORWARD)).toBeUndefined();

    const answer = `Let me look. ${nextId()}`;
    await chat(alice, customer.jid!.toString(), answer);
    const replied = await waitFor(customer, withBody(answer));
    expect(replied.attrs.from).toBe(alice.jid!.toString());
    expect(replied.getChild("forwarded", NS.FORWARD)).toBeUndefined();

    const incoming = await recordedBody(question);
    expect(incoming).toMatchObject({ type: "message", session, seat: "alice@acme.test", sender: bare(customer), direction: "in", body: question });
    const outgoing = await recordedBody(answer);
    expect(outgoing).toMatchObject({ type: "message", session, seat: "alice@acme.test", sender: "alice@acme.test", direction: "out", body: answer });
    for (const e of [incoming, outgoing]) {
      expect(e.at).toBeGreaterThanOrEqual(before - 1000); // Prosody's stamp has whole seconds
      expect(e.at).toBeLessThanOrEqual(Date.now());
    }
    expect(outgoing.at).toBeGreaterThanOrEqual(incoming.at);
  });

  it("does not record a stranger's refused message, a supervisor's message, nor messages without a body", async () => {
    const alice = await agent("alice@acme.test");
    const customer = await guest();
    const stranger = await guest();
    const sam = track(await connectAccount(r.config, "sam@acme.test", "sam-pw"));
    await served(customer, { "alice@acme.test": alice });

    const refused = `let me in ${nextId()}`;
    const refusedId = await chat(stranger, "alice@acme.test", refused);
    expect((await waitFor(stranger, (s) => s.attrs.id === refusedId)).attrs.type).toBe("error");
    const note = `supervisor here ${nextId()}`;
    await chat(sam, "alice@acme.test", note);
    await waitFor(alice, withBody(note)); // delivered, as staff's messages are
    const x = xmlFor(customer);
    await customer.send(x("message", { to: "alice@acme.test", type: "chat" }, x("composing", { xmlns: "http://jabber.org/protocol/chatstates" })));

    // The seat module sends copies in the order the messages passed, and the component stores them in order:
    // once a later legitimate message is recorded, the earlier ones would have been too.
    const marker = `marker ${nextId()}`;
    await chat(customer, "alice@acme.test", marker);
    const all = await until(recorded, (es) => es.some((e) => e.body === marker), 5000, "marker recorded");
    expect(all.filter((e) => e.body === refused || e.body === note)).toEqual([]);
    expect(all.filter((e) => e.sender === bare(stranger) || e.sender === "sam@acme.test")).toEqual([]);
    expect(all.filter((e) => e.body === "")).toEqual([]);
  });

  it("does not record messages after the session ended", async () => {
    const alice = await agent("alice@acme.test");
    const bob = await agent("bob@acme.test");
    const seats = { "alice@acme.test": alice, "bob@acme.test": bob };
    const first = await guest();
    const { session, seat, seatJid } = await served(first, seats);
    const during = `during ${nextId()}`;
    await chat(first, seatJid, during);
    await recordedBody(during);

    const reply = await iq(seat, CC, "set", xmlFor(seat)("end", { xmlns: NS.SB, session }));
    expect(reply.attrs.type).toBe("result");
    await waitFor(seat, (s) => s.is("message") && s.getChild("ended", NS.SB)?.attrs.session === session); // the grant is withdrawn on its way
    const late = `after the end ${nextId()}`;
    const lateId = await chat(first, seatJid, late);
    expect((await waitFor(first, (s) => s.attrs.id === lateId)).attrs.type).toBe("error");
    const lateSeat = `seat after the end ${nextId()}`;
    await chat(seat, first.jid!.toString(), lateSeat);
    await waitFor(first, withBody(lateSeat)); // a seat may still write to anyone; it is just not a session's message

    // Another session's message, recorded after these passed.
    const second = await guest();
    const other = await served(second, seats);
    const marker = `marker ${nextId()}`;
    await chat(second, other.seatJid, marker);
    const all = await until(recorded, (es) => es.some((e) => e.body === marker), 5000, "marker recorded");
    expect(all.filter((e) => e.body === late || e.body === lateSeat)).toEqual([]);
    expect(all.filter((e) => e.session === session).map((e) => e.body)).toEqual([during]);
  });

  it("records a 20,000-character body cut to 10,000 characters, and delivers it whole", async () => {
    const alice = await agent("alice@acme.test");
    const customer = await guest();
    const { session } = await served(customer, { "alice@acme.test": alice });
    const tag = nextId("long");
    const long = `${tag} ${"x".repeat(20_000 - tag.length - 1)}`;
    expect(long.length).toBe(20_000);
    await chat(customer, "alice@acme.test", long);
    expect((await waitFor(alice, withBody(long))).getChildText("body")!.length).toBe(20_000);
    const all = await until(recorded, (es) => es.some((e) => e.body.startsWith(tag)), 5000, "long message recorded");
    const e = all.find((x) => x.body.startsWith(tag))!;
    expect(e.session).toBe(session);
    expect(e.body.length).toBe(10_000);
    expect(e.body).toBe(long.slice(0, 10_000));
  });

  it("refuses a forged copy sent by a client, and records nothing of it", async () => {
    const alice = await agent("alice@acme.test");
    const customer = await guest();
    const { session } = await served(customer, { "alice@acme.test": alice });
    const forged = `forged ${nextId()}`;
    for (const forger of [customer, alice]) {
      const x = xmlFor(forger);
      const id = nextId("forged");
      await forger.send(x("message", { to: CC, id },
        x("record", { xmlns: NS.SB, session, seat: "alice@acme.test", direction: "in" }),
        x("forwarded", { xmlns: NS.FORWARD },
          x("delay", { xmlns: NS.DELAY, stamp: new Date().toISOString() }),
          x("message", { xmlns: "jabber:client", from: customer.jid!.toString(), to: "alice@acme.test", type: "chat" }, x("body", {}, forged)))));
      const error = await waitFor(forger, (s) => s.attrs.id === id);
      expect(error.attrs.type).toBe("error");
      expect(error.getChild("error")!.getChild("forbidden", NS.STANZAS)).toBeDefined();
      expect(error.getChild("error")!.getChildText("text", NS.STANZAS)).toBe("Only the server records messages.");
    }
    // Refused before anything is stored (the error above comes after the handler); checked after a real one too.
    const marker = `marker ${nextId()}`;
    await chat(customer, "alice@acme.test", marker);
    const all = await until(recorded, (es) => es.some((e) => e.body === marker), 5000, "marker recorded");
    expect(all.filter((e) => e.body === forged)).toEqual([]);
  });
});
