/**
 * Calls end to end, with real parts: Kamailio as the soft switch (started by the test stack), SIPp as the
 * callers' and the agents' phones, Prosody for the agents' presence, the component in-process. A call to
 * sip:<queue>@cc.acme.test joins the same queue as chats, rings the allocated seat's registered phone, is
 * in service when the seat answers and ends with a BYE; every refusal is a SIP response with a Reason.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { once } from "node:events";
import { connect } from "node:net";
import { parseSwitchEvent } from "../../component/sip/calls.js";
import { parseLost } from "../../component/sip/switch-link.js";
import { parseEvent } from "../../cti/redis/events.js";
import { NS } from "../../protocol/names.js";
import { agentOnline, errorOf, iq, startAll, until, type Running } from "../helpers/stack.js";
import { call, startAgentPhone, type AgentPhone } from "../helpers/sipp.js";
import { connectGuest, stopAll, waitFor, xmlFor } from "../helpers/xmpp.js";

let r: Running;
const clients: Client[] = [];
const phones: AgentPhone[] = [];

beforeAll(async () => {
  r = await startAll({
    queues: [
      { name: "billing", title: "Billing", skills: ["billing"] },
      { name: "vip", title: "VIP desk", allowGuests: false },
      { name: "closed", title: "Closed desk", open: false },
      { name: "small", title: "Small desk", skills: ["billing"], maxWaiting: 1 },
      { name: "brief", title: "Brief desk", skills: ["billing"], maxWaitSeconds: 1 },
      { name: "chatonly", title: "Chat only", media: ["chat"] },
      { name: "hasty", title: "Hasty desk", skills: ["billing"], firstResponseTimeout: 5, maxNoAnswer: 1 },
    ],
    agents: [
      { jid: "alice@acme.test", name: "Alice", password: "alice-pw", skills: ["billing"], maxChats: 1, voice: true },
      { jid: "bob@acme.test", name: "Bob", password: "bob-pw", skills: ["billing"], maxChats: 1, voice: true },
    ],
  }, { voice: true });
}, 60_000);
afterAll(async () => { await r?.stop(); });
afterEach(async () => {
  await stopAll(...clients.splice(0));
  await Promise.all(phones.splice(0).map((p) => p.stop()));
  await until(() => r.app.cti.sessions(0), (s) => s.length === 0, 10_000, "no live session");
  await until(() => r.app.cti.agents(), (a) => a.every((x) => x.state === "offline" && !x.phoneRegistered), 10_000, "agents offline, phones gone");
});

const proxy = () => ({ host: "127.0.0.1", port: r.config.ports.sip! });
const PASSWORDS: Record<string, string> = { alice: "alice-pw", bob: "bob-pw" };

/** An agent available in XMPP with a registered phone that answers (or not), as the CTI sees it. */
async function seat(user: "alice" | "bob", mode: "answer" | "noanswer" | "busy" = "answer", extra: { hangupMs?: number; answerMs?: number } = {}) {
  clients.push(await agentOnline(r, `${user}@acme.test`));
  const phone = await startAgentPhone({ proxy: proxy(), user, password: PASSWORDS[user]!, domain: "acme.test", mode, ...extra });
  phones.push(phone);
  await phone.registered;
  await until(() => r.app.cti.agent(`${user}@acme.test`), (a) => a?.phone === true, 5000, `${user}'s phone registered`);
  return phone;
}

const dial = (service: string, opts: Partial<Parameters<typeof call>[0]> = {}) =>
  call({ proxy: proxy(), service, domain: "cc.acme.test", caller: "dave", callerDomain: "customer.test", displayName: "Dave", timeoutMs: 20_000, ...opts });

/** The caller's latest session (an earlier test may have used the same caller). */
const sessionOf = async (customer: string) =>
  (await r.app.cti.sessions(20)).filter((s) => s.customer === customer).sort((a, b) => b.queuedAt - a.queuedAt)[0];
