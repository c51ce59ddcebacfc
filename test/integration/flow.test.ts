/**
 * The patent's instant-messaging flow end to end: real Prosody (with the
 * seat module), real Redis, the component, and customers and agents on real
 * XMPP connections.
 */
import { describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { NS } from "../../protocol/names.js";
import { BILLING, CC, errorOf, iq, until, useStack, type Running } from "../helpers/stack.js";
import { connectAccount, received, waitFor, xmlFor } from "../helpers/xmpp.js";
import { checkResponse } from "../helpers/openapi.js";

let r: Running;
// The required minimum: a customer who goes offline is removed at once (no grace for resuming).
const { track, guest, agent } = useStack({ customerGraceSeconds: 0 }, (running) => { r = running; });

function joinQueue(c: Client, fields: Record<string, string[]> = {}, to = BILLING) {
  const xml = xmlFor(c);
  const form = Object.keys(fields).length
    ? xml("x", { xmlns: NS.DATA, type: "submit" }, ...Object.entries(fields).map(([k, vs]) => xml("field", { var: k }, ...vs.map((v) => xml("value", {}, v)))))
    : undefined;
  return iq(c, to, "set", xml("join-queue", { xmlns: NS.WG }, xml("queue-notifications"), form));
}

const is = (name: string, ns: string) => (s: Element) => s.is("message") && !!s.getChild(name, ns);
const assignedMsg = is("assigned", NS.SB);
const beginMsg = is("begin", NS.SB);
const endedMsg = is("ended", NS.SB);
const statusMsg = is("queue-status", NS.WG);
const bounce = (s: Element) => s.is("message") && s.attrs.type === "error";
const chat = (c: Client, to: string, body: string) => c.send(xmlFor(c)("message", { to, type: "chat" }, xmlFor(c)("body", {}, body)));

/** An admin API call; its response is checked against the OpenAPI document (/healthz is not part of it). */
async function api(path: string, token: string | null = r.config.admin.token) {
  const res = await fetch(`http://127.0.0.1:${r.app.webPort}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const body = await res.json() as any;
  if (path.startsWith("/api/")) checkResponse("GET", path, res.status, res.headers.get("content-type"), body);
  return { status: res.status, body };
}

describe("discovery", () => {
  it("lists the queues on the component and describes each as a workgroup", async () => {
    const c = await guest();
    const xml = xmlFor(c);
    const items = await iq(c, CC, "get", xml("query", { xmlns: NS.DISCO_ITEMS }));
    // (the items with a node are the wallboard's pubsub nodes: wallboard.test.ts)
    expect(items.getChild("query")!.getChildren("item").filter((i) => !i.attrs.node).map((i) => i.attrs.jid)).toEqual([BILLING, `vip@${CC}`]);
    const info = (await iq(c, BILLING, "get", xml("query", { xmlns: NS.DISCO_INFO }))).getChild("query")!;
    expect(info.getChild("identity")!.attrs).toMatchObject({ category: "collaboration", type: "workgroup" });
    expect(info.getChildren("feature").map((f) => f.attrs.var)).toEqual(expect.arrayContaining([NS.WG, NS.SB]));
  });
});

describe("the instant-messaging call flow", () => {
  it("queues, allocates, begins, delivers only the legitimate request, serves, and ends", async () => {
    const alice = await agent("alice@acme.test");
    const customer = await guest();
    const stranger = await guest();
    const me = customer.jid!.toString();

    // 2-3. queuing information -> result, allocation, beginning message to the seat
    const reply = await joinQueue(customer, { name: ["Ann"], subject: ["Invoice 42"] });
    expect(reply.attrs.type).toBe("result");
    const assigned = (await waitFor(customer, assignedMsg)).getChild("assigned", NS.SB)!;
    expect(assigned.attrs.seat).toBe("alice@acme.test");
    const session = assigned.attrs.session!;
    const begin = await waitFor(alice, beginMsg);
    expect(begin.attrs.from).toBe(CC);
    expect(begin.getChild("begin", NS.SB)!.attrs).toMatchObject({ session, customer: me, queue: "billing" });
    expect(begin.getChildText("body")).toContain("Invoice 42");
    const fields = begin.getChild("begin", NS.SB)!.getChild("x", NS.DATA)!.getChildren("field");
    expect(Object.fromEntries(fields.map((f) => [f.attrs.var, f.getChildText("value")]))).toEqual({ name: "Ann", subject: "Invoice 42" });
    expect(Date.parse(begin.getChild("begin", NS.SB)!.attrs["queued-at"]!)).toBeLessThanOrEqual(Date.now());

    // 4-6. the IM request reaches the seat and puts the session in service
    await chat(customer, "alice@acme.test", "Hello, about my invoice");
    const delivered = await waitFor(alice, (s) => s.is("message") && s.getChildText("body") === "Hello, about my invoice");
    expect(delivered.attrs.from).toBe(me);
    await until(() => r.app.cti.session(session), (s) => s?.state === "in-service", 5000, "in service");

    // anyone else is bounced with forbidden and never reaches the seat
    await chat(stranger, "alice@acme.test", "let me in");
    const bounced = await waitFor(stranger, bounce);
    expect(errorOf(bounced)).toMatchObject({ condition: "forbidden", type: "cancel" });
    expect(errorOf(bounced)!.text).toMatch(/queue/);
    // the bounce is Prosody's decision in place of delivery: once it is back, nothing was delivered
    expect(received(alice).some((s) => s.attrs.from === stranger.jid!.toString())).toBe(false);

    // 7. chat both ways
    await chat(alice, me, "Hi Ann, let me look.");
    await waitFor(customer, (s) => s.getChildText("body") === "Hi Ann, let me look.");

    // 8. the customer ends; both get ended; the grant is withdrawn
    const end = await iq(customer, CC, "set", xmlFor(customer)("end", { xmlns: NS.SB, session }));
    expect(end.attrs.type).toBe("result");
    expect((await waitFor(customer, endedMsg)).getChild("ended", NS.SB)!.attrs.session).toBe(session);
    expect((await waitFor(alice, endedMsg)).getChildText("body")).toContain("ended");
    await chat(customer, "alice@acme.test", "one more thing");
    expect(errorOf(await waitFor(customer, bounce))?.condition).toBe("forbidden");
    expect(received(alice).filter((s) => s.getChildText("body") === "one more thing")).toEqual([]);

    const { body } = await api(`/api/sessions/${session}`);
    expect(body).toMatchObject({ id: session, queue: "billing", customer: me, seat: "alice@acme.test", state: "ended", endReason: "customer" });
    for (const k of ["queuedAt", "assignedAt", "inServiceAt", "endedAt"]) expect(body[k]).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});

describe("the seat's check, under a race", () => {
  it("never bounces a customer who writes the moment it is assigned", async () => {
    const bob = await agent("bob@acme.test"); // maxChats 2
    const customers = await Promise.all(Array.from({ length: 12 }, () => guest()));
    let bounced = 0;
    for (const [i, c] of customers.entries()) {
      // write as soon as the assigned message arrives, before anything else happens
      c.on("stanza", (s: Element) => {
        if (s.getChild("assigned", NS.SB)) void chat(c, s.getChild("assigned", NS.SB)!.attrs.seat!, `hello ${i}`);
        if (s.attrs.type === "error" && s.is("message")) bounced++;
      });
    }
    for (const [i, c] of customers.entries()) {
      await joinQueue(c);
      await waitFor(bob, (s) => s.getChildText("body") === `hello ${i}`);
      const session = (await r.app.cti.sessionOf(c.jid!.toString()))!;
      await iq(bob, CC, "set", xmlFor(bob)("end", { xmlns: NS.SB, session }));
    }
    expect(bounced).toBe(0);
  });
});

describe("waiting", () => {
  it("tells waiting customers their position and wait, and serves them first come first served", async () => {
    const alice = await agent("alice@acme.test"); // maxChats 1
    const [c1, c2, c3] = [await guest(), await guest(), await guest()];
    await joinQueue(c1);
    const s1 = (await waitFor(c1, assignedMsg)).getChild("assigned", NS.SB)!.attrs.session!;
    expect((await joinQueue(c2)).attrs.type).toBe("result");
    const st2 = (await waitFor(c2, statusMsg)).getChild("queue-status", NS.WG)!;
    expect(st2.getChildText("position")).toBe("0");
    expect(st2.getChildText("time")).toMatch(/^\d+$/); // seconds, from this suite's short sessions
    await joinQueue(c3);
    expect((await waitFor(c3, statusMsg)).getChild("queue-status", NS.WG)!.getChildText("position")).toBe("1");
    // XEP-0142's status poll answers the same; someone not waiting gets not-authorized
    const polled = await iq(c3, BILLING, "get", xmlFor(c3)("queue-status", { xmlns: NS.WG }));
    expect(polled.getChild("queue-status", NS.WG)!.getChildText("position")).toBe("1");
    expect(errorOf(await iq(c1, BILLING, "get", xmlFor(c1)("queue-status", { xmlns: NS.WG })))?.condition).toBe("not-authorized");
    expect((await api("/api/queues")).body).toContainEqual(expect.objectContaining({ name: "billing", waiting: 2 }));

    await iq(alice, CC, "set", xmlFor(alice)("end", { xmlns: NS.SB, session: s1 }));
    expect((await waitFor(c2, assignedMsg)).getChild("assigned", NS.SB)!.attrs.seat).toBe("alice@acme.test");
    expect((await waitFor(c3, statusMsg)).getChild("queue-status", NS.WG)!.getChildText("position")).toBe("0");
    expect((await waitFor(c1, endedMsg)).getChildText("body")).toMatch(/Alice has ended the chat/);
  });

  it("lets a customer leave the queue", async () => {
    await agent("alice@acme.test", "away");
    const c = await guest();
    await joinQueue(c);
    await waitFor(c, statusMsg);
    expect((await iq(c, BILLING, "set", xmlFor(c)("depart-queue", { xmlns: NS.WG }))).attrs.type).toBe("result");
    await waitFor(c, is("depart-queue", NS.WG));
    const again = await iq(c, BILLING, "set", xmlFor(c)("depart-queue", { xmlns: NS.WG }));
    expect(errorOf(again)?.condition).toBe("item-not-found");
  });

  it("removes a customer whose client goes offline", async () => {
    await agent("alice@acme.test", "dnd");
    const c = await guest();
    await joinQueue(c);
    await waitFor(c, statusMsg);
    await c.stop();
    await until(() => api("/api/queues"), (q) => q.body.find((x: any) => x.name === "billing").waiting === 0, 5000, "queue empty");
  });
});

describe("plain chat clients", () => {
  it("join by writing to the queue, see the queue online (directed presence), and get every answer as a chat body", async () => {
    const alice = await agent("alice@acme.test", "away");
    const c = await guest();
    await chat(c, BILLING, "Hi, I need help with invoice 42");
    const online = await waitFor(c, (s) => s.is("presence") && s.attrs.from === BILLING);
    expect(online.attrs.type).toBeUndefined();
    const status = await waitFor(c, statusMsg);
    expect(status.attrs.type).toBe("chat");
    expect(status.getChildText("body")).toMatch(/next in line/);
    await alice.send(xmlFor(alice)("presence")); // ready
    const assigned = await waitFor(c, assignedMsg);
    expect(assigned.getChildText("body")).toBe("Alice will help you now. Write to alice@acme.test.");
    expect((await waitFor(alice, beginMsg)).getChildText("body")).toContain("invoice 42");
    await chat(c, BILLING, "hello?");
    expect((await waitFor(c, (s) => /is serving you/.test(s.getChildText("body") ?? ""))).attrs.type).toBe("chat");
  });

  it("work for a registered customer whose client writes to the seat from another resource", async () => {
    const alice = await agent("alice@acme.test");
    const phone = track(await connectAccount(r.config, "carol@acme.test", "carol-pw", "phone"));
    const laptop = track(await connectAccount(r.config, "carol@acme.test", "carol-pw", "laptop"));
    await chat(phone, BILLING, "Hi from my phone");
    expect((await waitFor(alice, beginMsg)).getChild("begin", NS.SB)!.attrs.customer).toBe("carol@acme.test/phone");
    await chat(laptop, "alice@acme.test", "and now from my laptop");
    expect((await waitFor(alice, (s) => s.getChildText("body") === "and now from my laptop")).attrs.from).toBe("carol@acme.test/laptop");
  });

  it("leave the queue by writing leave", async () => {
    await agent("alice@acme.test", "xa");
    const c = await guest();
    await chat(c, BILLING, "hello");
    await waitFor(c, statusMsg);
    await chat(c, BILLING, "leave");
    expect((await waitFor(c, is("depart-queue", NS.WG))).getChildText("body")).toMatch(/left the queue/);
  });
});

describe("agents", () => {
  it("follow their presence: away is not ready, offline ends their sessions with a reason", async () => {
    const alice = await agent("alice@acme.test");
    const c = await guest();
    await joinQueue(c);
    await waitFor(c, assignedMsg);
    expect((await api("/api/agents")).body).toContainEqual(expect.objectContaining({ jid: "alice@acme.test", state: "busy", activeSessions: 1 }));
    await alice.send(xmlFor(alice)("presence", {}, xmlFor(alice)("show", {}, "away")));
    await until(() => api("/api/agents"), (a) => a.body.find((x: any) => x.jid === "alice@acme.test").state === "not-ready", 5000, "not ready");
    await alice.stop();
    const ended = await waitFor(c, endedMsg);
    expect(ended.getChild("ended", NS.SB)!.attrs.reason).toBe("seat-offline");
    expect(ended.getChildText("body")).toMatch(/no longer available/);
  });

  it("end a session with the ad-hoc command end-session", async () => {
    const bob = await agent("bob@acme.test");
    const c = await guest();
    await joinQueue(c);
    await waitFor(c, assignedMsg);
    const xml = xmlFor(bob);
    const reply = await iq(bob, CC, "set", xml("command", { xmlns: NS.COMMANDS, node: "end-session", action: "execute" }));
    expect(reply.getChild("command", NS.COMMANDS)!.attrs.status).toBe("completed");
    expect((await waitFor(c, endedMsg)).getChild("ended", NS.SB)!.attrs.reason).toBe("seat");
  });

  it("end a session by writing end to the component, and hear of the end once", async () => {
    const bob = await agent("bob@acme.test");
    const c = await guest();
    await joinQueue(c);
    await waitFor(c, assignedMsg);
    // The seat's beginning message leaves first, but it reaches bob's client on another socket: wait for it.
    await waitFor(bob, beginMsg);
    const fromCC = () => received(bob).filter((s) => s.is("message") && s.attrs.from === CC);
    const before = fromCC().length;
    await chat(bob, CC, "end");
    expect((await waitFor(c, endedMsg)).getChild("ended", NS.SB)!.attrs.reason).toBe("seat");
    await waitFor(bob, endedMsg);
    // The component's answer comes the way its messages come, after them: what it sent before has arrived.
    await iq(bob, CC, "get", xmlFor(bob)("query", { xmlns: NS.DISCO_INFO }));
    expect(fromCC().slice(before).map((s) => s.getChildText("body"))).toEqual([expect.stringMatching(/^You ended the chat with .*\(session s\w+\)$/)]);
  });
});

describe("bad input", () => {
  it("gets a stanza error with a human text, never silence", async () => {
    await agent("alice@acme.test", "away");
    const c = await guest();
    const xml = xmlFor(c);
    const cases: Array<[Promise<Element>, string]> = [
      [joinQueue(c, {}, `nope@${CC}`), "item-not-found"],
      [joinQueue(c, {}, `vip@${CC}`), "forbidden"],
      [joinQueue(c, { skills: ["x".repeat(5000)] }), "bad-request"],
      [joinQueue(c, { subject: ["y".repeat(100_000)] }), "bad-request"],
      [joinQueue(c, { skills: ["klingon"] }), "service-unavailable"],
      [iq(c, CC, "set", xml("join-queue", { xmlns: NS.WG })), "bad-request"],
      [iq(c, BILLING, "set", xml("frobnicate", { xmlns: "urn:example" })), "service-unavailable"],
      [iq(c, CC, "set", xml("end", { xmlns: NS.SB })), "bad-request"],
      [iq(c, CC, "set", xml("end", { xmlns: NS.SB, session: "nope" })), "item-not-found"],
      [iq(c, CC, "set", xml("in-service", { xmlns: NS.SB, session: "nope" })), "item-not-found"],
    ];
    // an iq with two payloads: refused by xmpp.js's iq callee, still with a text
    cases.push([(async () => {
      const id = "two-payloads";
      const reply = waitFor(c, (s) => s.attrs.id === id);
      await c.send(xml("iq", { to: BILLING, type: "get", id }, xml("a", { xmlns: "urn:x" }), xml("b", { xmlns: "urn:x" })));
      return reply;
    })(), "bad-request"]);
    for (const [reply, condition] of cases) {
      const e = errorOf(await reply);
      expect(e?.condition).toBe(condition);
      expect(e?.text?.length).toBeGreaterThan(10);
    }
    await joinQueue(c);
    expect(errorOf(await joinQueue(c))?.condition).toBe("conflict");
  });

  it("refuses to queue when no agent of the queue is logged in", async () => {
    const c = await guest();
    const e = errorOf(await joinQueue(c));
    expect(e).toMatchObject({ condition: "service-unavailable" });
    expect(e!.text).toMatch(/No agent/);
  });

  it("lets only the allocated seat report in service", async () => {
    await agent("alice@acme.test");
    const bob = await agent("bob@acme.test", "away");
    const c = await guest();
    await joinQueue(c);
    const session = (await waitFor(c, assignedMsg)).getChild("assigned", NS.SB)!.attrs.session!;
    const e = errorOf(await iq(bob, CC, "set", xmlFor(bob)("in-service", { xmlns: NS.SB, session })));
    expect(e?.condition).toBe("forbidden");
    expect(errorOf(await iq(c, CC, "set", xmlFor(c)("in-service", { xmlns: NS.SB, session })))?.condition).toBe("forbidden");
  });
});

describe("the web server", () => {
  it("answers health, and the admin API only with the token", async () => {
    expect(await api("/healthz", null)).toMatchObject({ status: 200, body: { status: "ok" } });
    expect((await api("/api/agents", null)).status).toBe(401);
    expect((await api("/api/agents", "wrong-token")).status).toBe(401);
    expect((await api("/api/sessions/nope")).status).toBe(404);
    const agents = (await api("/api/agents")).body;
    expect(agents.map((a: any) => a.jid).sort()).toEqual(["alice@acme.test", "bob@acme.test"]);
    expect(Array.isArray((await api("/api/sessions")).body)).toBe(true);
  });

  it("serves a front page listing the queues", async () => {
    const res = await fetch(`http://127.0.0.1:${r.app.webPort}/`);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(await res.text()).toContain(`billing@${CC}`);
  });
});
