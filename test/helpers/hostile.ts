/**
 * Shared machinery of the hostile-input suites (test/integration/hostile-*.test.ts, issue 9 item 4).
 *
 * Each file gets its own stack (useStack) with one agent, alice, logged in for the whole file
 * (maxChats high), and after every case checks that
 *   - the component is still connected and was never cut off during the case (r.app.connections()
 *     unchanged), and Prosody's console shows no trouble
 *     with the component stream since the case began;
 *   - a normal customer is still served: a fresh guest joins billing, gets <assigned/>, ends.
 *
 * Cases send their hostile input as raw XML (c.write) when it is large or deep: ltx serializes
 * recursively, so a client-side toString() of 30,000 nested elements would overflow the stack, and
 * raw text lets a payload of '>' travel unescaped (1 byte each, under Prosody's 256 KB c2s limit).
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import type { ConfigInput } from "../../component/config.js";
import { NS, SB, WG } from "../../protocol/names.js";
import { BILLING, CC, agentOnline, errorOf, iq, until, useStack, type Running } from "./stack.js";
import { clearPending, connectAccount, connectGuest, nextId, stopAll, waitFor, xmlFor } from "./xmpp.js";

export { BILLING, CC, NS, SB, WG };

export const ALICE = "alice@acme.test";
export const BOB = "bob@acme.test";
export const SAM = "sam@acme.test";

/** The stack every hostile file runs on: the test stack's queues, alice with room for everyone. */
export const HOSTILE_OVERRIDES: Partial<ConfigInput> = {
  customerGraceSeconds: 0, // a stopped guest's session ends at once, so cases leave nothing behind
  agents: [
    { jid: ALICE, name: "Alice", password: "alice-pw", skills: ["billing"], maxChats: 100 },
    { jid: BOB, name: "Bob", password: "bob-pw", skills: ["billing"], maxChats: 2 },
  ],
};

/** Lines Prosody prints (at its "warn" level) when the component's stream is in trouble. */
const COMPONENT_TROUBLE = /component disconnected|Disconnecting component|Error processing component stream|External component .* XML parse error|Component not connected/i;

/** The lines `after` added to `before` (Prosody's output is a rolling tail of 200 lines). */
function addedLines(before: string, after: string): string[] {
  if (after.startsWith(before)) return after.slice(before.length).split("\n").filter(Boolean);
  const last = before.split("\n").filter(Boolean).pop();
  const at = last ? after.lastIndexOf(last) : -1;
  return (at === -1 ? after : after.slice(at + last!.length)).split("\n").filter(Boolean);
}

export interface HostileSuite {
  r(): Running;
  /** A fresh anonymous customer, stopped after the case. */
  guest(): Promise<Client>;
  /** An agent logged in with a presence (ready, or not ready with `show`), stopped after the case. */
  agent(jid: string, show?: string): Promise<Client>;
  /** Another resource of an account that sends no presence (so the agent's state is untouched), stopped after the case. */
  account(jid: string): Promise<Client>;
  /** The file-long agent's client. */
  alice(): Client;
  /** An admin API GET (JSON). */
  api(path: string): Promise<any>;
}

export function hostileSuite(overrides: Partial<ConfigInput> = {}): HostileSuite {
  let r: Running;
  let alice: Client | undefined;
  let logBefore = "";
  let usedBob = false;
  // Declared before useStack's, so it runs before the stack stops (after* hooks run in declaration order).
  afterAll(async () => { printLatencies(); await stopAll(alice); });
  const stack = useStack({ ...HOSTILE_OVERRIDES, ...overrides }, (running) => { r = running; }, { clean: false });
  beforeAll(async () => { alice = await agentOnline(r, ALICE); });
  let connectionsBefore = 0;
  beforeEach(() => {
    logBefore = r.stack.prosodyOutput();
    connectionsBefore = r.app.connections();
    usedBob = false;
  });
  afterEach(async () => {
    // Still connected, and never cut off meanwhile (Prosody logs "component disconnected" only at info level).
    expect({ online: r.app.isOnline(), connections: r.app.connections() }).toEqual({ online: true, connections: connectionsBefore });
    expect(addedLines(logBefore, r.stack.prosodyOutput()).filter((l) => COMPONENT_TROUBLE.test(l))).toEqual([]);
    // bob's client was stopped by useStack: wait until the CTI has heard it, so he is not routed to
    if (usedBob) await until(() => r.app.cti.agent(BOB), (a) => a?.state === "offline", 5000, "bob offline");
    await customerServed(r);
    clearPending(alice!);
  });
  const passwords = () => Object.fromEntries([...r.config.agents, ...r.config.supervisors, ...r.config.customers].map((a) => [a.jid, a.password]));
  return {
    r: () => r,
    guest: stack.guest,
    agent: async (jid, show) => {
      if (jid === BOB) usedBob = true;
      return stack.agent(jid, show);
    },
    account: async (jid) => {
      if (jid === BOB) usedBob = true;
      return stack.track(await connectAccount(r.config, jid, passwords()[jid]!, nextId("res")));
    },
    alice: () => alice!,
    api: async (path) => {
      const res = await fetch(`http://127.0.0.1:${r.app.webPort}${path}`, { headers: { authorization: `Bearer ${r.config.admin.token}` } });
      return res.json();
    },
  };
}

