/**
 * Inviting an expert (issue 15): the seat brings another agent or a supervisor into the conversation. Real
 * Prosody (with the seat module), Redis and component; the customer is an anonymous visitor on a plain chat,
 * and what each of the three parties receives is asserted: the customer keeps its one conversation with the
 * seat's JID, the expert writes to the seat's JID and gets both sides from there, the seat sees everything.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Redis } from "ioredis";
import { pino } from "pino";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { NS } from "../../protocol/names.js";
import { parseEvent, type LoggedEvent } from "../../cti/redis/events.js";
import { applyEvents } from "../../records/apply.js";
import { openHistory, sqliteFile, type History } from "../../records/db.js";
import { startRecorder, type Recorder } from "../../records/recorder.js";
import type { CtiEvent } from "../../cti/types.js";
import { apiFetch } from "../helpers/openapi.js";
import { BILLING, CC, command, errorOf, iq, SCOPED, SCOPED_STACK, until, useStack, type Running } from "../helpers/stack.js";
import { barrier, connectAccount, nextId, received, waitFor, xmlFor } from "../helpers/xmpp.js";

let r: Running;
const { track, guest, agent } = useStack({ ...SCOPED_STACK, customerGraceSeconds: 0 }, (running) => { r = running; });
const { alice: ALICE, bob: BOB, sam: SAM, tess: TESS } = SCOPED;
// The recorder (records/) reads the same event log into SQLite: the expert's part must be in the transcript.
let recorder: Recorder;
let history: History;
beforeAll(async () => {
  history = await openHistory({ file: sqliteFile(r.config.runDir) });
  recorder = startRecorder({ redis: new Redis(r.stack.redisUrl), keys: r.app.store.keys, history, log: pino({ level: "silent" }) });
});
afterAll(async () => { await recorder.stop(); await history.close(); });

/** A supervisor on a plain client, available (so that messages to its bare JID reach it). */
const supervisor = async (jid: string, password: string) => {
  const c = track(await connectAccount(r.config, jid, password));
  await c.send(xmlFor(c)("presence"));
  await waitFor(c, (s) => s.is("presence") && s.attrs.from === c.jid!.toString());
  return c;
};
const chat = async (c: Client, to: string, body: string, ...children: Element[]) => {
  await c.send(xmlFor(c)("message", { to, type: "chat", id: nextId("m") }, xmlFor(c)("body", {}, body), ...children));
};
const withBody = (body: string) => (s: Element) => s.is("message") && s.getChildText("body") === body;
const bodyMatching = (re: RegExp) => (s: Element) => s.is("message") && re.test(s.getChildText("body") ?? "");
const bodiesSince = (c: Client, from: number) => received(c).slice(from).filter((s) => s.is("message") && s.getChildText("body")).map((s) => s.getChildText("body"));
const sbIq = (c: Client, type: "get" | "set", name: string, attrs: Record<string, string>, text?: string) =>
  iq(c, CC, type, xmlFor(c)(name, { xmlns: NS.SB, ...attrs }, text));

async function events(): Promise<CtiEvent[]> {
  const entries = (await r.app.redis.xrange(r.app.store.keys.events(), "-", "+")) as Array<[string, string[]]>;
  return entries.map(([, fields]) => parseEvent(fields));
}
const eventOf = async <T extends CtiEvent>(what: string, match: (e: CtiEvent) => e is T) =>
  (await until(events, (es) => es.some(match), 5000, what)).find(match)!;

/** The customer writes to the queue and is served by alice (its first message to her puts it in service): the session id. */
async function served(customer: Client, alice: Client): Promise<string> {
  await chat(customer, BILLING, "Hello, I need help with a refund");
  const session = (await waitFor(customer, (s) => s.is("message") && !!s.getChild("assigned", NS.SB))).getChild("assigned", NS.SB)!.attrs.session!;
  await waitFor(alice, (s) => s.is("message") && s.getChild("begin", NS.SB)?.attrs.session === session);
  await chat(customer, ALICE, "Are you there?");
  await waitFor(alice, withBody("Are you there?"));
  return session;
}

/** Alice serves a guest customer and has invited Bob (through the desk's iq), whom the customer saw join. */
async function withExpert(): Promise<{ alice: Client; bob: Client; customer: Client; session: string }> {
  const alice = await agent(ALICE);
  const bob = await agent(BOB);
  const customer = await guest();
  const session = await served(customer, alice);
  expect((await sbIq(alice, "set", "invite-expert", { session, jid: BOB })).attrs.type).toBe("result");
  await waitFor(customer, withBody("Bob joined the conversation."));
  return { alice, bob, customer, session };
}

