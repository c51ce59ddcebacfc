/**
 * Issue 5 item 4, one case per `it`: each kind of bad input gets a proper
 * XMPP error with a human text (from Prosody or from the component), nothing
 * crashes, nothing is lost, and the component keeps serving afterwards.
 * Everything goes over real XMPP (Prosody + Redis + the component).
 *
 * The component's own parser (ltx, on its XEP-0114 stream) never sees a
 * DOCTYPE, comment or oversized stanza: Prosody refuses those on the client's
 * stream, and forwards only stanzas it parsed and serializes again (so entities
 * arrive as plain escaped text), all under its 256 KB c2s limit, within the
 * 512 KB component limit.
 */
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { NS } from "../../protocol/names.js";
import { BILLING, CC, errorOf, iq, until, useStack, type Running } from "../helpers/stack.js";
import { waitFor, xmlFor } from "../helpers/xmpp.js";

let r: Running;
const { guest, agent } = useStack({ customerGraceSeconds: 0 }, (running) => { r = running; });
afterEach(() => { expect(r.app.isOnline()).toBe(true); }); // and the component still up after every case

type Field = { var?: string; values: string[] };
/** join-queue with a data form built field by field, so a test can make it malformed. */
function joinWith(c: Client, fields: Field[] = [], extra: Element[] = [], type = "submit") {
  const xml = xmlFor(c);
  const form = fields.length ? xml("x", { xmlns: NS.DATA, type }, ...fields.map((f) => xml("field", { var: f.var }, ...f.values.map((v) => xml("value", {}, v))))) : undefined;
  return iq(c, BILLING, "set", xml("join-queue", { xmlns: NS.WG }, form, ...extra));
}
const sb = (c: Client, name: string, attrs: Record<string, string>, text?: string) =>
  iq(c, CC, "set", xmlFor(c)(name, { xmlns: NS.SB, ...attrs }, text));
const chat = (c: Client, to: string, body: string) => c.send(xmlFor(c)("message", { to, type: "chat" }, xmlFor(c)("body", {}, body)));
const is = (name: string, ns: string) => (s: Element) => s.is("message") && !!s.getChild(name, ns);
const formOf = (begin: Element) => Object.fromEntries(begin.getChild("begin", NS.SB)!.getChild("x", NS.DATA)!.getChildren("field").map((f) => [f.attrs.var, f.getChildText("value")]));

/** The stream error a client gets (xmpp.js emits it as an "error" with a condition). */
const streamErrorOf = (c: Client) => new Promise<{ condition: string; text: string }>((resolve) => {
  c.on("error", (e: { name?: string; condition: string; text: string }) => { if (e.name === "StreamError") resolve(e); });
});

async function api(path: string) {
  const res = await fetch(`http://127.0.0.1:${r.app.webPort}${path}`, { headers: { authorization: `Bearer ${r.config.admin.token}` } });
  return res.json() as Promise<any>;
}

/** A customer is queued with alice and writes to her, so the session is in service. */
async function inService() {
  const alice = await agent("alice@acme.test");
  const customer = await guest();
  const joined = (await joinWith(customer)).getChild("session", NS.SB)!;
  const session = joined.attrs.id!;
  await waitFor(alice, is("begin", NS.SB));
  await chat(customer, "alice@acme.test", "hello");
  await until(() => r.app.cti.session(session), (s) => s?.state === "in-service", 5000, "in service");
  return { alice, customer, session, token: joined.attrs.token! };
}

