/**
 * Calls in the CTI, pure (memory store, fake time): a call needs a seat that takes calls with a phone
 * registered now, takes the whole seat unless chats may go on during calls, and a seat whose phone missed
 * it rests before it is offered another. The same transitions as chats; nothing here knows SIP.
 */
import { beforeEach, describe, expect, it, jest } from "@jest/globals";
import { createCti, type Cti } from "../../cti/cti.js";
import type { CtiError } from "../../cti/errors.js";
import { MemoryStore } from "../../cti/memory-store.js";

let clock: number;
let ids: number;
let store: MemoryStore;
let cti: Cti;

async function setUp(chatsDuringCalls = false) {
  clock = 1_000_000;
  ids = 0;
  store = new MemoryStore();
  cti = createCti({
    store, guestDomain: "guest.acme.test", now: () => clock, newId: () => `S${++ids}`,
    queues: [
      { name: "billing", skills: ["billing"], allowGuests: true, deny: [], open: true },
      { name: "chats", skills: ["billing"], allowGuests: true, deny: [], open: true, media: ["chat"] },
    ],
  });
  await store.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 2, voice: true, chatsDuringCalls });
  await store.upsertAgent({ jid: "bob@acme.test", skills: ["billing"], maxChats: 2 });
}
beforeEach(() => setUp());

const call = (caller: string, queue = "billing") =>
  cti.join({ queue, customer: `sip:${caller}@example.org`, plain: false, extraSkills: [], form: {}, media: "voice", handle: `call-${caller}`, guest: true });
const chat = (customer: string) => cti.join({ queue: "billing", customer, plain: false, extraSkills: [], form: {} });
const refusal = (p: Promise<unknown>) => p.then(() => "none", (e: CtiError) => e.code);