/** The expert was told it joined: the <begin role='expert'/> with the session, and a body for plain clients. */
const invitation = (c: Client, session: string) =>
  waitFor(c, (s) => s.is("message") && s.getChild("begin", NS.SB)?.attrs.session === session && s.getChild("begin", NS.SB)?.attrs.role === "expert");

describe("invite an expert", () => {
  it("by ad-hoc command: the customer reads the expert's words from the seat's JID, labelled; the expert gets both sides; the seat sees all", async () => {
    const alice = await agent(ALICE);
    const bob = await agent(BOB);
    const customer = await guest();
    const session = await served(customer, alice);

    const done = await command(alice, "invite-expert", { session, expert: BOB, note: "Knows refunds" });
    expect(done.getChild("command", NS.COMMANDS)?.attrs.status).toBe("completed");
    const invited = await invitation(bob, session);
    expect(invited.attrs.from).toBe(CC);
    expect(invited.getChild("begin", NS.SB)!.attrs).toMatchObject({ seat: ALICE, customer: customer.jid!.toString(), queue: "billing", by: ALICE });
    expect(invited.getChildText("body")).toMatch(/^Alice invited you into the conversation with .+ Note: Knows refunds\. Write to alice@acme\.test/);
    const joined = await waitFor(customer, withBody("Bob joined the conversation."));
    expect(joined.attrs.from).toBe(ALICE); // the conversation the customer already has
    expect(joined.getChild("expert", NS.SB)!.attrs).toMatchObject({ session, jid: BOB, name: "Bob", status: "joined" });
    expect((await waitFor(alice, bodyMatching(/^Bob joined your conversation with .+ as an expert\./))).attrs.from).toBe(CC);
    expect((await r.app.cti.session(session))!.expert).toBe(BOB);
    // The admin API (checked against its OpenAPI document) shows who is in the conversation.
    expect((await apiFetch(`http://127.0.0.1:${r.app.webPort}`, `/api/sessions/${session}`, { token: r.config.admin.token })).body.expert).toBe(BOB);

    // The expert writes to the seat: the customer reads it from the seat, the seat sees it marked.
    const advice = `Refunds take three days. ${nextId()}`;
    await chat(bob, ALICE, advice);
    const relayed = await waitFor(customer, withBody(`Bob (expert): ${advice}`));
    expect(relayed.attrs.from).toBe(ALICE);
    expect(relayed.getChild("expert", NS.SB)!.attrs).toMatchObject({ session, jid: BOB, name: "Bob" });
    const atSeat = await waitFor(alice, withBody(advice));
    expect(atSeat.attrs.from).toBe(bob.jid!.toString());
    expect(atSeat.getChild("expert", NS.SB)!.attrs).toMatchObject({ session, jid: BOB });

    // The customer's and the seat's words reach the expert from the seat's JID, labelled and marked.
    const question = `Can it be faster? ${nextId()}`;
    await chat(customer, ALICE, question);
    await waitFor(alice, withBody(question));
    const copy = await waitFor(bob, bodyMatching(new RegExp(`: ${question.replace(/[?.]/g, "\\$&")}$`)));
    expect(copy.attrs.from).toBe(ALICE);
    expect(copy.getChild("relayed", NS.SB)!.attrs).toMatchObject({ session, role: "customer" });
    expect(copy.getChild("forwarded", NS.FORWARD)!.getChild("message")!.attrs.from).toBe(customer.jid!.toString());
    const answer = `I will ask for an express refund. ${nextId()}`;
    await chat(alice, customer.jid!.toString(), answer);
    await waitFor(customer, withBody(answer));
    const seatCopy = await waitFor(bob, withBody(`Alice: ${answer}`));
    expect(seatCopy.getChild("relayed", NS.SB)!.attrs).toMatchObject({ session, role: "seat", name: "Alice" });

    // Recorded: the join, and the expert's line with the expert as its sender.
    expect(await eventOf("expert-joined", (e): e is Extract<CtiEvent, { type: "expert-joined" }> => e.type === "expert-joined" && e.session === session))
      .toMatchObject({ expert: BOB, by: ALICE, seat: ALICE, note: "Knows refunds" });
    expect(await eventOf("the expert's line", (e): e is Extract<CtiEvent, { type: "message" }> => e.type === "message" && e.session === session && e.body === advice))
      .toMatchObject({ direction: "expert", sender: BOB, seat: ALICE });
    const transcript = () => history.db.selectFrom("transcript").select(["kind", "sender", "body"]).where("session", "=", session).orderBy("at").orderBy("event_id").execute();
    const lines = await until(transcript, (rows) => rows.some((l) => l.body === answer), 5000, "transcript");
    expect(lines.filter((l) => l.kind === "expert")).toEqual([{ kind: "expert", sender: BOB, body: advice }]);
    expect(lines).toContainEqual({ kind: "system", sender: BOB, body: `${BOB} joined the conversation as an expert, invited by ${ALICE}. Note: Knows refunds` });
    expect(lines.findIndex((l) => l.body === advice)).toBeLessThan(lines.findIndex((l) => l.body === question));
    // Applying the log again (a recorder that died before acknowledging) adds nothing.
    const entries = (await r.app.redis.xrange(r.app.store.keys.events(), "-", "+")) as Array<[string, string[]]>;
    await applyEvents(history, entries.map(([id, fields]): LoggedEvent => ({ id, event: parseEvent(fields) })));
    expect(await transcript()).toHaveLength(lines.length);
  });

  it("a transfer takes the expert out: the customer is told from the seat it had, the expert hears why", async () => {
    const alice = await agent(ALICE);
    const bob = await agent(BOB);
    const customer = await guest();
    const session = await served(customer, alice);
    const sam = await supervisor(SAM, "sam-pw");
    expect((await sbIq(alice, "set", "invite-expert", { session, jid: SAM })).attrs.type).toBe("result");
    await waitFor(customer, withBody("Sam joined the conversation."));

    const moved = await command(alice, "transfer", { session, target: `agent:${BOB}` });
    expect(moved.getChild("command", NS.COMMANDS)?.attrs.status).toBe("completed");
    expect((await waitFor(customer, withBody("Sam left the conversation."))).attrs.from).toBe(ALICE);
    const told = await waitFor(sam, bodyMatching(/moved to another agent, so you left it\./));
    expect(told.getChild("expert", NS.SB)!.attrs).toMatchObject({ session, reason: "transferred" });
    await waitFor(bob, (s) => s.getChild("begin", NS.SB)?.attrs.session === session);
    await until(() => r.app.cti.session(session), (s) => !s?.expert, 5000, "expert gone");
    // Its words to the old seat reach nobody else now.
    const customerMark = received(customer).length;
    const late = `Hello? ${nextId()}`;
    await chat(sam, ALICE, late);
    await waitFor(alice, withBody(late));
    await barrier(bob, customer, customer.jid!.toString());
    expect(bodiesSince(customer, customerMark).filter((b) => b!.includes(late))).toEqual([]);
  });

  it("by chat command, and leaving by chat command: the customer is told; afterwards the expert's words reach only the seat", async () => {
    const alice = await agent(ALICE);
    const customer = await guest();
    const sam = await supervisor(SAM, "sam-pw");
    const session = await served(customer, alice);

    await chat(alice, CC, `invite ${SAM} Please help with this one`);
    expect((await waitFor(alice, bodyMatching(/^Sam is invited into your conversation with /))).attrs.from).toBe(CC);
    expect((await invitation(sam, session)).getChildText("body")).toMatch(/Note: Please help with this one/);
    await waitFor(customer, withBody("Sam joined the conversation."));
    const hello = `Hello, I am the supervisor. ${nextId()}`;
    await chat(sam, ALICE, hello);
    expect((await waitFor(customer, withBody(`Sam (expert): ${hello}`))).attrs.from).toBe(ALICE);

    await chat(sam, CC, "leave");
    const left = await waitFor(customer, withBody("Sam left the conversation."));
    expect(left.attrs.from).toBe(ALICE);
    expect(left.getChild("expert", NS.SB)!.attrs).toMatchObject({ session, jid: SAM, status: "left" });
    const told = await waitFor(sam, bodyMatching(/^You left the conversation with /));
    expect(told.getChild("expert", NS.SB)!.attrs).toMatchObject({ session, status: "left", reason: "left" });
    await waitFor(alice, bodyMatching(/^Sam left your conversation with /));
    expect(await eventOf("expert-left", (e): e is Extract<CtiEvent, { type: "expert-left" }> => e.type === "expert-left" && e.session === session))
      .toMatchObject({ expert: SAM, reason: "left", by: SAM });

    // After leaving: words marked for the conversation are refused by the seat's check; plain ones are a
    // private note to the agent (staff may always write to a seat) and never reach the customer.
    const customerMark = received(customer).length;
    const marked = `Still here? ${nextId()}`;
    await sam.send(xmlFor(sam)("message", { to: ALICE, type: "chat", id: "after-leave" }, xmlFor(sam)("body", {}, marked), xmlFor(sam)("session", { xmlns: NS.SB, id: session })));
    const bounced = await waitFor(sam, (s) => s.is("message") && s.attrs.type === "error" && s.attrs.id === "after-leave");
    expect(errorOf(bounced)).toMatchObject({ condition: "forbidden", text: expect.stringMatching(/You are not in this conversation/) });
    const aside = `Between us: good job. ${nextId()}`;
    await chat(sam, ALICE, aside);
    expect((await waitFor(alice, withBody(aside))).getChild("expert", NS.SB)).toBeUndefined();
    await barrier(alice, customer, customer.jid!.toString());
    expect(bodiesSince(customer, customerMark).filter((b) => b!.includes(marked) || b!.includes(aside))).toEqual([]);
    expect(received(alice).some((s) => s.getChildText("body") === marked)).toBe(false);
  });

  it("the seat removes the expert; the session's end removes the expert, whose words then reach nobody", async () => {
    const { alice, bob, customer, session } = await withExpert();
    const removed = await command(alice, "leave-session", { session });
    expect(removed.getChild("command", NS.COMMANDS)!.getChildText("note")).toMatch(/^Bob is no longer in your conversation/);
    await waitFor(customer, withBody("Bob left the conversation."));
    expect((await waitFor(bob, bodyMatching(/^Alice took you out of the conversation with /))).getChild("expert", NS.SB)!.attrs.reason).toBe("removed");

    // Invited again (through the desk's iq), then the session ends.
    expect((await sbIq(alice, "set", "invite-expert", { session, jid: BOB }, "Once more")).attrs.type).toBe("result");
    await invitation(bob, session);
    await waitFor(customer, withBody("Bob joined the conversation."));
    expect((await iq(alice, CC, "set", xmlFor(alice)("end", { xmlns: NS.SB, session }))).attrs.type).toBe("result");
    const ended = await waitFor(bob, bodyMatching(/^The conversation with .+ has ended\./));
    expect(ended.getChild("expert", NS.SB)!.attrs).toMatchObject({ session, status: "left", reason: "ended" });
    await until(() => r.app.cti.session(session), (s) => !s?.expert, 5000, "expert gone");
    expect(await eventOf("expert-left at the end", (e): e is Extract<CtiEvent, { type: "expert-left" }> => e.type === "expert-left" && e.session === session && e.reason === "ended"))
      .toMatchObject({ expert: BOB });

    const customerMark = received(customer).length;
    const late = `Anything else? ${nextId()}`;
    await chat(bob, ALICE, late);
    await waitFor(alice, withBody(late)); // staff still reach the seat...
    await barrier(alice, customer, customer.jid!.toString());
    expect(bodiesSince(customer, customerMark).filter((b) => b!.includes(late))).toEqual([]); // ...but not its former customer
  });

  it("refuses: not the seat, a supervisor of other queues, an expert not logged in, unknown, the seat itself, a second expert, a visitor", async () => {
    const alice = await agent(ALICE);
    const bob = await agent(BOB);
    const customer = await guest();
    const session = await served(customer, alice);
    const tess = await supervisor(TESS, "tess-pw");

    const notSeat = errorOf(await sbIq(bob, "set", "invite-expert", { session, jid: SAM }));
    expect(notSeat).toMatchObject({ condition: "forbidden", text: expect.stringMatching(/Only the agent serving this session/) });
    expect(errorOf(await sbIq(tess, "set", "invite-expert", { session, jid: BOB }))?.condition).toBe("forbidden"); // billing is not hers
    const offline = errorOf(await sbIq(alice, "set", "invite-expert", { session, jid: SAM }));
    expect(offline).toMatchObject({ condition: "service-unavailable", text: "Sam is not logged in: an expert must be online to join the conversation." });
    const unknown = errorOf(await sbIq(alice, "set", "invite-expert", { session, jid: "nobody@acme.test" }));
    expect(unknown).toMatchObject({ condition: "item-not-found", text: "The expert must be one of this contact center's agents or supervisors." });
    expect(errorOf(await sbIq(alice, "set", "invite-expert", { session, jid: customer.jid!.toString() }))?.condition).toBe("item-not-found"); // a visitor is never an expert
    expect(errorOf(await sbIq(alice, "set", "invite-expert", { session, jid: ALICE }))?.condition).toBe("bad-request");
    expect(errorOf(await sbIq(alice, "set", "invite-expert", { session: "nosuch", jid: BOB }))?.condition).toBe("item-not-found");

    expect((await sbIq(alice, "set", "invite-expert", { session, jid: TESS })).attrs.type).toBe("result");
    expect(errorOf(await sbIq(alice, "set", "invite-expert", { session, jid: BOB }))).toMatchObject({ condition: "conflict" });
    // A visitor can neither invite nor leave anything, whatever it names.
    expect(errorOf(await sbIq(customer, "set", "invite-expert", { session, jid: BOB }))?.condition).toBe("forbidden");
    expect(errorOf(await sbIq(customer, "set", "leave-session", { session }))?.condition).toBe("forbidden");
    const byCommand = await command(customer, "invite-expert", { session, expert: BOB });
    expect(errorOf(byCommand)?.condition).toBe("forbidden");
    // bob is no party: it cannot take tess out.
    expect(errorOf(await sbIq(bob, "set", "leave-session", { session }))?.condition).toBe("forbidden");
    expect((await r.app.cti.session(session))!.expert).toBe(TESS);
    // A chat command's refusal comes back as a chat message with the error's text (nothing of the request repeated).
    await chat(bob, CC, "invite nobody@acme.test");
    expect((await waitFor(bob, withBody("The expert must be one of this contact center's agents or supervisors."))).attrs.from).toBe(CC);
    // Who is logged in is the contact center's question only.
    const asked = await iq(alice, r.config.domain, "get", xmlFor(alice)("online", { xmlns: NS.SB, jid: BOB }));
    expect(errorOf(asked)?.condition).toBe("forbidden");
    expect(asked.getChild("online", NS.SB)).toBeUndefined();
  });

  it("removes the marks a client forges: the customer cannot pose as the expert, nor the expert as the customer", async () => {
    const { alice, bob, customer, session } = await withExpert();
    const xc = xmlFor(customer);
    await chat(customer, ALICE, "I am the boss", xc("expert", { xmlns: NS.SB, session, jid: "boss@acme.test", name: "Boss" }), xc("relayed", { xmlns: NS.SB, session, role: "seat" }));
    const atSeat = await waitFor(alice, withBody("I am the boss"));
    expect(atSeat.getChild("expert", NS.SB)).toBeUndefined();
    expect(atSeat.getChild("relayed", NS.SB)).toBeUndefined();
    const xb = xmlFor(bob);
    await chat(bob, ALICE, "Trust me", xb("expert", { xmlns: NS.SB, session, jid: "boss@acme.test", name: "Boss" }));
    const relayed = await waitFor(customer, withBody("Bob (expert): Trust me"));
    expect(relayed.getChildren("expert", NS.SB)).toHaveLength(1);
    expect(relayed.getChild("expert", NS.SB)!.attrs).toMatchObject({ jid: BOB, name: "Bob" });
    const marked = await waitFor(alice, withBody("Trust me"));
    expect(marked.getChildren("expert", NS.SB).map((e) => e.attrs.jid)).toEqual([BOB]);
  });

  it("lists who may be invited, with whether each is logged in", async () => {
    const alice = await agent(ALICE);
    await agent(BOB);
    const customer = await guest();
    const session = await served(customer, alice);
    const list = await sbIq(alice, "get", "experts", { session });
    const rows = list.getChild("experts", NS.SB)!.getChildren("expert").map((e) => e.attrs);
    expect(rows).toEqual(expect.arrayContaining([
      expect.objectContaining({ jid: BOB, name: "Bob", role: "agent", online: "true" }),
      expect.objectContaining({ jid: SAM, role: "supervisor", online: "false" }),
    ]));
    expect(rows.some((e) => e.jid === ALICE)).toBe(false);
  });
});