describe("oversized stanzas", () => {
  it("over Prosody's 256 KB c2s limit: the sender's stream is closed with policy-violation; the component keeps serving", async () => {
    await agent("alice@acme.test", "away");
    const big = await guest();
    const closed = streamErrorOf(big);
    const xml = xmlFor(big);
    await big.send(xml("iq", { type: "set", to: BILLING, id: "big" }, xml("join-queue", { xmlns: NS.WG },
      xml("x", { xmlns: NS.DATA, type: "submit" }, xml("field", { var: "subject" }, xml("value", {}, "x".repeat(300_000)))))));
    expect(await closed).toEqual(expect.objectContaining({ condition: "policy-violation", text: "XML stanza is too big" }));
    // Prosody refused it before routing: the component never saw it, and serves the next customer
    expect((await r.app.cti.sessions(0)).some((s) => s.customer === big.jid!.toString())).toBe(false);
    expect((await joinWith(await guest())).attrs.type).toBe("result");
  });

  it("under that limit but over the component's limits: bad-request with a text, nothing queued", async () => {
    await agent("alice@acme.test", "away");
    const c = await guest();
    const e = errorOf(await joinWith(c, [{ var: "subject", values: ["y".repeat(200_000)] }]));
    expect(e).toEqual({ type: "modify", condition: "bad-request", text: "The form field subject is longer than 1000 characters." });
    expect(await r.app.cti.sessionOf(c.jid!.toString())).toBeNull();
    expect((await joinWith(c)).attrs.type).toBe("result");
  });

  it("a plain chat of 200 KB to a queue joins it with the first 200 characters as the subject", async () => {
    const alice = await agent("alice@acme.test");
    const c = await guest();
    await chat(c, BILLING, "z".repeat(200_000));
    expect(formOf(await waitFor(alice, is("begin", NS.SB)))).toEqual({ subject: "z".repeat(200) });
  });
});

describe("restricted XML", () => {
  it("a DOCTYPE (entity declarations) before the stream is refused by Prosody with a stream error", async () => {
    const socket = connect(r.config.ports.c2s, "127.0.0.1");
    let reply = "";
    socket.on("data", (d) => { reply += d.toString(); });
    const closed = new Promise((resolve) => socket.on("close", resolve));
    socket.write(`<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>`
      + `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${r.config.guestDomain}' version='1.0'>`);
    await closed;
    // Prosody's parser flags it as restricted XML, but mod_c2s reports every parse error as not-well-formed, with no text
    expect(reply).toMatch(/<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/><\/stream:error>/);
    expect(reply).not.toContain("lol");
  });

  it.each([
    ["a DOCTYPE mid-stream", `<!DOCTYPE x [<!ENTITY e "boom">]>`],
    ["an undeclared entity", `<message to='${BILLING}' type='chat'><body>&xxe;</body></message>`],
    ["a reference to U+0000", `<message to='${BILLING}' type='chat'><body>&#x0;</body></message>`],
    ["a comment", `<!-- hello -->`],
  ])("%s closes only that client's stream; others and the component are unaffected", async (_what, raw) => {
    const alice = await agent("alice@acme.test");
    const bad = await guest();
    const closed = streamErrorOf(bad);
    await bad.write(raw);
    expect(await closed).toEqual(expect.objectContaining({ condition: "not-well-formed", text: "" })); // Prosody 0.12 gives no text
    // the component never saw it: no session, and a well-formed customer is served as usual
    expect((await r.app.cti.sessions(0)).some((s) => s.customer === bad.jid!.toString())).toBe(false);
    await chat(await guest(), BILLING, "still there?");
    expect(formOf(await waitFor(alice, is("begin", NS.SB)))).toEqual({ subject: "still there?" });
  });

  it("predefined entities and character references are decoded once, never expanded again", async () => {
    const alice = await agent("alice@acme.test");
    const c = await guest();
    // escaped by Prosody's parser once: &amp;lt; must arrive as the 4 characters "&lt;", not "<"
    await c.write(`<iq type='set' to='${BILLING}' id='raw1'><join-queue xmlns='${NS.WG}'><x xmlns='${NS.DATA}' type='submit'>`
      + `<field var='subject'><value>&lt;b&gt;&#x41;&#66;&amp;lt;&amp;amp;</value></field></x></join-queue></iq>`);
    expect((await waitFor(c, (s) => s.attrs.id === "raw1")).attrs.type).toBe("result");
    const begin = await waitFor(alice, is("begin", NS.SB));
    expect(formOf(begin)).toEqual({ subject: "<b>AB&lt;&amp;" });
    expect(begin.getChildText("body")).toContain(`"<b>AB&lt;&amp;"`);
  });
});

