/**
 * Issue 9 item 4, hostile input over real XMPP: forged session stanzas, feedback scores, lengths in
 * code points, and floods beyond the rate limit (the default: a burst of 50, then 20 a second). One
 * `it` per case through real clients; each asserts the exact stanza error, a small reply within a
 * second, and that nothing changed state. After every case the component is still connected and a
 * normal customer is still served (test/helpers/hostile.ts).
 */
import { describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { ALICE, BILLING, BOB, CC, NS, SB, WG, expectError, hostileSuite, joinAssigned, label, timedIq, noteLatency } from "../helpers/hostile.js";
import { errorOf, until } from "../helpers/stack.js";
import { nextId, received, waitFor, xmlFor } from "../helpers/xmpp.js";

const h = hostileSuite();

const NOT_FOUND = { condition: "item-not-found", type: "cancel" };
const BAD = { condition: "bad-request", type: "modify" };
const FORBIDDEN = { condition: "forbidden", type: "auth" };
type Expected = typeof BAD;

const sb = (c: Client, name: string, attrs: Record<string, string | undefined>, text?: string) =>
  timedIq(c, CC, "set", xmlFor(c)(name, { xmlns: NS.SB, ...attrs }, text));

// -------------------------------------------------------------------------------------------------
// Forged session stanzas

type Sender = "a guest" | "a guest claiming to be the seat" | "bob (an agent, not the seat)";
type SessionKind = "that does not exist" | "of another customer (live)" | "of another customer (ended)" | "missing" | "of 10 KB";
const ELEMENTS = [SB.inService, SB.answered, SB.end, SB.resume, SB.feedback] as const;

/** What the code answers today (component/xmpp/seat.ts, cti/cti.ts, the store's scripts). */
function expectedFor(element: string, kind: SessionKind): Expected {
  if (kind === "missing" || kind === "of 10 KB") return BAD; // checked before anything is read
  if (kind === "that does not exist") return NOT_FOUND;
  // someone else's: the seat check, the party check, the token or the customer check refuse;
  // an ended session's resume is refused as over before its token is compared
  if (element === SB.resume && kind === "of another customer (ended)") return NOT_FOUND;
  return FORBIDDEN;
}

describe("forged session stanzas: the exact refusal, and nothing changes", () => {
  const SENDERS: Sender[] = ["a guest", "a guest claiming to be the seat", "bob (an agent, not the seat)"];
  const KINDS: SessionKind[] = ["that does not exist", "of another customer (live)", "of another customer (ended)", "missing", "of 10 KB"];
  const rows = SENDERS.flatMap((sender) => ELEMENTS.flatMap((element) => KINDS.map((kind) =>
    [`<${element}/> from ${sender}, for a session ${kind}`, sender, element, kind] as const)));
  it.each(rows)("%s", async (_name, sender, element, kind) => {
    let victim: { session: string; token: string } | undefined;
    if (kind.startsWith("of another customer")) {
      const customer = await h.guest();
      victim = await joinAssigned(customer);
      if (kind.endsWith("(ended)")) expect((await sb(customer, SB.end, { session: victim.session })).attrs.type).toBe("result");
    }
    const before = victim && (await h.r().app.cti.session(victim.session));
    const c = sender.startsWith("bob") ? await h.account(BOB) : await h.guest();
    const session = kind === "missing" ? undefined : kind === "of 10 KB" ? "s".repeat(10_000) : victim?.session ?? "s0000deadbeef";
    const forged = sender === "a guest claiming to be the seat" ? { seat: ALICE } : {};
    const reply = await sb(c, element, { ...forged, session, token: element === SB.resume ? "guessed-token" : undefined, score: element === SB.feedback ? "5" : undefined });
    expectError(reply, expectedFor(element, kind), ["s".repeat(64)]);
    if (victim) expect(await h.r().app.cti.session(victim.session)).toEqual(before);
    expect(await h.r().app.cti.sessionOf(c.jid!.toString())).toBeNull();
  });
});

describe("forged session stanzas: odd attributes on a live session of another customer", () => {
  type Who = "guest" | "bob" | "alice";
  const BIG = "t".repeat(10_000);
  const rows: Array<[string, Who, string, (session: string) => Record<string, string>, Expected]> = [
    ["<resume/> without a token: bad-request", "guest", SB.resume, (session) => ({ session }), BAD],
    ["<resume/> with an empty token: bad-request", "guest", SB.resume, (session) => ({ session, token: "" }), BAD],
    ["<resume/> with a 10 KB token: forbidden", "guest", SB.resume, (session) => ({ session, token: BIG }), FORBIDDEN],
    ["<in-service/> with a 10 KB seat attribute: forbidden (a client's seat attribute is ignored)", "guest", SB.inService, (session) => ({ session, seat: BIG }), FORBIDDEN],
    ["<answered/> with a 10 KB seat attribute: forbidden", "guest", SB.answered, (session) => ({ session, seat: BIG }), FORBIDDEN],
    ["<in-service/> from bob claiming seat alice: forbidden", "bob", SB.inService, (session) => ({ session, seat: ALICE }), FORBIDDEN],
    ["<end/> with an empty session: bad-request", "guest", SB.end, () => ({ session: "" }), BAD],
    ["<end/> from alice (the seat) for a session id of another length: item-not-found", "alice", SB.end, (session) => ({ session: `${session}x` }), NOT_FOUND],
    ["<feedback/> from bob on a live session with score 5: forbidden", "bob", SB.feedback, (session) => ({ session, score: "5" }), FORBIDDEN],
  ];
  it.each(rows)("%s", async (_name, who, element, attrs, expected) => {
    const customer = await h.guest();
    const { session } = await joinAssigned(customer);
    const before = await h.r().app.cti.session(session);
    const c = who === "guest" ? await h.guest() : await h.account(who === "bob" ? BOB : ALICE);
    expectError(await sb(c, element, attrs(session)), expected, ["t".repeat(64)]);
    expect(await h.r().app.cti.session(session)).toEqual(before);
  });
});

// -------------------------------------------------------------------------------------------------
// Feedback

/** A guest's session with alice, ended by the guest: ready to be rated. */
async function endedSession(): Promise<{ customer: Client; session: string }> {
  const customer = await h.guest();
  const { session } = await joinAssigned(customer);
  expect((await sb(customer, SB.end, { session })).attrs.type).toBe("result");
  return { customer, session };
}

describe("feedback: the score is exactly one of 1-5", () => {
  const BAD_SCORES: Array<string | undefined> = ["1e0", "0x5", " 4", "4 ", "4.0", "+4", "-1", "0", "6", "", "NaN", "Infinity", "05", "٤", "４", "4\u200b", "1".repeat(10_000), undefined];
  it.each(BAD_SCORES.map((s) => [s === undefined ? "no score attribute" : label(s), s] as const))("%s: bad-request, nothing stored", async (_name, score) => {
    const { customer, session } = await endedSession();
    expectError(await sb(customer, SB.feedback, { session, score }, "comment"), BAD, ["1".repeat(64)]);
    expect((await h.r().app.cti.session(session))?.feedback).toBeNull();
  });

  it.each(["1", "3", "5"])("%s: result, stored", async (score) => {
    const { customer, session } = await endedSession();
    expect((await sb(customer, SB.feedback, { session, score }, "fine")).attrs.type).toBe("result");
    expect((await h.r().app.cti.session(session))?.feedback).toEqual({ score: Number(score), comment: "fine" });
  });

  it("before the session ended: bad-request", async () => {
    const customer = await h.guest();
    const { session } = await joinAssigned(customer);
    expectError(await sb(customer, SB.feedback, { session, score: "4" }), BAD);
  });
});

// -------------------------------------------------------------------------------------------------
// Lengths count characters (code points), not UTF-16 units

describe("lengths count code points", () => {
  const join = (c: Client, fields: Record<string, string>) => {
    const xml = xmlFor(c);
    return timedIq(c, BILLING, "set", xml("join-queue", { xmlns: NS.WG }, xml("x", { xmlns: NS.DATA, type: "submit" },
      ...Object.entries(fields).map(([k, v]) => xml("field", { var: k }, xml("value", {}, v))))));
  };
  const family = "👩‍👩‍👧‍👦"; // 7 code points
  const rows: Array<[string, Record<string, string>, boolean]> = [
    ["a subject of 900 emoji (1,800 UTF-16 units)", { subject: "😀".repeat(900) }, true],
    ["a subject of 1,000 emoji", { subject: "😀".repeat(1000) }, true],
    ["a subject of 1,001 emoji", { subject: "😀".repeat(1001) }, false],
    ["a subject of 1,000 ASCII letters", { subject: "a".repeat(1000) }, true],
    ["a subject of 1,001 ASCII letters", { subject: "a".repeat(1001) }, false],
    ["a name of 142 family emoji (994 code points)", { name: family.repeat(142) }, true],
    ["a name of 143 family emoji (1,001 code points)", { name: family.repeat(143) }, false],
    ["a name of 'e' and 999 combining accents (1,000 code points)", { name: "e" + "\u0301".repeat(999) }, true],
    ["a name of 'e' and 1,000 combining accents (1,001 code points)", { name: "e" + "\u0301".repeat(1000) }, false],
    ["a name of 1,000 mathematical letters", { name: "𝔘".repeat(1000) }, true],
    ["a field name of 64 characters", { ["f".repeat(64)]: "x" }, true],
    ["a field name of 65 characters", { ["f".repeat(65)]: "x" }, false],
  ];
  it.each(rows)("join-queue with %s", async (_name, fields, accepted) => {
    const c = await h.guest();
    const reply = await join(c, fields);
    if (!accepted) {
      expectError(reply, BAD);
      expect(await h.r().app.cti.sessionOf(c.jid!.toString())).toBeNull();
      return;
    }
    expect(errorOf(reply) ?? reply.attrs.type).toBe("result");
    const session = await h.r().app.cti.session(reply.getChild(SB.session, NS.SB)!.attrs.id!);
    expect(session?.form).toEqual(fields);
  });

  it("20 fields of 1,000 mixed 4-, 3- and 2-byte characters (60 KB, spanning the component's TCP reads): accepted and kept intact, six times", async () => {
    // A character split between two reads must not turn into U+FFFD (which would also count as more characters)
    const value = "😀€é".repeat(334).slice(0, [..."😀€é".repeat(334)].slice(0, 1000).join("").length);
    const fields = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, value]));
    for (let i = 0; i < 6; i++) {
      const c = await h.guest();
      const reply = await join(c, fields);
      expect(errorOf(reply) ?? reply.attrs.type).toBe("result");
      expect((await h.r().app.cti.session(reply.getChild(SB.session, NS.SB)!.attrs.id!))?.form).toEqual(fields);
    }
  });

  it.each<[number, boolean]>([[2000, true], [2001, false]])("a feedback comment of %i emoji: accepted %s", async (n, accepted) => {
    const { customer, session } = await endedSession();
    const reply = await sb(customer, SB.feedback, { session, score: "4" }, "😀".repeat(n));
    if (accepted) expect(errorOf(reply) ?? reply.attrs.type).toBe("result");
    else expectError(reply, BAD);
  });

  it.each<[number, boolean]>([[5000, true], [5001, false]])("a left message of %i emoji: accepted %s", async (n, accepted) => {
    const c = await h.guest();
    const xml = xmlFor(c);
    const reply = await timedIq(c, BILLING, "set", xml(SB.leaveMessage, { xmlns: NS.SB }, xml("x", { xmlns: NS.DATA, type: "submit" },
      xml("field", { var: "message" }, xml("value", {}, "😀".repeat(n))))));
    if (accepted) expect(errorOf(reply) ?? reply.attrs.type).toBe("result");
    else expectError(reply, BAD);
  });
});

