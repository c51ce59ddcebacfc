/**
 * Bad input over real XMPP: a flood from one client is refused with a clear
 * error, and a seeded fuzz of random stanzas from a small grammar gets an
 * answer to every iq and leaves the component serving.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { NS, SB, WG } from "../../protocol/names.js";
import { agentOnline, errorOf, iq, startAll, type Running } from "../helpers/stack.js";
import { connectGuest, stopAll, waitFor, xmlFor } from "../helpers/xmpp.js";

let r: Running;
const open: Client[] = [];
beforeAll(async () => { r = await startAll({ rateLimit: { burst: 400, perSecond: 5 } }); });
afterAll(async () => { await stopAll(...open); await r?.stop(); });

function prng(seed: number) { // mulberry32
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("bad input", () => {
  it("survives a seeded fuzz of random stanzas, answering every iq", async () => {
    const random = prng(42);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    const c = await connectGuest(r.config);
    open.push(c);
    const xml = xmlFor(c);
    const strings = ["", "s1", "billing", "x".repeat(3000), "<script>alert(1)</script>", "👩‍💻 émoji עברית", "a@b/c", "\u200b", "' OR 1=1 --", "../../etc/passwd"];
    const namespaces = [NS.WG, NS.SB, NS.DATA, NS.COMMANDS, NS.DISCO_INFO, NS.DISCO_ITEMS, "urn:example:nope", ""];
    const names = [...Object.values(WG), ...Object.values(SB), "command", "query", "x", "field", "ping", "nope"];
    const targets = ["cc.acme.test", "billing@cc.acme.test", "vip@cc.acme.test", "nope@cc.acme.test", "cc.acme.test/res"];
    const element = (depth: number): Element => {
      const attrs: Record<string, string> = {};
      for (const a of ["xmlns", "session", "jid", "node", "token", "score", "action", "var", "type", "id"]) if (random() < 0.35) attrs[a] = a === "xmlns" ? pick(namespaces) : pick(strings);
      const children = depth > 0 ? Array.from({ length: Math.floor(random() * 3) }, () => (random() < 0.3 ? pick(strings) : element(depth - 1))) : [];
      return xml(pick(names), attrs, ...children);
    };
    const pending: Array<Promise<Element>> = [];
    for (let i = 0; i < 300; i++) {
      const to = pick(targets);
      const kind = pick(["iq", "iq", "message", "presence"] as const);
      if (kind === "iq") {
        const id = `fuzz${i}`;
        pending.push(waitFor(c, (s) => s.attrs.id === id, 10_000, `answer to ${id}`));
        await c.send(xml("iq", { type: pick(["get", "set"]), to, id }, element(2)));
      } else if (kind === "message") {
        await c.send(xml("message", { to, type: pick(["chat", "normal", "headline", "groupchat"]) }, random() < 0.5 ? xml("body", {}, pick(strings)) : undefined, element(2)));
      } else {
        await c.send(xml("presence", { to, type: pick(["subscribe", "probe", "unsubscribe", "bogus"]) }, element(1)));
      }
    }
    const answers = await Promise.all(pending);
    expect(answers.every((a) => a.attrs.type === "result" || (a.attrs.type === "error" && (errorOf(a)?.text ?? "").length > 0))).toBe(true);
    expect(r.app.isOnline()).toBe(true);
    // Still serving: a well-formed join works.
    const alice = await agentOnline(r, "alice@acme.test");
    open.push(alice);
    const customer = await connectGuest(r.config);
    open.push(customer);
    expect((await iq(customer, "billing@cc.acme.test", "set", xmlFor(customer)("join-queue", { xmlns: NS.WG }))).attrs.type).toBe("result");
  });

  it("refuses a flood from one client with resource-constraint and a text", async () => {
    const c = await connectGuest(r.config);
    open.push(c);
    const replies = await Promise.all(Array.from({ length: 450 }, (_, i) => {
      const reply = waitFor(c, (s) => s.attrs.id === `flood${i}`, 10_000);
      void c.send(xmlFor(c)("iq", { type: "get", to: "cc.acme.test", id: `flood${i}` }, xmlFor(c)("ping", { xmlns: NS.PING })));
      return reply;
    }));
    const refused = replies.filter((s) => errorOf(s)?.condition === "resource-constraint");
    expect(refused.length).toBeGreaterThan(0);
    expect(errorOf(refused[0]!)).toMatchObject({ type: "wait", text: expect.stringMatching(/slow down/) });
    expect(replies.filter((s) => s.attrs.type === "result").length).toBeGreaterThanOrEqual(400);
  });
});