describe("malformed forms", () => {
  const many = (n: number, value: string | null) => Array.from({ length: n }, (_, i) => ({ var: `f${i}`, values: value === null ? [] : [value] }));
  it.each<[string, Field[], string, RegExp]>([
    ["a field with no var", [{ values: ["Ann"] }], "submit", /needs a var attribute/],
    ["a duplicate var", [{ var: "name", values: ["Ann"] }, { var: "name", values: ["Bob"] }], "submit", /more than once/],
    ["a form of type form", [{ var: "name", values: ["Ann"] }], "form", /type submit/],
    // (1000 of them would be refused earlier, as a stanza of more than 1000 elements: policy-violation)
    ["100 fields with values", many(100, "v"), "submit", /At most/],
    ["100 empty fields", many(100, null), "submit", /At most/],
    ["100 skills", [{ var: "skills", values: Array.from({ length: 100 }, (_, i) => `s${i}`) }], "submit", /At most 10 skills/],
    ["a field name that is markup", [{ var: "<b>", values: ["x"] }], "submit", /not a valid form field name/],
  ])("%s: bad-request with a text, nothing queued", async (_what, fields, type, text) => {
    await agent("alice@acme.test", "away"); // a valid join would wait, so a queued one would show
    const c = await guest();
    expect(errorOf(await joinWith(c, fields, [], type))).toEqual({ type: "modify", condition: "bad-request", text: expect.stringMatching(text) });
    expect(await r.app.cti.sessionOf(c.jid!.toString())).toBeNull();
    expect((await api("/api/queues")).find((q: any) => q.name === "billing").waiting).toBe(0);
  });

  it("an unknown child next to the form is ignored (RFC 6120 extensibility) and the form is read", async () => {
    const alice = await agent("alice@acme.test");
    const c = await guest();
    const xml = xmlFor(c);
    const extra = [xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, "http://example.com")), xml("nick", { xmlns: "http://jabber.org/protocol/nick" }, "Nicky")];
    expect((await joinWith(c, [{ var: "name", values: ["Ann"] }], extra)).attrs.type).toBe("result");
    expect(formOf(await waitFor(alice, is("begin", NS.SB)))).toEqual({ name: "Ann" });
  });

  it("feedback and leave-message with bad values: bad-request with a text, nothing stored", async () => {
    const { customer, session } = await inService();
    expect((await sb(customer, "end", { session })).attrs.type).toBe("result");
    for (const score of ["", "five", "4.5", "0", "6"])
      expect(errorOf(await sb(customer, "feedback", { session, score }))).toMatchObject({ condition: "bad-request", text: "The score must be a whole number from 1 to 5." });
    expect(errorOf(await sb(customer, "feedback", { session, score: "3" }, "c".repeat(2001)))?.text).toMatch(/longer than 2000/);
    expect((await api(`/api/sessions/${session}`)).feedback).toBeNull();
    const xml = xmlFor(customer);
    const leave = (...fields: Element[]) => iq(customer, BILLING, "set", xml("leave-message", { xmlns: NS.SB }, xml("x", { xmlns: NS.DATA, type: "submit" }, ...fields)));
    expect(errorOf(await leave(xml("field", { var: "name" }, xml("value", {}, "Ann"))))).toMatchObject({ condition: "bad-request", text: "Please write a message." });
    expect(errorOf(await leave(xml("field", {}, xml("value", {}, "hi"))))).toMatchObject({ condition: "bad-request", text: "Every form field needs a var attribute." });
    expect(errorOf(await leave(...["message", "message"].map((v) => xml("field", { var: v }, xml("value", {}, "hi")))))).toMatchObject({ condition: "bad-request", text: "A form field is given more than once." });
    expect(await api("/api/messages")).toEqual([]);
  });
});