// -------------------------------------------------------------------------------------------------
// Floods

const RATE = { condition: "resource-constraint", type: "wait" };
const BURST = 50;

/** Sends `n` stanzas built by `make(i)` at once, then waits for the replies `isReply` picks. */
async function flood(c: Client, n: number, make: (id: string) => Element): Promise<{ replies: Element[]; ms: number }> {
  const ids = Array.from({ length: n }, () => nextId("f"));
  const t0 = Date.now();
  const replies = Promise.all(ids.map((id) => waitFor(c, (s) => s.attrs.id === id, 5000, `reply ${id}`)));
  await Promise.all(ids.map((id) => c.send(make(id))));
  const got = await replies;
  return { replies: got, ms: Date.now() - t0 };
}

describe("floods: resource-constraint (wait) for the sender only", () => {
  type Make = (xml: ReturnType<typeof xmlFor>, id: string) => Element;
  const ping: Make = (xml, id) => xml("iq", { type: "get", to: CC, id }, xml("ping", { xmlns: NS.PING }));
  const rows: Array<[string, Make, (s: Element) => boolean]> = [
    ["pings to cc", ping, (s) => s.attrs.type === "result"],
    ["pings to billing", (xml, id) => xml("iq", { type: "get", to: BILLING, id }, xml("ping", { xmlns: NS.PING })), (s) => s.attrs.type === "result"],
    ["disco#info to cc", (xml, id) => xml("iq", { type: "get", to: CC, id }, xml("query", { xmlns: NS.DISCO_INFO })), (s) => s.attrs.type === "result"],
    ["unknown payloads to cc", (xml, id) => xml("iq", { type: "get", to: CC, id }, xml("foo", { xmlns: "urn:x" })), (s) => errorOf(s)?.condition === "service-unavailable"],
    ["end of a session that does not exist", (xml, id) => xml("iq", { type: "set", to: CC, id }, xml(SB.end, { xmlns: NS.SB, session: "snope" })), (s) => errorOf(s)?.condition === "item-not-found"],
    ["queue-status polls", (xml, id) => xml("iq", { type: "get", to: BILLING, id }, xml(WG.queueStatus, { xmlns: NS.WG })), (s) => errorOf(s)?.condition === "not-authorized"],
    ["chat messages to cc (with ids)", (xml, id) => xml("message", { type: "chat", to: CC, id }, xml("body", {}, "hi")), () => false],
  ];
  it.each(rows)("80 %s in one burst", async (name, make, usual) => {
    const c = await h.guest();
    const other = await h.guest();
    const xml = xmlFor(c);
    if (name.startsWith("chat")) {
      // messages: the answers (guide texts) carry no id; refusals are message errors with the id
      const ids = Array.from({ length: 80 }, () => nextId("m"));
      const t0 = Date.now();
      await Promise.all(ids.map((id) => c.send(make(xml, id))));
      await timedIq(c, CC, "get", xml("ping", { xmlns: NS.PING })); // answered (or refused) after the flood was handled
      noteLatency(Date.now() - t0);
      // Every message gets an answer (after the ping's, maybe: handlers run side by side): a
      // guide for those within the rate, a refusal with the message's id for the others. How many of
      // the last 30 are refused depends on how fast the burst was handled (the bucket refills 20 a second).
      const answers = () => received(c).filter((s) => s.is("message") && (s.attrs.type === "chat" || ids.includes(String(s.attrs.id))));
      for (const deadline = Date.now() + 5000; answers().length < 80 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
      const messages = answers();
      const guides = messages.filter((s) => s.attrs.type === "chat" && /^To reach an agent/.test(s.getChildText("body") ?? ""));
      const refused = messages.filter((s) => s.attrs.type === "error" && ids.includes(String(s.attrs.id)));
      expect(guides.length + refused.length).toBe(80);
      expect(guides.length).toBeGreaterThanOrEqual(BURST);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      expect(refused.every((r) => ids.indexOf(String(r.attrs.id)) >= BURST)).toBe(true); // the first BURST are never refused
      for (const r of refused) expectError(r, RATE);
    } else {
      const { replies, ms } = await flood(c, 80, (id) => make(xml, id));
      noteLatency(ms);
      const answered = replies.filter(usual);
      const refused = replies.filter((s) => errorOf(s)?.condition === RATE.condition);
      expect(answered.length + refused.length).toBe(80);
      expect(answered.length).toBeGreaterThanOrEqual(BURST);
      expect(refused.length).toBeGreaterThanOrEqual(1); // how many of the last 30: as fast as the burst was handled (20 a second refill)
      for (const r of refused) expectError(r, RATE);
      // the refused ones are the last ones
      expect(replies.slice(0, BURST).every(usual)).toBe(true);
    }
    // another customer, meanwhile, is answered at once
    expect((await timedIq(other, CC, "get", xmlFor(other)("ping", { xmlns: NS.PING }))).attrs.type).toBe("result");
  });

  it("80 join-queue in one burst: one session, conflicts, then resource-constraint", async () => {
    const c = await h.guest();
    const xml = xmlFor(c);
    const { replies, ms } = await flood(c, 80, (id) => xml("iq", { type: "set", to: BILLING, id }, xml("join-queue", { xmlns: NS.WG })));
    noteLatency(ms);
    const kinds = replies.map((s) => (s.attrs.type === "result" ? "result" : errorOf(s)?.condition));
    expect(kinds.filter((k) => k === "result")).toHaveLength(1);
    expect(kinds.slice(0, BURST).every((k) => k === "result" || k === "conflict")).toBe(true);
    expect(kinds.filter((k) => k === "resource-constraint").length).toBeGreaterThanOrEqual(20);
    expect((await h.r().app.cti.sessions(0)).filter((s) => s.customer === c.jid!.toString())).toHaveLength(1);
  });

  it("80 presence probes to billing in one burst: those beyond the rate dropped silently", async () => {
    const c = await h.guest();
    const xml = xmlFor(c);
    await Promise.all(Array.from({ length: 80 }, () => c.send(xml("presence", { type: "probe", to: BILLING }))));
    // The limiter decides in arrival order, and a refusal is sent at once: once this ping (the 81st) is
    // refused, any refusal of an earlier presence would have arrived before it.
    expectError(await timedIq(c, BILLING, "get", xml("ping", { xmlns: NS.PING })), RATE);
    for (let i = 0; i < BURST; i++) await waitFor(c, (s) => s.is("presence") && s.attrs.from === BILLING && !s.attrs.type, 3000, "a presence");
    expect(received(c).filter((s) => s.is("presence") && s.attrs.type === "error")).toEqual([]);
  });

  const flapRows: Array<[string, (i: number) => string | undefined]> = [
    ["49 identical away presences", () => undefined],
    ["49 away presences with different statuses", (i) => `reason ${i}`],
  ];
  it.each(flapRows)("an agent sends %s, available, then away ('really away'): not ready, not routed to", async (_name, status) => {
    const bob = await h.agent(BOB);
    const xml = xmlFor(bob);
    const away = (text?: string) => xml("presence", {}, xml("show", {}, "away"), text === undefined ? undefined : xml("status", {}, text));
    await Promise.all([
      ...Array.from({ length: 49 }, (_, i) => bob.send(away(status(i)))),
      bob.send(xml("presence")),
      bob.send(away("really away")),
    ]);
    // the last presence's reason tells it was applied; nothing after it can make bob ready again
    await until(() => h.api("/api/agents"), (agents) => agents.find((a: { jid: string }) => a.jid === BOB)?.reason === "really away", 5000, "bob's last presence");
    expect((await h.api("/api/agents")).find((a: { jid: string }) => a.jid === BOB)).toMatchObject({ state: "not-ready", reason: "really away" });
    const customer = await h.guest();
    expect((await joinAssigned(customer)).seat).toBe(ALICE);
    expect((await h.r().app.cti.agent(BOB))?.active).toBe(0);
  });
});
