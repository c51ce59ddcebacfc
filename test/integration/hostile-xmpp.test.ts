/**
 * Issue 9 item 4, hostile input over real XMPP: XML shape and size. One `it` per case; each sends one
 * hostile stanza through a real guest client and asserts the exact stanza error (condition and type),
 * that the reply is small and echoes nothing, and how long it took (printed, not asserted). After every case the
 * component is still connected and a normal customer is still served (test/helpers/hostile.ts).
 *
 * Families:
 *   - escaping-heavy payloads (long runs of > < & ' ") in text and attributes, per target;
 *   - nesting deeper than 32 elements or more than 1,000 elements, per stanza kind: policy-violation,
 *     refused before anything else; up to the bounds, processed as usual.
 */
import { describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { BILLING, CC, NS, SB, WG, el, escAttr, escText, exchange, expectError, hostileSuite, joinForm, label, nest, rawIq, siblings, stanza, noteLatency } from "../helpers/hostile.js";
import { errorOf } from "../helpers/stack.js";
import { nextId, waitFor } from "../helpers/xmpp.js";

const h = hostileSuite();

// -------------------------------------------------------------------------------------------------
// Escaping-heavy payloads

/** The characters of the runs: each alone, and all five mixed. */
const UNITS: Array<[name: string, unit: string]> = [[">", ">"], ["'", "'"], ['"', '"'], ["<", "<"], ["&", "&"], ["mixed", "<>&'\""]];

/** An attribute whose value needs no escaping of its own quote: '"' goes in single quotes. */
const hostileAttr = (name: string, value: string) =>
  value.includes('"') && !value.includes("'") ? ` ${name}='${value.replace(/&/g, "&amp;").replace(/</g, "&lt;")}'` : ` ${name}="${escAttr(value)}"`;

/**
 * A run of `unit` of up to `max` characters, cut so the stanza stays under Prosody's 256 KB c2s limit
 * on the wire: '>' and quotes travel as one byte each, '<' and '&' only escaped (4 and 5 bytes), so
 * 100 KB of those cannot reach the component at all (Prosody closes the sender's stream first).
 * Prosody re-escapes what it forwards: the component receives up to ~840 KB.
 */
function run(unit: string, max: number, where: "text" | "attr"): string {
  const perUnit = where === "text" ? escText(unit).length : hostileAttr("a", unit).length - 5;
  const units = Math.min(Math.floor(max / unit.length), Math.floor(210_000 / perUnit));
  return unit.repeat(units);
}
/** What an echo would look like: a piece of the payload long enough not to happen by chance. */
const echoOf = (payload: string) => payload.slice(0, 16);

type Reply = (c: Client, payload: string) => Promise<Element>;
const iqError = (to: string, type: "get" | "set", build: (p: string) => string) =>
  async (c: Client, p: string) => { const { reply, ms } = await rawIq(c, to, type, build(p)); noteLatency(ms); return reply; };

const unknownText = (p: string) => `<foo xmlns='urn:x'>${escText(p)}</foo>`;
const unknownAttr = (p: string) => `<foo xmlns='urn:x'${hostileAttr("data", p)}/>`;
const UNAVAILABLE = { condition: "service-unavailable", type: "cancel" };
const BAD = { condition: "bad-request", type: "modify" };
const NOT_FOUND = { condition: "item-not-found", type: "cancel" };

/** Target, where the run goes, its maximum length, the exact error. The contract's sizes first, then 10 KB runs elsewhere. */
const TARGETS: Array<[what: string, where: "text" | "attr", max: number, send: Reply, expected: { condition: string; type: string }]> = [
  ["unknown payload text, iq set to cc", "text", 140_000, iqError(CC, "set", unknownText), UNAVAILABLE],
  ["unknown payload attribute, iq get to cc", "attr", 100_000, iqError(CC, "get", unknownAttr), UNAVAILABLE],
  ["join-queue subject value", "text", 150_000, iqError(BILLING, "set", (p) => joinForm([["subject", p]])), BAD],
  ["unknown payload text, iq get to cc", "text", 10_000, iqError(CC, "get", unknownText), UNAVAILABLE],
  ["unknown payload text, iq set to billing", "text", 10_000, iqError(BILLING, "set", unknownText), UNAVAILABLE],
  ["unknown payload attribute, iq set to cc", "attr", 10_000, iqError(CC, "set", unknownAttr), UNAVAILABLE],
  ["unknown payload attribute, iq get to billing", "attr", 10_000, iqError(BILLING, "get", unknownAttr), UNAVAILABLE],
  ["join-queue field name", "attr", 10_000, iqError(BILLING, "set", (p) => joinForm([[p, "x"]])), BAD],
  ["join-queue skill", "text", 10_000, iqError(BILLING, "set", (p) => joinForm([["skills", p]])), BAD],
  ["end session attribute", "attr", 10_000, iqError(CC, "set", (p) => `<end xmlns='${NS.SB}'${hostileAttr("session", p)}/>`), BAD],
  ["disco#info node", "attr", 10_000, iqError(CC, "get", (p) => `<query xmlns='${NS.DISCO_INFO}'${hostileAttr("node", p)}/>`), NOT_FOUND],
  ["ad-hoc command node", "attr", 10_000, iqError(CC, "set", (p) => `<command xmlns='${NS.COMMANDS}' action='execute'${hostileAttr("node", p)}/>`), NOT_FOUND],
];

describe("escaping-heavy payloads: the exact error, small, nothing echoed", () => {
  const rows = TARGETS.flatMap(([what, where, max, send, expected]) => UNITS.map(([name, unit]) => {
    const payload = run(unit, max, where);
    return [`${what}: ${label(payload)} (${name})`, send, payload, expected] as const;
  }));
  it.each(rows)("%s", async (_name, send, payload, expected) => {
    const c = await h.guest();
    expectError(await send(c, payload), expected, [echoOf(payload)]);
  });

  it.each(UNITS.map(([name, unit]) => [`${label(run(unit, 140_000, "text"))} (${name})`, run(unit, 140_000, "text")] as const))(
    "a chat message to cc of %s gets the guide text, not an echo",
    async (_name, text) => {
      const c = await h.guest();
      const id = nextId("chat");
      const { reply, ms } = await exchange(c, stanza("message", { to: CC, type: "chat", id }, `<body>${escText(text)}</body>`),
        (s) => s.is("message") && s.attrs.from === CC && !!s.getChildText("body"));
      noteLatency(ms);
      expect(reply.attrs.type).toBe("chat");
      expect(reply.getChildText("body")).toMatch(/^To reach an agent, write to a queue/);
      expect(reply.toString().length).toBeLessThan(4096);
      expect(reply.getChildText("body")!.includes(echoOf(text))).toBe(false);
    });
});

describe("the largest form the limits allow, all escaping: accepted, relayed to the seat intact", () => {
  // 20 fields of 1,000 characters: the beginning message carries them escaped (up to 6 bytes each)
  // twice over (body and form), still far under what Prosody accepts from the component (512 KB).
  it.each(UNITS)("20 fields of 1,000 x %s", async (_name, unit) => {
    const c = await h.guest();
    const value = unit.repeat(Math.ceil(1000 / unit.length)).slice(0, 1000);
    const fields: Array<[string, string]> = [["name", value], ["subject", value], ...Array.from({ length: 18 }, (_, i): [string, string] => [`f${i}`, value])];
    const { reply, ms } = await rawIq(c, BILLING, "set", joinForm(fields));
    noteLatency(ms);
    const session = reply.getChild(SB.session, NS.SB)?.attrs.id;
    expect(session).toBeTruthy();
    const begin = await waitFor(h.alice(), (s) => s.getChild(SB.begin, NS.SB)?.attrs.session === session, 3000, "the beginning message");
    const form = Object.fromEntries(begin.getChild(SB.begin, NS.SB)!.getChild("x", NS.DATA)!.getChildren("field").map((f) => [f.attrs.var, f.getChildText("value")]));
    expect(form).toEqual(Object.fromEntries(fields.map(([k]) => [k, value.trim()])));
  });
});

// -------------------------------------------------------------------------------------------------
// Depth and size bounds

/** Depth counts the stanza itself; `inner` is placed `base` levels deep. */
interface Kind {
  name: string;
  base: number;
  /** The raw stanza with `inner` inside, and its id. */
  build(inner: string, id: string): string;
  /** Refusal: iq error, message error or presence error, by the stanza's id. */
  refusal: (s: Element, id: string) => boolean;
  /** What processing as usual looks like. */
  usual(reply: Element): void;
  usualReply: (s: Element, id: string) => boolean;
}

const resultOf = (s: Element, id: string) => s.attrs.id === id;
const KINDS: Kind[] = [
  {
    name: "iq with an unknown payload to cc", base: 2,
    build: (inner, id) => stanza("iq", { type: "get", to: CC, id }, `<foo xmlns='urn:x'>${inner}</foo>`),
    refusal: resultOf, usualReply: resultOf,
    usual: (s) => expectError(s, { condition: "service-unavailable", type: "cancel" }),
  },
  {
    name: "ping to cc", base: 2,
    build: (inner, id) => stanza("iq", { type: "get", to: CC, id }, `<ping xmlns='${NS.PING}'>${inner}</ping>`),
    refusal: resultOf, usualReply: resultOf,
    usual: (s) => expect(s.attrs.type).toBe("result"),
  },
  {
    name: "disco#info to cc", base: 2,
    build: (inner, id) => stanza("iq", { type: "get", to: CC, id }, `<query xmlns='${NS.DISCO_INFO}'>${inner}</query>`),
    refusal: resultOf, usualReply: resultOf,
    usual: (s) => expect(s.getChild("query", NS.DISCO_INFO)?.getChild("identity")?.attrs.category).toBe("component"),
  },
  {
    name: "ping to billing", base: 2,
    build: (inner, id) => stanza("iq", { type: "get", to: BILLING, id }, `<ping xmlns='${NS.PING}'>${inner}</ping>`),
    refusal: resultOf, usualReply: resultOf,
    usual: (s) => expect(s.attrs.type).toBe("result"),
  },
  {
    name: "join-queue with the nesting inside its <x>", base: 3,
    build: (inner, id) => stanza("iq", { type: "set", to: BILLING, id },
      el(WG.joinQueue, { xmlns: NS.WG }, el("x", { xmlns: NS.DATA, type: "submit" }, inner, `<field var='subject'><value>deep</value></field>`))),
    refusal: resultOf, usualReply: resultOf,
    usual: (s) => expect(s.getChild(SB.session, NS.SB)?.attrs.id).toBeTruthy(),
  },
  {
    name: "chat message to billing", base: 1,
    build: (inner, id) => stanza("message", { type: "chat", to: BILLING, id }, `<body>hello</body>`, inner),
    refusal: resultOf,
    usualReply: (s) => s.is("message") && !!s.getChild(SB.assigned, NS.SB),
    usual: (s) => expect(s.getChild(SB.assigned, NS.SB)!.attrs.seat).toBe("alice@acme.test"),
  },
  {
    name: "chat message to cc", base: 1,
    build: (inner, id) => stanza("message", { type: "chat", to: CC, id }, `<body>hello</body>`, inner),
    refusal: resultOf,
    usualReply: (s) => s.is("message") && s.attrs.from === CC && s.attrs.type === "chat",
    usual: (s) => expect(s.getChildText("body")).toMatch(/^To reach an agent, write to a queue/),
  },
  {
    name: "normal message without body to cc", base: 1,
    build: (inner, id) => stanza("message", { to: CC, id }, inner),
    refusal: resultOf,
    // nothing is answered to a message without a body: a ping after it answers once it was handled
    usualReply: (s) => s.is("iq") && s.attrs.id?.startsWith("after-") === true,
    usual: (s) => expect(s.attrs.type).toBe("result"),
  },
  {
    name: "presence probe to billing", base: 1,
    build: (inner, id) => stanza("presence", { type: "probe", to: BILLING, id }, inner),
    refusal: resultOf,
    usualReply: (s) => s.is("presence") && s.attrs.from === BILLING,
    usual: (s) => expect(s.attrs.type).toBeUndefined(),
  },
  {
    name: "presence probe to cc", base: 1,
    build: (inner, id) => stanza("presence", { type: "probe", to: CC, id }, inner),
    refusal: resultOf,
    usualReply: (s) => s.is("presence") && s.attrs.from === CC,
    usual: (s) => expect(s.attrs.type).toBeUndefined(),
  },
];

/** Elements of the stanza around `inner`: the base levels, plus the join form's field and value, or a body. */
const structureOf = (k: Kind) => k.base + (k.name.startsWith("join-queue") ? 2 : 0) + (k.name.startsWith("chat") ? 1 : 0);

const POLICY = { condition: "policy-violation", type: "modify" };

/** Sends the kind with `inner` and returns the first reply matching `match` (plus a ping for bodiless messages). */
async function send(c: Client, kind: Kind, inner: string, usual: boolean): Promise<{ reply: Element; ms: number }> {
  const id = nextId("d");
  const raw = kind.build(inner, id);
  const match = usual ? (s: Element) => kind.usualReply(s, id) : (s: Element) => kind.refusal(s, id);
  if (usual && kind.name.startsWith("normal message")) {
    const after = `after-${id}`;
    return exchange(c, raw + stanza("iq", { type: "get", to: CC, id: after }, `<ping xmlns='${NS.PING}'/>`), match);
  }
  return exchange(c, raw, match);
}

describe("nesting deeper than 32 elements: policy-violation (modify), before anything else", () => {
  const rows = KINDS.flatMap((kind) => [33, 100, 3_000, 30_000].map((depth) => [`${kind.name}, ${depth.toLocaleString("en")} levels`, kind, depth] as const));
  it.each(rows)("%s", async (_name, kind, depth) => {
    const c = await h.guest();
    const { reply, ms } = await send(c, kind, nest(depth - kind.base, "deep-inside"), false);
    expectError(reply, POLICY, ["deep-inside"]);
    expect(reply.name).toBe(kind.build("", "x").slice(1, kind.build("", "x").search(/[ >/]/)));
    noteLatency(ms);
  });
});

describe("more than 1,000 elements: policy-violation (modify)", () => {
  const rows = KINDS.flatMap((kind) => [1_001, 5_000].map((count) => [`${kind.name}, ${count.toLocaleString("en")} elements`, kind, count] as const));
  it.each(rows)("%s", async (_name, kind, count) => {
    const c = await h.guest();
    const { reply, ms } = await send(c, kind, siblings(count - structureOf(kind)), false);
    expectError(reply, POLICY);
    noteLatency(ms);
  });
});

describe("at the bounds (32 levels, 1,000 elements): processed as usual", () => {
  const rows = KINDS.flatMap((kind): Array<[string, Kind, (k: Kind) => string]> => [
    [`${kind.name}, 32 levels`, kind, (k) => nest(32 - k.base)],
    [`${kind.name}, 1,000 elements`, kind, (k) => siblings(1000 - structureOf(k))],
  ]);
  it.each(rows)("%s", async (_name, kind, inner) => {
    const c = await h.guest();
    const { reply, ms } = await send(c, kind, inner(kind), true);
    kind.usual(reply);
    noteLatency(ms);
  });
});

describe("Prosody's own limit (more in bad-input-cases)", () => {
  it("a 300 KB join-queue closes that client's stream with policy-violation; the component never sees it", async () => {
    const c = await h.guest();
    const closed = new Promise<{ condition: string }>((resolve) => c.on("error", (e: { name?: string; condition: string }) => { if (e.name === "StreamError") resolve(e); }));
    await c.write(stanza("iq", { type: "set", to: BILLING, id: nextId("big") }, joinForm([["subject", ">".repeat(300_000)]])));
    expect((await closed).condition).toBe("policy-violation");
    expect(await h.r().app.cti.sessionOf(c.jid!.toString())).toBeNull();
  });
});

describe("iq shape: Prosody refuses an iq without exactly one payload, a type or an id before the component sees it", () => {
  const CHILDREN = "Incorrect number of children for IQ stanza";
  const rows: Array<[string, string, string | undefined, string, string, boolean]> = [
    ["no payload (get)", CC, "get", "", CHILDREN, true],
    ["no payload (set)", BILLING, "set", "", CHILDREN, true],
    ["text only", CC, "get", escText(">".repeat(1000)), CHILDREN, true],
    ["two pings", CC, "get", `<ping xmlns='${NS.PING}'/><ping xmlns='${NS.PING}'/>`, CHILDREN, true],
    ["two children, the first of 140,000 '>'", CC, "get", `${unknownText(">".repeat(140_000))}<ping xmlns='${NS.PING}'/>`, CHILDREN, true],
    ["two children to billing, the first a join-queue", BILLING, "set", `${joinForm([["subject", "two"]])}<ping xmlns='${NS.PING}'/>`, CHILDREN, true],
    ["two children, the first 30,000 levels deep", CC, "get", `${nest(29_999)}<ping xmlns='${NS.PING}'/>`, CHILDREN, true],
    ["600 + 600 children in two payloads", CC, "get", `<a>${siblings(600)}</a><b>${siblings(600)}</b>`, CHILDREN, true],
    ["type 'bogus'", CC, "bogus", `<ping xmlns='${NS.PING}'/>`, "Invalid IQ type", true],
    ["no type", CC, undefined, `<ping xmlns='${NS.PING}'/>`, "Invalid IQ type", true],
    ["no id", CC, "get", `<ping xmlns='${NS.PING}'/>`, "Missing required 'id' attribute", false],
  ];
  it.each(rows)("%s", async (_name, to, type, payload, text, withId) => {
    const c = await h.guest();
    const id = nextId("shape");
    const { reply, ms } = await exchange(c, stanza("iq", { type, to, id: withId ? id : undefined }, payload),
      withId ? (s) => s.attrs.id === id : (s) => s.is("iq") && s.attrs.type === "error" && !s.attrs.id);
    noteLatency(ms);
    expect(errorOf(reply)).toEqual({ type: "modify", condition: "bad-request", text });
    expect(reply.getChildElements().map((e) => e.name)).toEqual(["error"]);
    expect(reply.toString().length).toBeLessThan(4096);
  });
});
