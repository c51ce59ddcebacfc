/**
 * Quality monitoring of chats (issue 13): a supervisor monitors a live chat silently, whispers to the agent and
 * barges in, through the iq API (the console's) and through XEP-0050 ad-hoc commands from a plain client. The
 * seat module alone gives copies, and only on the component's grant. Real Prosody, Redis and component; the
 * test's customer (an anonymous visitor on a plain chat), agent and supervisor on real connections, and what
 * each of the three receives is asserted.
 */
import { describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { NS } from "../../protocol/names.js";
import { parseEvent } from "../../cti/redis/events.js";
import type { CtiEvent } from "../../cti/types.js";
import { BILLING, CC, command, errorOf, iq, until, useStack, type Running } from "../helpers/stack.js";
import { barrier, connectAccount, nextId, received, waitFor, xmlFor } from "../helpers/xmpp.js";

type MessageEvent = Extract<CtiEvent, { type: "message" }>;
type AuditEvent = Extract<CtiEvent, { type: "audit" }>;

let r: Running;
const { track, guest, agent } = useStack({ customerGraceSeconds: 0 }, (running) => { r = running; });
const SAM = "sam@acme.test";
const ALICE = "alice@acme.test";
/** The supervisor on a plain client, available (so that messages to its bare JID reach it). */
const supervisor = async () => {
  const c = track(await connectAccount(r.config, SAM, "sam-pw"));
  await c.send(xmlFor(c)("presence"));
  await waitFor(c, (s) => s.is("presence") && s.attrs.from === c.jid!.toString()); // the server's echo: available now
  return c;
};

const chat = async (c: Client, to: string, body: string) => {
  await c.send(xmlFor(c)("message", { to, type: "chat", id: nextId("m") }, xmlFor(c)("body", {}, body)));
};
const withBody = (body: string) => (s: Element) => s.is("message") && s.getChildText("body") === body;
/** A copy of a monitored message: from the server, marked <monitored/>, the original forwarded inside. */
const copyOf = (body: string) => (s: Element) => s.is("message") && !!s.getChild("monitored", NS.SB)
  && s.getChild("forwarded", NS.FORWARD)?.getChild("message")?.getChildText("body") === body;
/** Anything about monitoring a party must never see. */
const MARKS = ["monitor", "unmonitor", "monitored", "unmonitored", "whisper"] as const;
const marked = (s: Element) => MARKS.some((m) => !!s.getChild(m, NS.SB)) || !!s.getChild("forwarded", NS.FORWARD);
/** The bodies of the messages a client received after the first `from` stanzas. */
const bodiesSince = (c: Client, from: number) => received(c).slice(from).filter((s) => s.is("message") && s.getChildText("body")).map((s) => s.getChildText("body"));

async function events(): Promise<CtiEvent[]> {
  const entries = (await r.app.redis.xrange(r.app.store.keys.events(), "-", "+")) as Array<[string, string[]]>;
  return entries.map(([, fields]) => parseEvent(fields));
}
/** Waits until the session's transcript (supervisor lines) holds this body. */
const supervisorLine = async (session: string, body: string | RegExp) => {
  const match = (e: CtiEvent): e is MessageEvent => e.type === "message" && e.session === session && e.direction === "supervisor"
    && (typeof body === "string" ? e.body === body : body.test(e.body));
  return (await until(events, (es) => es.some(match), 5000, `transcript "${String(body)}"`)).find(match)!;
};
const auditOf = async (action: string, target: string) => {
  const match = (e: CtiEvent): e is AuditEvent => e.type === "audit" && e.action === action && e.target === target;
  return (await until(events, (es) => es.some(match), 5000, `audit ${action} ${target}`)).find(match)!;
};

/** The test's customer writes to the queue and is served by alice: the session id. */
async function served(customer: Client, alice: Client): Promise<string> {
  await chat(customer, BILLING, "Hello, I need help with an invoice");
  const assigned = (await waitFor(customer, (s) => s.is("message") && !!s.getChild("assigned", NS.SB))).getChild("assigned", NS.SB)!;
  expect(assigned.attrs.seat).toBe(ALICE);
  const session = assigned.attrs.session!;
  await waitFor(alice, (s) => s.is("message") && s.getChild("begin", NS.SB)?.attrs.session === session);
  return session;
}

const sbIq = (c: Client, name: string, attrs: Record<string, string>, text?: string) =>
  iq(c, CC, "set", xmlFor(c)(name, { xmlns: NS.SB, ...attrs }, text));

describe("quality monitoring", () => {
  it("silent: the supervisor gets copies of both sides as they pass; the customer and the agent get nothing new", async () => {
    const alice = await agent(ALICE);
    const customer = await guest();
    const sam = await supervisor();
    const session = await served(customer, alice);
    const [aliceMark, customerMark] = [received(alice).length, received(customer).length];

    expect((await sbIq(sam, "monitor", { session, mode: "silent" })).attrs.type).toBe("result");
    const question = `Where is invoice 42? ${nextId()}`;
    await chat(customer, ALICE, question);
    expect((await waitFor(alice, withBody(question))).attrs.from).toBe(customer.jid!.toString());
    const inCopy = await waitFor(sam, copyOf(question));
    expect(inCopy.attrs.from).toBe(r.config.domain);
    expect(inCopy.getChild("monitored", NS.SB)!.attrs).toMatchObject({ session, seat: ALICE, direction: "in" });
    expect(inCopy.getChildText("body")).toBe(`[${session}] ${customer.jid!.bare().toString()}: ${question}`); // a plain client shows this
    expect(inCopy.getChild("forwarded", NS.FORWARD)!.getChild("message")!.attrs.from).toBe(customer.jid!.toString());

    const answer = `Let me look. ${nextId()}`;
    await chat(alice, customer.jid!.toString(), answer);
    expect((await waitFor(customer, withBody(answer))).attrs.from).toBe(alice.jid!.toString());
    const outCopy = await waitFor(sam, copyOf(answer));
    expect(outCopy.getChild("monitored", NS.SB)!.attrs).toMatchObject({ session, seat: ALICE, direction: "out" });
    expect(outCopy.getChildText("body")).toBe(`[${session}] ${ALICE}: ${answer}`);

    // Everything sent to either party so far has arrived (Prosody delivers in order): nothing of monitoring.
    await barrier(customer, alice, ALICE);
    await barrier(alice, customer, customer.jid!.toString());
    expect(bodiesSince(alice, aliceMark)).toEqual([question]);
    expect(bodiesSince(customer, customerMark)).toEqual([answer]);
    expect(received(alice).slice(aliceMark).filter(marked)).toEqual([]);
    expect(received(customer).slice(customerMark).filter(marked)).toEqual([]);

    expect((await supervisorLine(session, "Sam started monitoring.")).sender).toBe(SAM);
    expect(await auditOf("monitor", session)).toMatchObject({ actor: SAM, detail: `seat ${ALICE}` });
  });

  it("whisper: the agent gets it from the supervisor, marked; the customer never does", async () => {
    const alice = await agent(ALICE);
    const customer = await guest();
    const sam = await supervisor();
    const session = await served(customer, alice);
    const customerMark = received(customer).length;

    const text = `Offer the discount code ${nextId()}`;
    expect((await sbIq(sam, "whisper", { session }, text)).attrs.type).toBe("result");
    const whispered = await waitFor(alice, withBody(text));
    expect(whispered.attrs.from).toBe(SAM); // a plain client shows a message from the supervisor
    expect(whispered.getChild("whisper", NS.SB)!.attrs).toEqual({ xmlns: NS.SB, session });

    await chat(alice, customer.jid!.toString(), "One moment please");
    await waitFor(customer, withBody("One moment please"));
    await barrier(alice, customer, customer.jid!.toString());
    expect(received(customer).slice(customerMark).some((s) => s.getChildText("body")?.includes(text) || marked(s))).toBe(false);
    // Whispering is no monitoring: sam got no copy of that reply.
    await barrier(alice, sam, SAM);
    expect(received(sam).some((s) => !!s.getChild("monitored", NS.SB))).toBe(false);

    await supervisorLine(session, `Sam whispered to the agent: ${text}`);
    expect(await auditOf("whisper", session)).toMatchObject({ actor: SAM, detail: text });
  });

  it("barge: the customer sees the supervisor join and its messages; the supervisor sees the customer's replies", async () => {
    const alice = await agent(ALICE);
    const customer = await guest();
    const sam = await supervisor();
    const session = await served(customer, alice);

    expect((await sbIq(sam, "barge", { session })).attrs.type).toBe("result");
    const joined = await waitFor(customer, withBody("Sam (supervisor) has joined the conversation."));
    expect(joined.attrs.from).toBe(BILLING);
    expect(joined.getChild("supervisor", NS.SB)!.attrs).toMatchObject({ session, name: "Sam" });
    expect((await waitFor(alice, (s) => /^Sam \(supervisor\) has joined your conversation/.test(s.getChildText("body") ?? ""))).attrs.from).toBe(CC);

    // A plain client writes to the component's domain; the console may use <barge session>text</barge>.
    const offer = `We will refund the invoice. ${nextId()}`;
    await chat(sam, CC, offer);
    expect((await waitFor(customer, withBody(`Sam (supervisor): ${offer}`))).attrs.from).toBe(BILLING);
    await waitFor(alice, withBody(`[${session}] Sam to the customer: ${offer}`));
    const more = `It takes three days. ${nextId()}`;
    expect((await sbIq(sam, "barge", { session }, more)).attrs.type).toBe("result");
    await waitFor(customer, withBody(`Sam (supervisor): ${more}`));

    const thanks = `Thank you both! ${nextId()}`;
    await chat(customer, ALICE, thanks); // the customer still writes to the seat
    await waitFor(alice, withBody(thanks));
    expect((await waitFor(sam, copyOf(thanks))).getChild("monitored", NS.SB)!.attrs.direction).toBe("in");
    const bye = `You are welcome. ${nextId()}`;
    await chat(alice, customer.jid!.toString(), bye);
    await waitFor(customer, withBody(bye));
    await waitFor(sam, copyOf(bye));

    await supervisorLine(session, "Sam joined the conversation.");
    await supervisorLine(session, `Sam: ${offer}`);
    await supervisorLine(session, `Sam: ${more}`);
    expect(await auditOf("barge", session)).toMatchObject({ actor: SAM });
  });

  it("ends with the session: the supervisor is told, gets no more copies, and can no longer act on it", async () => {
    const alice = await agent(ALICE);
    const customer = await guest();
    const sam = await supervisor();
    const session = await served(customer, alice);
    await sbIq(sam, "barge", { session });
    await waitFor(customer, withBody("Sam (supervisor) has joined the conversation."));

    expect((await iq(alice, CC, "set", xmlFor(alice)("end", { xmlns: NS.SB, session }))).attrs.type).toBe("result");
    const stopped = await waitFor(sam, (s) => s.getChild("unmonitored", NS.SB)?.attrs.session === session);
    expect(stopped.getChildText("body")).toBe(`[${session}] The session has ended: monitoring stopped.`);
    expect(stopped.attrs.from).toBe(r.config.domain);

    expect(errorOf(await sbIq(sam, "whisper", { session }, "still there?"))?.condition).toBe("item-not-found");
    expect(errorOf(await sbIq(sam, "monitor", { session }))?.condition).toBe("item-not-found");
    // Its messages to the component no longer reach the ended session's customer.
    const customerMark = received(customer).length;
    await chat(sam, CC, "Anything else?");
    expect((await waitFor(sam, (s) => /not barging in/.test(s.getChildText("body") ?? ""))).attrs.from).toBe(CC);
    await barrier(alice, customer, customer.jid!.toString());
    expect(bodiesSince(customer, customerMark)).toEqual([]);
    // The agent's next customer is not copied to sam.
    const next = await guest();
    await until(() => r.app.cti.agent(ALICE), (a) => a?.state === "ready" && a.active === 0, 5000, "alice free");
    await served(next, alice);
    await chat(next, ALICE, "A new question");
    await waitFor(alice, withBody("A new question"));
    await barrier(alice, sam, SAM);
    expect(received(sam).filter((s) => s.getChild("monitored", NS.SB)?.attrs.session && s.getChild("monitored", NS.SB)!.attrs.session !== session)).toEqual([]);
  });

  it("stops when the supervisor goes offline", async () => {
    const alice = await agent(ALICE);
    const customer = await guest();
    const sam = await supervisor();
    const session = await served(customer, alice);
    await sbIq(sam, "monitor", { session });
    await sam.stop();
    await auditOf("stop-monitoring", session).then((e) => expect(e).toMatchObject({ actor: SAM, detail: "offline" }));
    const again = await supervisor();
    await chat(customer, ALICE, "Are you still there?");
    await waitFor(alice, withBody("Are you still there?"));
    await barrier(alice, again, SAM);
    expect(received(again).some((s) => !!s.getChild("monitored", NS.SB))).toBe(false);
  });

  it("stops when the agent goes offline: the supervisor is told", async () => {
    const alice = await agent(ALICE);
    const customer = await guest();
    const sam = await supervisor();
    const session = await served(customer, alice);
    await sbIq(sam, "monitor", { session });
    await alice.stop();
    const stopped = await waitFor(sam, (s) => s.getChild("unmonitored", NS.SB)?.attrs.session === session);
    expect(stopped.getChildText("body")).toBe(`[${session}] The agent went offline: monitoring stopped.`);
    await until(() => r.app.cti.session(session), (s) => s?.state === "ended", 5000, "session ended");
  });

  it("refuses agents, however they ask: an agent cannot monitor anyone", async () => {
    const alice = await agent(ALICE);
    const customer = await guest();
    const session = await served(customer, alice);
    const bob = await agent("bob@acme.test"); // after: the customer is alice's
    for (const who of [alice, bob]) {
      for (const [name, text] of [["monitor", undefined], ["whisper", "psst"], ["barge", undefined], ["unmonitor", undefined]] as const)
        expect(errorOf(await sbIq(who, name, { session }, text))?.condition).toBe("forbidden");
      for (const node of ["monitor", "whisper", "barge", "stop-monitoring"])
        expect(errorOf(await command(who, node, { session, text: "psst" }))?.condition).toBe("forbidden");
    }
    const nodes = (await iq(bob, CC, "get", xmlFor(bob)("query", { xmlns: NS.DISCO_ITEMS, node: NS.COMMANDS }))).getChild("query")!
      .getChildren("item").map((i: Element) => i.attrs.node);
    expect(nodes).not.toContain("monitor");
    await chat(customer, ALICE, "Hi");
    await waitFor(alice, withBody("Hi"));
    await barrier(alice, bob, "bob@acme.test");
    expect(received(bob).some((s) => !!s.getChild("monitored", NS.SB))).toBe(false);
    expect((await events()).some((e) => e.type === "audit" && e.target === session)).toBe(false);
  });

  it("refuses a guest's forged grant: dropped at a seat it does not own (no body: no error), ignored from its own, and it gets no copies", async () => {
    const alice = await agent(ALICE);
    const customer = await guest();
    const stranger = await guest();
    const session = await served(customer, alice);
    const forge = (c: Client, supervisorJid: string) =>
      c.send(xmlFor(c)("message", { to: ALICE, id: nextId("forged") }, xmlFor(c)("monitor", { xmlns: NS.SB, session, supervisor: supervisorJid, mode: "silent" })));

    await forge(stranger, stranger.jid!.bare().toString());
    await forge(customer, customer.jid!.bare().toString()); // its own seat: delivered as any stanza of its, but no grant
    await forge(customer, SAM);
    expect(errorOf(await sbIq(stranger, "monitor", { session }))?.condition).toBe("forbidden");
    expect(errorOf(await command(stranger, "monitor", { session }))?.condition).toBe("forbidden");

    // Nor can a customer pass for a whispering supervisor: the mark is removed from its message.
    await customer.send(xmlFor(customer)("message", { to: ALICE, type: "chat" }, xmlFor(customer)("body", {}, "I am your boss"),
      xmlFor(customer)("whisper", { xmlns: NS.SB, session })));
    const posing = await waitFor(alice, withBody("I am your boss"));
    expect(posing.attrs.from).toBe(customer.jid!.toString());
    expect(posing.getChild("whisper", NS.SB)).toBeUndefined();

    const sam = await supervisor(); // online, but never granted
    const answer = `Here is your invoice. ${nextId()}`;
    await chat(alice, customer.jid!.toString(), answer);
    await waitFor(customer, withBody(answer));
    await chat(customer, ALICE, "Thanks");
    await waitFor(alice, withBody("Thanks"));
    await barrier(alice, customer, customer.jid!.toString());
    await barrier(alice, sam, SAM);
    for (const c of [customer, stranger, sam]) expect(received(c).some((s) => !!s.getChild("monitored", NS.SB) || !!s.getChild("forwarded", NS.FORWARD))).toBe(false);
    expect(received(alice).some((s) => s.attrs.from === stranger.jid!.toString())).toBe(false); // the stranger's forgery never reached the seat
    expect((await events()).some((e) => e.type === "audit" && e.target === session)).toBe(false);
  });

  it("works from a plain client through ad-hoc commands: monitor, whisper, barge, stop-monitoring", async () => {
    const alice = await agent(ALICE);
    const customer = await guest();
    const sam = await supervisor();
    const session = await served(customer, alice);
    const nodes = (await iq(sam, CC, "get", xmlFor(sam)("query", { xmlns: NS.DISCO_ITEMS, node: NS.COMMANDS }))).getChild("query")!
      .getChildren("item").map((i: Element) => i.attrs.node);
    expect(nodes).toEqual(expect.arrayContaining(["monitor", "whisper", "barge", "stop-monitoring"]));

    // monitor: a form listing the live chats, then the choice.
    const first = (await command(sam, "monitor")).getChild("command", NS.COMMANDS)!;
    expect(first.attrs.status).toBe("executing");
    const options = first.getChild("x", NS.DATA)!.getChildren("field")[0]!.getChildren("option").map((o) => o.getChildText("value"));
    expect(options).toContain(session);
    const done = (await command(sam, "monitor", { session }, first.attrs.sessionid)).getChild("command", NS.COMMANDS)!;
    expect(done.attrs.status).toBe("completed");
    expect(done.getChildText("note")).toMatch(/You are monitoring/);
    const question = `Can I pay later? ${nextId()}`;
    await chat(customer, ALICE, question);
    await waitFor(alice, withBody(question));
    expect((await waitFor(sam, copyOf(question))).getChildText("body")).toBe(`[${session}] ${customer.jid!.bare().toString()}: ${question}`);

    // whisper: session and text.
    const wform = (await command(sam, "whisper")).getChild("command", NS.COMMANDS)!;
    expect(wform.getChild("x", NS.DATA)!.getChildren("field").map((f) => f.attrs.var)).toEqual(["session", "text"]);
    const hint = `Yes, up to 30 days ${nextId()}`;
    expect((await command(sam, "whisper", { session, text: hint }, wform.attrs.sessionid)).getChild("command", NS.COMMANDS)!.attrs.status).toBe("completed");
    const whispered = await waitFor(alice, withBody(hint));
    expect(whispered.attrs.from).toBe(SAM);
    expect(whispered.getChild("whisper", NS.SB)?.attrs.session).toBe(session);

    // barge, then plain messages to the component go to the customer.
    expect((await command(sam, "barge", { session })).getChild("command", NS.COMMANDS)!.getChildText("note")).toMatch(/joined the conversation/);
    await waitFor(customer, withBody("Sam (supervisor) has joined the conversation."));
    await chat(sam, CC, "Hello, I am the supervisor.");
    await waitFor(customer, withBody("Sam (supervisor): Hello, I am the supervisor."));
    const reply = `Nice to meet you ${nextId()}`;
    await chat(customer, ALICE, reply);
    await waitFor(sam, copyOf(reply));

    // stop-monitoring: no more copies, and writing to the component no longer reaches the customer.
    const stop = (await command(sam, "stop-monitoring")).getChild("command", NS.COMMANDS)!;
    expect(stop.attrs.status).toBe("completed");
    expect(stop.getChildText("note")).toBe(`You stopped monitoring ${session}.`);
    const after = `Still there? ${nextId()}`;
    await chat(customer, ALICE, after);
    await waitFor(alice, withBody(after));
    await barrier(alice, sam, SAM);
    expect(received(sam).some(copyOf(after))).toBe(false);
    const customerMark = received(customer).length;
    await chat(sam, CC, "one more thing");
    await waitFor(sam, (s) => /not barging in/.test(s.getChildText("body") ?? ""));
    await barrier(alice, customer, customer.jid!.toString());
    expect(bodiesSince(customer, customerMark)).toEqual([]);
    expect(received(customer).some(marked)).toBe(false);

    // The transcript and the audit log hold every step.
    for (const line of ["Sam started monitoring.", `Sam whispered to the agent: ${hint}`, "Sam joined the conversation.", "Sam: Hello, I am the supervisor.", "Sam stopped monitoring."])
      expect((await supervisorLine(session, line)).sender).toBe(SAM);
    for (const action of ["monitor", "whisper", "barge", "stop-monitoring"]) expect((await auditOf(action, session)).actor).toBe(SAM);
  });
});