/**
 * The caller's latest session once it has ended: a phone's BYE is answered by the other phone before the CTI
 * hears of it from the switch, so a call's end at the phones comes a moment before the session's.
 */
const ended = (customer: string) => until(() => sessionOf(customer), (s) => s?.state === "ended", 5000, `${customer}'s session ended`);

describe("a call to a queue", () => {
  it("rings the allocated seat's phone; answering puts it in service; the caller's BYE ends it and frees the seat", async () => {
    await seat("alice");
    const result = await dial("billing", { holdMs: 1500 });
    expect(result.code).toBe(200);
    const s = await until(() => sessionOf("sip:dave@customer.test"), (x) => x?.state === "ended", 5000, "session ended");
    expect(s).toMatchObject({ media: "voice", seat: "alice@acme.test", endReason: "customer", queue: "billing", form: { name: "Dave" } });
    expect(s!.inServiceAt! - s!.assignedAt!).toBeGreaterThanOrEqual(0);
    expect(s!.endedAt! - s!.inServiceAt!).toBeGreaterThanOrEqual(1000); // in service while the caller held
    expect(await r.app.cti.agent("alice@acme.test")).toMatchObject({ active: 0, calls: 0 });
  });

  it("is shown as voice and in service in /api/sessions while it lasts, with the caller's URI and name", async () => {
    await seat("alice");
    const pending = dial("billing", { holdMs: 3000 });
    await until(() => sessionOf("sip:dave@customer.test"), (x) => x?.state === "in-service", 10_000, "in service");
    const res = await fetch(`http://127.0.0.1:${r.app.webPort}/api/sessions`, { headers: { authorization: `Bearer ${r.config.admin.token}` } });
    const live = ((await res.json()) as Array<Record<string, unknown>>).find((x) => x.customer === "sip:dave@customer.test");
    expect(live).toMatchObject({ media: "voice", state: "in-service", seat: "alice@acme.test", callerName: "Dave", skills: ["billing"] });
    const agents = await (await fetch(`http://127.0.0.1:${r.app.webPort}/api/agents`, { headers: { authorization: `Bearer ${r.config.admin.token}` } })).json();
    expect(agents).toEqual(expect.arrayContaining([expect.objectContaining({ jid: "alice@acme.test", phoneRegistered: true, onCall: true, state: "busy" })]));
    expect((await pending).code).toBe(200);
  });

  it("waits (ringing) while no seat is free, and connects when the seat's chat ends", async () => {
    await seat("alice");
    const customer = await connectGuest(r.config);
    clients.push(customer);
    await iq(customer, "billing@cc.acme.test", "set", xmlFor(customer)("join-queue", { xmlns: NS.WG }));
    const assigned = await waitFor(customer, (s) => !!s.getChild("assigned", NS.SB));
    const pending = dial("billing", { holdMs: 500 });
    const queued = await until(() => sessionOf("sip:dave@customer.test"), (x) => x?.state === "queued", 10_000, "call queued");
    expect(queued!.media).toBe("voice");
    await iq(customer, "cc.acme.test", "set", xmlFor(customer)("end", { xmlns: NS.SB, session: assigned.getChild("assigned", NS.SB)!.attrs.session }));
    expect((await pending).code).toBe(200);
    expect(await ended("sip:dave@customer.test")).toMatchObject({ seat: "alice@acme.test" });
  });

  it("takes the whole seat: a chat waits while the seat is on a call, and gets the seat when the call ends", async () => {
    await seat("alice", "answer", { hangupMs: 2000 });
    const pending = dial("billing");
    await until(() => sessionOf("sip:dave@customer.test"), (x) => x?.state === "in-service", 10_000, "call in service");
    const customer = await connectGuest(r.config);
    clients.push(customer);
    await iq(customer, "billing@cc.acme.test", "set", xmlFor(customer)("join-queue", { xmlns: NS.WG }));
    expect((await r.app.cti.sessions(0)).find((s) => s.media === "chat")?.state).toBe("queued");
    const result = await pending; // the seat hung up (BYE from the seat's side)
    expect(result.code).toBe(200);
    expect(await ended("sip:dave@customer.test")).toMatchObject({ endReason: "seat" });
    const assigned = await waitFor(customer, (s) => !!s.getChild("assigned", NS.SB), 5000);
    expect(assigned.getChild("assigned", NS.SB)!.attrs.seat).toBe("alice@acme.test");
  });

  it("two calls and one seat: the first caller is served first, the second waits and is served next", async () => {
    await seat("alice");
    const first = dial("billing", { caller: "first", holdMs: 1500 });
    await until(() => sessionOf("sip:first@customer.test"), (x) => x?.state === "in-service", 10_000, "first in service");
    const second = dial("billing", { caller: "second", holdMs: 200 });
    await until(() => sessionOf("sip:second@customer.test"), (x) => x?.state === "queued", 10_000, "second queued");
    const [a, b] = await Promise.all([first, second]);
    expect([a.code, b.code]).toEqual([200, 200]);
    const [s1, s2] = [await sessionOf("sip:first@customer.test"), await sessionOf("sip:second@customer.test")];
    expect(s2!.inServiceAt!).toBeGreaterThanOrEqual(s1!.endedAt!);
  });

  it("goes back to the head of the queue when the seat does not answer, and the seat counts a miss (paused after maxNoAnswer)", async () => {
    await seat("alice", "noanswer");
    const bob = await seat("bob");
    // alice's phone rings first (she is the longest idle); it does not answer within the queue's 5 s.
    await r.app.cti.agentState("bob@acme.test", "not-ready", "busy elsewhere");
    const pending = dial("hasty", { holdMs: 300 });
    await until(() => sessionOf("sip:dave@customer.test"), (x) => x?.state === "assigned", 10_000, "ringing alice");
    await r.app.cti.agentState("bob@acme.test", "ready");
    expect((await pending).code).toBe(200);
    const s = await sessionOf("sip:dave@customer.test");
    expect(s).toMatchObject({ seat: "bob@acme.test", missedBy: ["alice@acme.test"] });
    expect(await r.app.cti.agent("alice@acme.test")).toMatchObject({ state: "not-ready", reason: "No answer to 1 call in a row" });
    expect(bob.calls()).toBe(1);
  });

  it("a busy phone is not rung again at once: the seat rests (softswitch.retrySeconds) while the call waits for another seat", async () => {
    const alice = await seat("alice", "busy");
    await seat("bob");
    await r.app.cti.agentState("bob@acme.test", "not-ready", "busy elsewhere");
    const pending = dial("billing", { holdMs: 300 });
    await alice.waitFor("busy", 1, 10_000);
    await until(() => sessionOf("sip:dave@customer.test"), (x) => x?.state === "queued" && x.missedBy.includes("alice@acme.test"), 5000, "back in line");
    expect((await r.app.cti.agents()).find((a) => a.jid === "alice@acme.test")?.state).toBe("wrap-up");
    await r.app.cti.agentState("bob@acme.test", "ready");
    expect((await pending).code).toBe(200);
    expect(await sessionOf("sip:dave@customer.test")).toMatchObject({ seat: "bob@acme.test" });
    expect(alice.calls()).toBe(1);
  });

  it("can be ended by a supervisor through the admin API: the switch hangs up both sides", async () => {
    await seat("alice");
    const pending = dial("billing"); // holds until the other side hangs up
    const live = await until(() => sessionOf("sip:dave@customer.test"), (x) => x?.state === "in-service", 10_000, "in service");
    const res = await fetch(`http://127.0.0.1:${r.app.webPort}/api/sessions/${live!.id}/end`, { method: "POST", headers: { authorization: `Bearer ${r.config.admin.token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ state: "ended", endReason: "supervisor", media: "voice" });
    expect((await pending).code).toBe(200); // the caller got a BYE and the call ended
    expect(await r.app.cti.agent("alice@acme.test")).toMatchObject({ active: 0, calls: 0 });
  });

  it("ended before the caller acknowledged the answer: the caller gets its BYE only after its ACK", async () => {
    const phone = await seat("alice");
    let ordered: Promise<number> | undefined;
    const endNow = async () => {
      const live = await sessionOf("sip:dave@customer.test");
      const res = await fetch(`http://127.0.0.1:${r.app.webPort}/api/sessions/${live!.id}/end`, { method: "POST", headers: { authorization: `Bearer ${r.config.admin.token}` } });
      expect(res.status).toBe(200);
      return Date.now();
    };
    // A slow caller: the hang-up is ordered while its 200 is unacknowledged.
    const result = await dial("billing", { ackDelayMs: 1000, onAnswered: () => { ordered ??= endNow(); } });
    expect(result).toMatchObject({ code: 200, hungUpBy: "agent", ackedAt: expect.any(Number) });
    expect(await ordered).toBeLessThan(result.ackedAt!);
    expect(result.endedAt).toBeGreaterThanOrEqual(result.ackedAt!);
    await phone.waitFor("ended");
    expect(await ended("sip:dave@customer.test")).toMatchObject({ endReason: "supervisor" });
  });
});

describe("refusals: a SIP response with a Reason header", () => {
  it("unknown queue: 404", async () => {
    expect(await dial("nosuchqueue")).toMatchObject({ code: 404, reason: "There is no such queue." });
  });

  it("a queue for registered customers, called anonymously: 403", async () => {
    await seat("alice");
    expect(await dial("vip")).toMatchObject({ code: 403, reason: expect.stringMatching(/registered customers only/) });
  });

  it("a closed queue: 480", async () => {
    expect(await dial("closed")).toMatchObject({ code: 480, reason: expect.stringMatching(/closed/) });
  });

  it("a queue that takes no calls: 403", async () => {
    expect(await dial("chatonly")).toMatchObject({ code: 403, reason: expect.stringMatching(/takes no calls/) });
  });

  it("nobody who can take calls is logged in: 480 (an agent available on XMPP without a registered phone cannot)", async () => {
    clients.push(await agentOnline(r, "alice@acme.test"));
    expect(await dial("billing")).toMatchObject({ code: 480, reason: expect.stringMatching(/can take calls right now/) });
  });

  it("a full queue: 486", async () => {
    await seat("alice", "answer", { hangupMs: 3000 });
    const busy = dial("billing", { caller: "first" });
    await until(() => sessionOf("sip:first@customer.test"), (x) => x?.state === "in-service", 10_000, "seat busy");
    const waiting = dial("small", { caller: "second", holdMs: 100 });
    await until(() => sessionOf("sip:second@customer.test"), (x) => x?.state === "queued", 10_000, "one waiting");
    expect(await dial("small", { caller: "third" })).toMatchObject({ code: 486, reason: expect.stringMatching(/full/) });
    expect((await busy).code).toBe(200);
    expect((await waiting).code).toBe(200);
  });

  it("waited too long: 480 after the queue's maxWaitSeconds", async () => {
    await seat("alice", "answer", { hangupMs: 4000 });
    const busy = dial("billing", { caller: "first" });
    await until(() => sessionOf("sip:first@customer.test"), (x) => x?.state === "in-service", 10_000, "seat busy");
    const started = Date.now();
    expect(await dial("brief", { caller: "second" })).toMatchObject({ code: 480, reason: expect.stringMatching(/nobody could take your call in time/) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(await sessionOf("sip:second@customer.test")).toMatchObject({ endReason: "expired" });
    expect((await busy).code).toBe(200);
  });

  it("a caller over TCP whose connection closes while queued leaves the queue (a phone gone cannot send its CANCEL)", async () => {
    await seat("alice");
    await r.app.cti.agentState("alice@acme.test", "not-ready", "busy elsewhere"); // logged in, so the call waits
    const socket = connect(r.config.ports.sip!, "127.0.0.1");
    await once(socket, "connect");
    const local = `127.0.0.1:${socket.localPort}`;
    let heard = "";
    socket.setEncoding("latin1").on("data", (chunk: string) => { heard += chunk; });
    socket.write([
      "INVITE sip:billing@cc.acme.test SIP/2.0", `Via: SIP/2.0/TCP ${local};branch=z9hG4bK-tcp-gone;rport`, "Max-Forwards: 70",
      "From: \"Tess\" <sip:tess@customer.test>;tag=t1", "To: <sip:billing@cc.acme.test>", "Call-ID: tcp-gone@127.0.0.1", "CSeq: 1 INVITE",
      `Contact: <sip:tess@${local};transport=tcp>`, "Content-Length: 0", "", "",
    ].join("\r\n"));
    await until(async () => heard, (h) => h.includes("SIP/2.0 180 "), 5000, "180 Ringing over TCP");
    await until(() => sessionOf("sip:tess@customer.test"), (x) => x?.state === "queued", 5000, "the call waiting");
    socket.destroy();
    expect(await until(() => sessionOf("sip:tess@customer.test"), (x) => x?.state === "ended", 5000, "ended")).toMatchObject({ endReason: "departed" });
  });

  it("a caller who hangs up while queued leaves the queue (487 to its INVITE)", async () => {
    clients.push(await agentOnline(r, "alice@acme.test"));
    await seat("bob", "answer", { hangupMs: 3000 });
    const busy = dial("billing", { caller: "first" });
    await until(() => sessionOf("sip:first@customer.test"), (x) => x?.state === "in-service", 10_000, "seat busy");
    expect(await dial("billing", { caller: "second", cancelAfterMs: 800 })).toMatchObject({ code: 487 });
    expect(await until(() => sessionOf("sip:second@customer.test"), (x) => x?.state === "ended", 5000, "ended")).toMatchObject({ endReason: "departed" });
    expect((await busy).code).toBe(200);
  });
});

describe("a page's call: a call token over XMPP, then the INVITE with it (RFC 7433 User-to-User)", () => {
  const askToken = async (c: Client, queue = "billing") => {
    const x = xmlFor(c);
    const form = x("x", { xmlns: NS.DATA, type: "submit" }, x("field", { var: "name" }, x("value", {}, "Ann")));
    return iq(c, `${queue}@cc.acme.test`, "set", x("call", { xmlns: NS.SB }, form));
  };
  const tokenOf = (reply: Element) => reply.getChild("call", NS.SB)!.attrs.token as string;

  it("joins as the page's XMPP customer, with its form; its place in line comes over XMPP while it rings; then the seat serves it", async () => {
    await seat("alice");
    const busy = dial("billing", { holdMs: 2500 }); // alice is on this call while the page's call waits
    await until(() => sessionOf("sip:dave@customer.test"), (x) => x?.state === "in-service", 10_000, "alice on a call");
    const page = await connectGuest(r.config, "web");
    clients.push(page);
    const reply = await askToken(page);
    expect(reply.attrs.type).toBe("result");
    expect(reply.getChild("call", NS.SB)!.attrs).toMatchObject({ uri: "sip:billing@cc.acme.test", token: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const status = waitFor(page, (st) => st.is("message") && !!st.getChild("queue-status", NS.WG), 10_000, "queue status over XMPP");
    const webCall = dial("billing", { caller: "anonymous", callerDomain: "anonymous.invalid", userToUser: tokenOf(reply), holdMs: 500 });
    expect((await status).getChild("queue-status", NS.WG)!.getChildText("position")).toMatch(/^\d+$/);
    expect((await busy).code).toBe(200);
    expect((await webCall).code).toBe(200);
    const s = await until(() => sessionOf(page.jid!.toString()), (x) => x?.state === "ended", 5000, "the page's call ended");
    expect(s).toMatchObject({ media: "voice", seat: "alice@acme.test", endReason: "customer", form: { name: "Ann" } });
    expect(s!.inServiceAt).not.toBeNull();
  });

  it("a token is good for one call to its own queue: used again, made up, malformed or for another queue, 403 with the reason", async () => {
    await seat("alice");
    const page = await connectGuest(r.config, "web");
    clients.push(page);
    const used = tokenOf(await askToken(page));
    expect((await dial("billing", { userToUser: used, holdMs: 200 })).code).toBe(200);
    await until(() => sessionOf(page.jid!.toString()), (x) => x?.state === "ended", 5000, "first call ended");
    const refusedWith = expect.objectContaining({ code: 403, reason: expect.stringMatching(/token is not valid/) });
    expect(await dial("billing", { userToUser: used })).toEqual(refusedWith);
    expect(await dial("billing", { userToUser: "0123456789abcdef0123456789abcdef" })).toEqual(refusedWith);
    expect(await dial("billing", { userToUser: "zz-not-hex" })).toEqual(refusedWith);
    expect(await dial("small", { userToUser: tokenOf(await askToken(page)) })).toEqual(refusedWith);
  });

  it("is refused at the token for the call's own reasons (a queue without calls, nobody who can take calls)", async () => {
    const page = await connectGuest(r.config, "web");
    clients.push(page);
    expect(errorOf(await askToken(page, "chatonly"))).toMatchObject({ condition: "forbidden" });
    expect(errorOf(await askToken(page))).toMatchObject({ condition: "service-unavailable", text: expect.stringMatching(/take calls/) });
  });
});

describe("from chat to call in the same session (the chat's seat, no queueing again)", () => {
  /** A guest's chat with alice (whose phone answers), in service. */
  async function chatWithAlice() {
    const phone = await seat("alice");
    const page = await connectGuest(r.config, "web");
    clients.push(page);
    const x = xmlFor(page);
    const joined = await iq(page, "billing@cc.acme.test", "set", x("join-queue", { xmlns: NS.WG }));
    const id = joined.getChild("session", NS.SB)!.attrs.id as string;
    await until(() => r.app.cti.session(id), (s) => s?.seat === "alice@acme.test", 5000, "chat assigned to alice");
    return { page, x, id, phone };
  }
  const callsOf = async (id: string) => (await r.app.cti.sessions(20)).find((s) => s.id === id);

  it("the customer's page calls with the session's token: alice's phone rings though she is busy with that chat; hanging up returns to the chat", async () => {
    const { page, x, id, phone } = await chatWithAlice();
    const reply = await iq(page, "cc.acme.test", "set", x("call", { xmlns: NS.SB, session: id }));
    const token = reply.getChild("call", NS.SB)!.attrs;
    expect(token).toMatchObject({ session: id, uri: "sip:billing@cc.acme.test", token: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const before = phone.calls();
    const result = await dial("billing", { caller: "anonymous", callerDomain: "anonymous.invalid", userToUser: token.token, holdMs: 800 });
    expect(result.code).toBe(200);
    expect(phone.calls()).toBe(before + 1);
    const s = await callsOf(id);
    expect(s).toMatchObject({ media: "chat", seat: "alice@acme.test", state: expect.stringMatching(/^(assigned|in-service)$/) });
    expect(s!.callHandle).toBeUndefined(); // the call is over, the chat goes on
    expect(await r.app.cti.agent("alice@acme.test")).toMatchObject({ active: 1, calls: 0 });
  });

  it("the seat asks: the customer's page gets the token in a message; nobody else may ask for a session's call", async () => {
    const { page, id } = await chatWithAlice();
    const alice = clients[clients.length - 2]!; // alice's XMPP client (seat() pushed it before the page)
    const offer = waitFor(page, (m) => m.is("message") && !!m.getChild("call", NS.SB), 5000, "the call offer");
    const asked = await iq(alice, "cc.acme.test", "set", xmlFor(alice)("call", { xmlns: NS.SB, session: id }));
    expect(asked.attrs.type).toBe("result");
    const got = await offer;
    expect(got.attrs.from).toBe("cc.acme.test");
    expect(got.getChildText("body")).toMatch(/Alice would like to talk with you/);
    expect(got.getChild("call", NS.SB)!.attrs).toMatchObject({ session: id, token: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const stranger = await connectGuest(r.config, "other");
    clients.push(stranger);
    expect(errorOf(await iq(stranger, "cc.acme.test", "set", xmlFor(stranger)("call", { xmlns: NS.SB, session: id })))).toMatchObject({ condition: "forbidden" });
  });

  it("ending the chat during its call hangs the call up", async () => {
    const { page, x, id } = await chatWithAlice();
    const token = (await iq(page, "cc.acme.test", "set", x("call", { xmlns: NS.SB, session: id }))).getChild("call", NS.SB)!.attrs.token as string;
    const pending = dial("billing", { userToUser: token }); // holds until the other side hangs up
    // Answered (not only ringing: ending a ringing call cancels it with 480, another case).
    const phases = async () => (await r.app.redis.xrange(r.app.store.keys.events(), "-", "+")).map(([, f]) => parseEvent(f))
      .flatMap((e) => (e.type === "call" && e.session === id ? [e.phase] : []));
    await until(phases, (p) => p.includes("answered"), 10_000, "the chat's call answered");
    await iq(page, "cc.acme.test", "set", x("end", { xmlns: NS.SB, session: id }));
    expect(await pending).toMatchObject({ code: 200, hungUpBy: "agent" });
  });
});

describe("the seat's check for calls", () => {
  it("a call straight to an agent that the CTI did not allocate is refused with 403", async () => {
    await seat("alice");
    const direct = await call({ proxy: proxy(), service: "alice", domain: "acme.test", caller: "dave", callerDomain: "customer.test", timeoutMs: 10_000 });
    expect(direct).toMatchObject({ code: 403, reason: expect.stringMatching(/only through the contact center/) });
  });

  it("a supervisor may call a seat directly (digest-authenticated as staff)", async () => {
    await seat("alice", "answer", { hangupMs: 300 });
    const direct = await call({
      proxy: proxy(), service: "alice", domain: "acme.test", caller: "sam", callerDomain: "acme.test", user: "sam", password: "sam-pw", timeoutMs: 10_000,
    });
    expect(direct.code).toBe(200);
  });

  it("a caller who claims an account of ours must prove it (407, then 403 with wrong credentials)", async () => {
    const spoofed = await call({
      proxy: proxy(), service: "alice", domain: "acme.test", caller: "sam", callerDomain: "acme.test", user: "sam", password: "wrong", timeoutMs: 10_000,
    });
    expect([403, 407]).toContain(spoofed.code);
  });
});

describe("restarts lose no call", () => {
  it("a component restart while a call waits and another is in service: both are served", async () => {
    await seat("alice", "answer", { hangupMs: 2500 });
    const first = dial("billing", { caller: "first" });
    await until(() => sessionOf("sip:first@customer.test"), (x) => x?.state === "in-service", 10_000, "first in service");
    const second = dial("billing", { caller: "second", holdMs: 200 });
    await until(() => sessionOf("sip:second@customer.test"), (x) => x?.state === "queued", 10_000, "second queued");
    await r.restartComponent();
    const [a, b] = await Promise.all([first, second]);
    expect([a.code, b.code]).toEqual([200, 200]);
    expect(await ended("sip:second@customer.test")).toMatchObject({ seat: "alice@acme.test" });
  });

  it("a hang-up while Redis cannot be reached is reported when it is back: the session ends and the seat is free", async () => {
    await seat("alice");
    const pending = dial("billing", { holdMs: 1000 });
    await until(() => sessionOf("sip:dave@customer.test"), (x) => x?.state === "in-service", 10_000, "in service");
    process.kill(r.stack.redisPid, "SIGSTOP"); // Redis takes nothing: the switch's report of the BYE waits in its outbox
    try {
      expect((await pending).code).toBe(200); // the caller hung up meanwhile
    } finally {
      process.kill(r.stack.redisPid, "SIGCONT");
    }
    expect(await until(() => sessionOf("sip:dave@customer.test"), (x) => x?.state === "ended", 10_000, "ended after Redis came back"))
      .toMatchObject({ endReason: "customer" });
    expect(await r.app.cti.agent("alice@acme.test")).toMatchObject({ active: 0, calls: 0 });
  });

  it("a Kamailio restart: a call in service goes on and its BYE still ends it; a queued call's caller is told why and its session ends", async () => {
    await seat("alice", "answer", { hangupMs: 4000 });
    const first = dial("billing", { caller: "first" });
    await until(() => sessionOf("sip:first@customer.test"), (x) => x?.state === "in-service", 10_000, "first in service");
    const second = dial("billing", { caller: "second" });
    await until(() => sessionOf("sip:second@customer.test"), (x) => x?.state === "queued", 10_000, "second queued");
    await r.stack.restartSoftswitch("SIGKILL");
    expect((await first).code).toBe(200);
    expect(await ended("sip:first@customer.test")).toMatchObject({ endReason: "seat" });
    // The switch that took the call is gone with its transaction; the one after it answers the caller.
    expect(await second).toMatchObject({ code: 480, reason: "The contact center's switch restarted while you waited. Please call again" });
    expect(await until(() => sessionOf("sip:second@customer.test"), (x) => x?.state === "ended", 10_000, "queued call ended"))
      .toMatchObject({ endReason: "call-failed" });
    // Answered once: nothing of it is left for the next restart.
    expect(await r.app.redis.hlen(r.app.store.keys.softswitchPending())).toBe(0);
  });
});

describe("commands over evapi (Kamailio 5.6 drops one that a read splits before its comma, and the next read)", () => {
  /** The switch's `gone` reports (to `check`) for the given Call-IDs, from its report stream. */
  const goneFor = async (ids: string[]) =>
    (await r.app.redis.xrange(r.app.store.keys.softswitch(), "-", "+"))
      .map(([, f]) => parseSwitchEvent(f)).filter((e) => e.e === "gone" && ids.includes(e.c)).map((e) => e.c);
  const frame = (s: string) => `${Buffer.byteLength(s)}:${s},`;

  it("the switch reports the numbers it never got, to the connection that sent them", async () => {
    const id = (n: number) => `c${n}-${Date.now()}`;
    const ids = [1, 2, 3].map(id);
    const sock = connect(r.config.ports.sipEvents!, "127.0.0.1");
    await once(sock, "connect");
    let heard = "";
    sock.setEncoding("utf8").on("data", (d: string) => { heard += d; });
    try {
      // One write, read at once: the first command whole, the second without its comma.
      sock.write(frame(`1|check|${ids[0]}`) + frame(`2|check|${ids[1]}`).slice(0, -1));
      await until(() => goneFor(ids), (g) => g.includes(ids[0]!), 5000, "the first command handled");
      sock.write("," + frame(`3|check|${ids[2]}`)); // the comma comes in the next read, with the third command
      // The next command gets through, unless the switch reads it with the third (both are dropped then):
      // a command after it, then.
      for (let n = 4; n <= 6; n++) {
        ids.push(id(n));
        sock.write(frame(`${n}|check|${ids[n - 1]}`));
        if (await until(() => goneFor(ids), (g) => g.includes(ids[n - 1]!), 2000, `command ${n} handled`).then(() => true, () => false)) break;
      }
      const handled = await goneFor(ids);
      expect(handled.slice(0, 2)).toEqual([ids[0], expect.stringMatching(/^c[4-6]-/)]);
      expect(handled).not.toContain(ids[1]);
      expect(handled).not.toContain(ids[2]);
      const first = Number(handled[1]!.slice(1).split("-")[0]);
      await until(async () => heard, (h) => h.includes("lost|"), 5000, "the loss reported");
      expect(parseLost(heard).lost).toEqual([{ link: `${sock.localAddress}:${sock.localPort}`, from: 2, to: first - 1 }]);
    } finally {
      sock.destroy();
    }
  });
});