/** A normal customer is still served: a fresh guest joins billing, is assigned a seat, and ends the session. */
export async function customerServed(r: Running): Promise<void> {
  const c = await connectGuest(r.config);
  try {
    const xml = xmlFor(c);
    const joined = await iq(c, BILLING, "set", xml("join-queue", { xmlns: NS.WG }));
    expect(errorOf(joined) ?? joined.attrs.type).toBe("result");
    const session = joined.getChild(SB.session, NS.SB)!.attrs.id!;
    const assigned = await waitFor(c, (s) => s.is("message") && !!s.getChild(SB.assigned, NS.SB), 3000, "assigned");
    expect(assigned.getChild(SB.assigned, NS.SB)!.attrs.session).toBe(session);
    const ended = await iq(c, CC, "set", xml(SB.end, { xmlns: NS.SB, session }));
    expect(errorOf(ended) ?? ended.attrs.type).toBe("result");
  } finally {
    await stopAll(c);
  }
}

// ---------------------------------------------------------------------------------------------
// Raw XML

/** Text content escaped minimally: only '&' and '<' must be; '>', quotes stay one byte each. */
export const escText = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
/** An attribute value for a double-quoted attribute: '&', '<' and '"' escaped; "'" and '>' stay. */
export const escAttr = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;");