describe("someone outside the session", () => {
  it("gets forbidden with a text for in-service, end and feedback; the session goes on", async () => {
    const { alice, customer, session } = await inService();
    const bob = await agent("bob@acme.test", "away");
    const stranger = await guest();
    for (const c of [stranger, bob]) {
      expect(errorOf(await sb(c, "end", { session }))).toEqual({ type: "auth", condition: "forbidden", text: "Only the customer or the agent of a session may end it." });
      expect(errorOf(await sb(c, "in-service", { session }))).toEqual({ type: "auth", condition: "forbidden", text: "Only the seat allocated to this session may report it in-service." });
      expect(errorOf(await sb(c, "feedback", { session, score: "1" }))).toEqual({ type: "auth", condition: "forbidden", text: "Only the customer of a session may rate it." });
    }
    expect(errorOf(await sb(stranger, "resume", { session, token: "guessed" }))).toEqual({ type: "auth", condition: "forbidden", text: "That token does not open this session." });
    // still live, still the customer's, and chat still flows
    expect(await r.app.cti.session(session)).toMatchObject({ state: "in-service", customer: customer.jid!.toString(), seat: "alice@acme.test" });
    await chat(customer, "alice@acme.test", "still here");
    await waitFor(alice, (s) => s.getChildText("body") === "still here");
  });
});

describe("replayed session ids", () => {
  it("after the end: end, in-service and resume get item-not-found, feedback counts once, a new join gets a new id", async () => {
    const { alice, customer, session, token } = await inService();
    expect((await sb(alice, "in-service", { session })).attrs.type).toBe("result"); // a repeat while live is harmless
    expect((await sb(customer, "end", { session })).attrs.type).toBe("result");
    const ended = await api(`/api/sessions/${session}`);
    const gone = { type: "cancel", condition: "item-not-found" };
    expect(errorOf(await sb(customer, "end", { session }))).toEqual({ ...gone, text: "This session has already ended." });
    expect(errorOf(await sb(alice, "end", { session }))).toEqual({ ...gone, text: "This session has already ended." });
    expect(errorOf(await sb(alice, "in-service", { session }))).toEqual({ ...gone, text: "This session has already ended." });
    expect(errorOf(await sb(await guest(), "resume", { session, token }))).toEqual({ ...gone, text: "This session is over. Please start a new chat." });
    expect((await sb(customer, "feedback", { session, score: "4" }, "great")).attrs.type).toBe("result");
    expect(errorOf(await sb(customer, "feedback", { session, score: "1" }, "changed my mind"))).toEqual({ type: "cancel", condition: "conflict", text: "This chat has already been rated. Thank you!" });
    // no second effect: same end, first rating kept
    expect(await api(`/api/sessions/${session}`)).toEqual({ ...ended, feedback: { score: 4, comment: "great" } });
    const again = (await joinWith(customer)).getChild("session", NS.SB)!.attrs.id;
    expect(again).not.toBe(session);
  });
});

describe("unicode", () => {
  const texts = {
    family: "👩‍👩‍👧‍👦", // one grapheme, 11 UTF-16 units (ZWJ sequence)
    rtl: "مرحبا עולם \u200F!",
    combining: "Zoe\u0308 e" + "\u0301".repeat(300), // a 301-unit grapheme cluster
    invisible: "a\u200Bb\uFEFFc\u2028d",
    replacement: "\uFFFD\uFFFD",
    astral: "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🏳️‍🌈",
  };
  const all = Object.values(texts).join(" | ");

  it("names, subjects and messages reach the seat and the HTTP API intact", async () => {
    const alice = await agent("alice@acme.test");
    const c = await guest();
    const name = `${texts.family} ${texts.rtl} ${texts.combining}`;
    expect((await joinWith(c, [{ var: "name", values: [name] }, { var: "subject", values: [all] }])).attrs.type).toBe("result");
    const begin = await waitFor(alice, is("begin", NS.SB));
    expect(formOf(begin)).toEqual({ name, subject: all });
    expect(begin.getChildText("body")).toContain(name);
    await chat(c, "alice@acme.test", all);
    expect((await waitFor(alice, (s) => s.getChildText("body") === all)).attrs.from).toBe(c.jid!.toString());
    const listed = (await api("/api/sessions")).find((s: any) => s.customer === c.jid!.toString());
    expect(listed.form).toEqual({ name, subject: all });
  });

  it("a plain chat's subject is cut without splitting a character", async () => {
    const alice = await agent("alice@acme.test");
    const c = await guest();
    await chat(c, BILLING, "a".repeat(199) + "😀 and more");
    expect(formOf(await waitFor(alice, is("begin", NS.SB))).subject).toBe("a".repeat(199) + "😀");
  });
});