describe("a call", () => {
  it("is refused while no agent who takes calls has a phone registered, even with agents ready for chats", async () => {
    await cti.agentState("alice@acme.test", "ready");
    await cti.agentState("bob@acme.test", "ready");
    expect(await refusal(call("dave"))).toBe("no-agents");
    expect(await cti.phone("bob@acme.test", true)).toBeNull(); // bob takes no calls
    expect(await refusal(call("dave"))).toBe("no-agents");
  });

  it("rings a seat whose client takes XEP-0142 offers at once: a call is never offered (answering is accepting)", async () => {
    await cti.agentState("alice@acme.test", "ready");
    await cti.phone("alice@acme.test", true);
    await cti.offerTarget("alice@acme.test", "alice@acme.test/desk");
    expect(await call("dave")).toMatchObject({ state: "assigned", seat: "alice@acme.test", ringing: [] });
    expect(store.events.some((e) => e.type === "offered")).toBe(false);
    expect((await chat("c1@guest.acme.test/w")).state).toBe("queued"); // alice is full: the chat waits
  });

  it("waits without a routing pass when as many calls wait ahead of it as seats are free, and is served after them", async () => {
    await cti.agentState("alice@acme.test", "ready");
    await cti.phone("alice@acme.test", true);
    const heads = jest.spyOn(store, "heads");
    const [first, second] = await Promise.all([call("dave"), call("erin")]);
    expect([first.seat, second.state]).toEqual(["alice@acme.test", "queued"]);
    expect(heads).not.toHaveBeenCalled();
    await cti.callEnded(first.id, "customer");
    expect(await cti.session(second.id)).toMatchObject({ state: "assigned", seat: "alice@acme.test" });
  });

  it("is refused by a queue that takes chats only", async () => {
    await cti.agentState("alice@acme.test", "ready");
    await cti.phone("alice@acme.test", true);
    expect(await refusal(call("dave", "chats"))).toBe("forbidden");
  });

  it("goes to the seat with a registered phone, takes the whole seat, and gives it back when it ends", async () => {
    await cti.agentState("alice@acme.test", "ready");
    await cti.agentState("bob@acme.test", "ready");
    await cti.phone("alice@acme.test", true);
    const s = await call("dave");
    expect(s).toMatchObject({ state: "assigned", seat: "alice@acme.test", media: "voice" });
    expect(await cti.agent("alice@acme.test")).toMatchObject({ active: 2, calls: 1 });
    expect((await chat("c1@guest.acme.test/w")).seat).toBe("bob@acme.test"); // alice is full
    await cti.callAnswered(s.id);
    expect(await cti.session(s.id)).toMatchObject({ state: "in-service", inServiceAt: clock, answeredAt: clock });
    clock += 60_000;
    await cti.callEnded(s.id, "seat");
    expect(await cti.session(s.id)).toMatchObject({ state: "ended", endReason: "seat", endedAt: clock });
    expect(await cti.agent("alice@acme.test")).toMatchObject({ active: 0, calls: 0 });
  });

  it("with chatsDuringCalls, counts as one session: the seat may chat beside it, but takes no second call", async () => {
    await setUp(true);
    await cti.agentState("alice@acme.test", "ready");
    await cti.phone("alice@acme.test", true);
    const s = await call("dave");
    expect(await cti.agent("alice@acme.test")).toMatchObject({ active: 1, calls: 1 });
    const second = await call("erin");
    expect(second.state).toBe("queued"); // room for a session, but not for a second call
    expect((await chat("c1@guest.acme.test/w")).seat).toBe("alice@acme.test");
    await cti.callEnded(s.id, "customer");
    expect(await cti.session(second.id)).toMatchObject({ state: "assigned", seat: "alice@acme.test" });
  });

  it("waits in line with chats, in arrival order, and a queued caller who hangs up departs", async () => {
    await cti.agentState("alice@acme.test", "ready");
    await cti.phone("alice@acme.test", true);
    const first = await call("dave");
    const second = await call("erin");
    const third = await call("frank");
    expect([second.state, third.state]).toEqual(["queued", "queued"]);
    await cti.callEnded(third.id, "customer");
    expect(await cti.session(third.id)).toMatchObject({ state: "ended", endReason: "departed" });
    await cti.callEnded(first.id, "customer");
    expect(await cti.session(second.id)).toMatchObject({ state: "assigned", seat: "alice@acme.test" });
  });

  it("not answered: back to the head of the line, a miss for the seat, which rests before it is offered another", async () => {
    await cti.agentState("alice@acme.test", "ready");
    await cti.phone("alice@acme.test", true);
    const s = await call("dave");
    await cti.callNotAnswered(s.id, 5);
    expect(await cti.session(s.id)).toMatchObject({ state: "queued", missedBy: ["alice@acme.test"] });
    expect(await cti.agent("alice@acme.test")).toMatchObject({ active: 0, calls: 0, missed: 1, wrapUntil: clock + 5000 });
    clock += 5000;
    await cti.route();
    expect(await cti.session(s.id)).toMatchObject({ state: "assigned", seat: "alice@acme.test" });
  });

  it("a phone that goes away stops the seat taking calls; its chats go on", async () => {
    await cti.agentState("alice@acme.test", "ready");
    await cti.phone("alice@acme.test", true);
    await cti.phone("alice@acme.test", false);
    expect(await refusal(call("dave"))).toBe("no-agents");
    expect((await chat("c1@guest.acme.test/w")).seat).toBe("alice@acme.test");
  });

  it("cannot be transferred, and a supervisor can end it", async () => {
    await cti.agentState("alice@acme.test", "ready");
    await cti.phone("alice@acme.test", true);
    const s = await call("dave");
    expect(await refusal(cti.transfer(s.id, "alice@acme.test", { queue: "billing" }))).toBe("unsupported");
    expect(await cti.forceEnd(s.id)).toMatchObject({ state: "assigned" });
    expect(await cti.session(s.id)).toMatchObject({ state: "ended", endReason: "supervisor" });
    expect(await refusal(cti.forceEnd(s.id))).toBe("session-ended");
  });
});