export type Attrs = Record<string, string | undefined>;
export const attrs = (a: Attrs) => Object.entries(a).filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}="${escAttr(v!)}"`).join("");
/** One element as raw XML; children are raw XML strings. */
export const el = (name: string, a: Attrs = {}, ...children: string[]) =>
  children.length ? `<${name}${attrs(a)}>${children.join("")}</${name}>` : `<${name}${attrs(a)}/>`;
/** `levels` nested elements <a><a>...inner...</a></a> (levels 0: just inner). */
export const nest = (levels: number, inner = "", name = "a") => `<${name}>`.repeat(levels) + inner + `</${name}>`.repeat(levels);
/** `count` empty sibling elements. */
export const siblings = (count: number, name = "b") => `<${name}/>`.repeat(count);

export const stanza = (kind: "iq" | "message" | "presence", a: Attrs, ...children: string[]) => el(kind, a, ...children);

// ---------------------------------------------------------------------------------------------
// Replies

export interface Expected { condition: string; type: string }

/** Sends raw XML and waits for the stanza with that id (error replies keep the id). */
export async function exchange(c: Client, raw: string, match: (s: Element) => boolean): Promise<{ reply: Element; ms: number }> {
  const t0 = Date.now();
  const reply = waitFor(c, match, 5000, "the reply");
  await c.write(raw);
  const got = await reply;
  return { reply: got, ms: Date.now() - t0 };
}
export const byId = (id: string) => (s: Element) => s.attrs.id === id;

/** Every attribute value and text in a (small) reply, decoded, to look for echoes. */
export function allText(e: Element): string {
  const parts: string[] = [];
  const walk = (x: Element) => {
    parts.push(x.name, ...Object.values(x.attrs as Record<string, string>));
    for (const child of x.children) typeof child === "string" ? parts.push(child) : walk(child as Element);
  };
  walk(e);
  return parts.join("\u0000");
}

/**
 * The reply is the expected stanza error: the condition and type, a text in English, small (< 4 KB),
 * an iq error carries nothing but <error/>, and nothing in it repeats `sent` (pieces of the input).
 */
export function expectError(reply: Element, expected: Expected, sent: string[] = []): void {
  expect(reply.attrs.type).toBe("error");
  const e = errorOf(reply);
  expect({ condition: e?.condition, type: e?.type }).toEqual(expected);
  const error = reply.getChild("error")!;
  const text = error.getChild("text", NS.STANZAS);
  expect(text?.attrs["xml:lang"]).toBe("en");
  expect((text?.text() ?? "").length).toBeGreaterThan(0);
  const children = reply.getChildElements().map((c) => c.name);
  if (reply.is("iq") || reply.is("presence")) expect(children).toEqual(["error"]);
  else expect(children.filter((n) => n !== "body")).toEqual(["error"]);
  expect(Buffer.byteLength(reply.toString())).toBeLessThan(4096);
  // the addresses may name what the client addressed; the error and a body may not repeat its input
  const seen = allText(error) + (reply.getChildText("body") ?? "");
  for (const piece of sent) expect(seen.includes(piece)).toBe(false);
}

/**
 * How long each hostile input took to be answered. The goal is under a second; a timing goal is a
 * figure, not an assertion (on a loaded machine a 30,000-level stanza alone takes Prosody ~1 s to
 * parse): every reply must come (within waitFor's 5 s), and the file prints the distribution.
 */
const latencies: number[] = [];
export const noteLatency = (ms: number) => { latencies.push(ms); };
function printLatencies(): void {
  if (latencies.length === 0) return;
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  console.log(`hostile replies: ${sorted.length}, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${sorted.at(-1)} ms, over 1 s: ${sorted.filter((ms) => ms >= 1000).length}`);
}

/** An iq built with the client's xml(), timed (see noteLatency). */
export async function timedIq(c: Client, to: string, type: "get" | "set", child: Element): Promise<Element> {
  const t0 = Date.now();
  const reply = await iq(c, to, type, child);
  noteLatency(Date.now() - t0);
  return reply;
}

/** The bad-action child XEP-0050 puts beside bad-request. */
export const badAction = (reply: Element) => reply.getChild("error")?.getChild("bad-action", NS.COMMANDS);

/** An iq sent as raw XML; returns the reply and how long it took. */
export async function rawIq(c: Client, to: string, type: "get" | "set", payload: string): Promise<{ reply: Element; ms: number; id: string }> {
  const id = nextId("h");
  const { reply, ms } = await exchange(c, stanza("iq", { type, to, id }, payload), byId(id));
  return { reply, ms, id };
}

/** A join-queue form with the given fields (raw XML). */
export const joinForm = (fields: Array<[string | undefined, ...string[]]>, extra = "") =>
  el(WG.joinQueue, { xmlns: NS.WG },
    el("x", { xmlns: NS.DATA, type: "submit" }, ...fields.map(([v, ...values]) => el("field", { var: v }, ...values.map((x) => `<value>${escText(x)}</value>`))), extra));

/** A guest joins billing and is assigned to a seat (alice, unless told). */
export async function joinAssigned(c: Client): Promise<{ session: string; token: string; seat: string }> {
  const joined = await iq(c, BILLING, "set", xmlFor(c)("join-queue", { xmlns: NS.WG }));
  expect(errorOf(joined) ?? joined.attrs.type).toBe("result");
  const { id, token } = joined.getChild(SB.session, NS.SB)!.attrs;
  const assigned = await waitFor(c, (s) => s.is("message") && s.getChild(SB.assigned, NS.SB)?.attrs.session === id, 3000, "assigned");
  return { session: id!, token: token!, seat: assigned.getChild(SB.assigned, NS.SB)!.attrs.seat! };
}

/** An iq to the component's domain in our namespace, built with the client's xml(). */
export const sbIq = (c: Client, name: string, a: Attrs, text?: string) =>
  iq(c, CC, "set", xmlFor(c)(name, { xmlns: NS.SB, ...a }, text));

/** A readable label for a long or odd string in a test name. */
export function label(s: string): string {
  if (s === "") return "''";
  if (s.length <= 24) return JSON.stringify(s);
  const first = [...s][0]!;
  return [...s].every((ch) => ch === first) ? `${s.length.toLocaleString("en")} x ${JSON.stringify(first)}` : `${JSON.stringify(s.slice(0, 12))}... (${s.length.toLocaleString("en")} chars)`;
}