describe("a page's call (a call token)", () => {
  const web = "anon1@guest.acme.test/web";
  const ask = (queue = "billing", customer = web) => cti.callToken({ queue, customer, plain: false, extraSkills: [], form: { name: "Ann" } });

  beforeEach(async () => {
    await cti.agentState("alice@acme.test", "ready");
    await cti.phone("alice@acme.test", true);
  });

  it("joins the queue as the page's XMPP customer, with its form, when the call brings the token", async () => {
    const token = await ask();
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    const s = await cti.joinWithToken(token, "billing", "call-web1");
    expect(s).toMatchObject({ customer: web, media: "voice", handle: "call-web1", form: { name: "Ann" }, seat: "alice@acme.test" });
  });

  it("is good for one call, to its own queue, within a minute", async () => {
    const once = await ask();
    await cti.joinWithToken(once, "billing", "call-a");
    expect(await refusal(cti.joinWithToken(once, "billing", "call-b"))).toBe("forbidden");
    await setUp();
    await cti.agentState("alice@acme.test", "ready");
    await cti.phone("alice@acme.test", true);
    expect(await refusal(cti.joinWithToken(await ask(), "chats", "call-c"))).toBe("forbidden");
    const late = await ask();
    clock += 60_000;
    expect(await refusal(cti.joinWithToken(late, "billing", "call-d"))).toBe("forbidden");
    expect(await refusal(cti.joinWithToken("not-a-token", "billing", "call-e"))).toBe("forbidden");
  });

  it("is refused with the call's own reasons when it is asked for, and while the page has a session", async () => {
    expect(await refusal(ask("chats"))).toBe("forbidden");
    await cti.phone("alice@acme.test", false);
    expect(await refusal(ask())).toBe("no-agents");
    await cti.phone("alice@acme.test", true);
    await chat(web);
    expect(await refusal(ask())).toBe("already-queued");
  });
});

describe("a chat that turns into a call", () => {
  beforeEach(async () => {
    await cti.agentState("alice@acme.test", "ready");
    await cti.phone("alice@acme.test", true);
  });

  it("rings the chat's own seat, records the call's phases, and the chat goes on after it; only its parties may ask", async () => {
    const s = await chat("ann@guest.acme.test/web");
    expect(s.seat).toBe("alice@acme.test");
    expect(await refusal(cti.sessionCallToken(s.id, "eve@guest.acme.test/x"))).toBe("forbidden");
    const { token } = await cti.sessionCallToken(s.id, "alice@acme.test/desk"); // the seat may ask too
    expect(await refusal(cti.joinWithToken(token, "chats", "c1"))).toBe("forbidden"); // the token names the chat's queue
    const again = (await cti.sessionCallToken(s.id, "ann@guest.acme.test/web")).token;
    await cti.joinWithToken(again, "billing", "c2");
    await cti.callAnswered(s.id, "c2");
    await cti.callEnded(s.id, "customer", "c2");
    expect(store.events.filter((e) => e.type === "call").map((e) => e.type === "call" && e.phase)).toEqual(["ringing", "answered", "ended"]);
    expect(await cti.session(s.id)).toMatchObject({ state: "assigned", media: "chat", callHandle: undefined });
    expect(await cti.agent("alice@acme.test")).toMatchObject({ active: 1, calls: 0 });
  });

  it("is refused while the seat has no phone ready, or while a call is on; ending the chat tells which call to hang up", async () => {
    const s = await chat("ann@guest.acme.test/web");
    await cti.phone("alice@acme.test", false);
    expect(await refusal(cti.sessionCallToken(s.id, "ann@guest.acme.test/web"))).toBe("unavailable");
    await cti.phone("alice@acme.test", true);
    await cti.joinWithToken((await cti.sessionCallToken(s.id, "ann@guest.acme.test/web")).token, "billing", "c3");
    expect(await refusal(cti.sessionCallToken(s.id, "ann@guest.acme.test/web"))).toBe("already-queued");
    await cti.end(s.id, "ann@guest.acme.test/web");
    expect(store.events.at(-1)).toMatchObject({ type: "ended", session: s.id, call: "c3" });
  });
});
