import { beforeEach, describe, expect, it, jest } from "@jest/globals";
import { createCti, type Cti } from "../../cti/cti.js";
import type { CtiError } from "../../cti/errors.js";
import { MemoryStore } from "../../cti/memory-store.js";
import type { CtiEvent, Queue } from "../../cti/types.js";

const GUEST = "guest.acme.test";
let clock: number;
let ids: number;
let store: MemoryStore;
let cti: Cti;

beforeEach(async () => {
  clock = 1_000_000;
  ids = 0;
  store = new MemoryStore();
  cti = createCti({
    store, guestDomain: GUEST, now: () => clock, newId: () => `S${++ids}`,
    queues: [
      { name: "billing", skills: ["billing"], allowGuests: true, deny: [], open: true },
      { name: "vip", skills: ["billing"], allowGuests: false, deny: [], open: true },
    ],
  });
  await store.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 1 });
  await store.upsertAgent({ jid: "bob@acme.test", skills: ["billing", "fr"], maxChats: 2 });
});

const join = (customer: string, queue = "billing", extraSkills: string[] = []) =>
  cti.join({ queue, customer, plain: false, extraSkills, form: {} });
const refusal = (p: Promise<unknown>) => p.then(() => "none", (e: CtiError) => e.code);

describe("joining", () => {
  it("refuses when no agent with the skills is logged in", async () => {
    expect(await refusal(join("c1@guest.acme.test/w"))).toBe("no-agents");
  });

  it("refuses skills no agent has", async () => {
    await cti.agentState("alice@acme.test", "ready");
    expect(await refusal(join("c1@guest.acme.test/w", "billing", ["klingon"]))).toBe("unavailable");
  });

  it("refuses an unknown queue, a guest on a registered-only queue, and a second join from one client", async () => {
    await cti.agentState("alice@acme.test", "not-ready");
    expect(await refusal(join("c1@guest.acme.test/w", "nope"))).toBe("unknown-queue");
    expect(await refusal(join("c1@guest.acme.test/w", "vip"))).toBe("forbidden");
    await join("c1@guest.acme.test/w");
    expect(await refusal(join("c1@guest.acme.test/w"))).toBe("already-queued");
  });

  it("queues when agents are logged in but none is ready, and routes when one becomes ready", async () => {
    await cti.agentState("alice@acme.test", "not-ready");
    const s = await join("c1@guest.acme.test/w");
    expect(s.state).toBe("queued");
    clock += 5000;
    await cti.agentState("alice@acme.test", "ready");
    const after = await cti.session(s.id);
    expect(after).toMatchObject({ state: "assigned", seat: "alice@acme.test", assignedAt: clock });
  });

  it("assigns at once to the ready seat with the fewest active sessions", async () => {
    await cti.agentState("bob@acme.test", "ready");
    clock += 1000;
    await cti.agentState("alice@acme.test", "ready");
    const a = await join("c1@guest.acme.test/w");
    const b = await join("c2@guest.acme.test/w");
    const c = await join("c3@guest.acme.test/w");
    // bob became free first (longest idle), then alice has fewer sessions than bob, then bob's second chat.
    expect([a.seat, b.seat, c.seat]).toEqual(["bob@acme.test", "alice@acme.test", "bob@acme.test"]);
  });

  it("gives a newcomer alone in line the best free seat from its join, without a routing pass", async () => {
    await cti.agentState("bob@acme.test", "ready");
    clock += 1000;
    await cti.agentState("alice@acme.test", "ready");
    const heads = jest.spyOn(store, "heads");
    const s = await join("c1@guest.acme.test/w");
    expect(s).toMatchObject({ state: "assigned", seat: "bob@acme.test", assignedAt: clock });
    expect(heads).not.toHaveBeenCalled();
  });

  it("gives newcomers joining together the free seats in arrival order; with too few, the first in line gets one", async () => {
    await cti.agentState("bob@acme.test", "ready");
    clock += 1000;
    await cti.agentState("alice@acme.test", "ready");
    const [a, b] = await Promise.all([join("c1@guest.acme.test/w"), join("c2@guest.acme.test/w")]);
    expect([a.seat, b.seat]).toEqual(["bob@acme.test", "alice@acme.test"]); // the second leaves the best to the first
    await cti.agentState("bob@acme.test", "not-ready");
    await cti.end(a.id, "c1@guest.acme.test/w");
    await cti.end(b.id, "c2@guest.acme.test/w");
    // One free seat for two: the first in line gets it, the second waits.
    const [c, d] = await Promise.all([join("c3@guest.acme.test/w"), join("c4@guest.acme.test/w")]);
    expect([c.seat, d.state]).toEqual(["alice@acme.test", "queued"]);
  });

  it("leaves a newcomer to a routing pass while customers of another line wait", async () => {
    await cti.agentState("alice@acme.test", "ready");
    await cti.agentState("bob@acme.test", "not-ready");
    const fr = await join("c1@guest.acme.test/w", "billing", ["fr"]); // only bob, not ready, can serve it
    const heads = jest.spyOn(store, "heads");
    const s = await join("c2@guest.acme.test/w");
    expect([fr.state, s.seat]).toEqual(["queued", "alice@acme.test"]);
    expect(heads).toHaveBeenCalled();
  });

  it("only gives a customer with extra skills to a seat that has them all", async () => {
    await cti.agentState("alice@acme.test", "ready");
    await cti.agentState("bob@acme.test", "not-ready");
    const s = await join("c1@guest.acme.test/w", "billing", ["fr"]);
    expect(s.state).toBe("queued");
    await cti.agentState("bob@acme.test", "ready");
    expect((await cti.session(s.id))?.seat).toBe("bob@acme.test");
  });
});

describe("the queue", () => {
  it("is first come first served, and positions only go down", async () => {
    await cti.agentState("alice@acme.test", "not-ready");
    const s1 = await join("c1@guest.acme.test/w");
    clock += 1000;
    const s2 = await join("c2@guest.acme.test/w");
    clock += 1000;
    const s3 = await join("c3@guest.acme.test/w");
    expect((await cti.queueStatus("billing")).map((q) => [q.session.id, q.position])).toEqual([[s1.id, 0], [s2.id, 1], [s3.id, 2]]);
    await cti.depart("c2@guest.acme.test/w", "billing");
    expect((await cti.queueStatus("billing")).map((q) => [q.session.id, q.position])).toEqual([[s1.id, 0], [s3.id, 1]]);
    await cti.agentState("alice@acme.test", "ready");
    expect((await cti.session(s1.id))?.state).toBe("assigned");
    expect((await cti.queueStatus("billing")).map((q) => q.position)).toEqual([0]);
  });

  it("estimates the wait from recent handle times", async () => {
    await cti.agentState("alice@acme.test", "ready");
    const s = await join("c1@guest.acme.test/w");
    await cti.inService(s.id, "alice@acme.test");
    clock += 60_000;
    await cti.end(s.id, "alice@acme.test");
    await cti.agentState("alice@acme.test", "not-ready");
    await join("c2@guest.acme.test/w");
    await join("c3@guest.acme.test/w");
    // one logged-in billing agent of capacity 1 plus bob offline: 60 s per customer ahead
    expect((await cti.queueStatus("billing")).map((q) => q.waitSeconds)).toEqual([60, 120]);
  });
});

describe("the session lifecycle", () => {
  beforeEach(async () => { await cti.agentState("alice@acme.test", "ready"); });

  it("goes queued -> assigned -> in-service -> ended with timestamps, and frees the seat", async () => {
    const s = await join("c1@guest.acme.test/w");
    clock += 1000;
    expect(await cti.inService(s.id, "alice@acme.test")).toBe("ok");
    expect(await cti.inService(s.id, "alice@acme.test")).toBe("already");
    clock += 1000;
    await cti.end(s.id, "c1@guest.acme.test/w");
    expect(await cti.session(s.id)).toMatchObject({
      state: "ended", queuedAt: 1_000_000, assignedAt: 1_000_000, inServiceAt: 1_001_000, endedAt: 1_002_000, endReason: "customer",
    });
    expect((await cti.agent("alice@acme.test"))?.active).toBe(0);
    expect(store.events.map((e) => e.type)).toEqual(["agent-state", "queued", "assigned", "in-service", "ended"]);
  });

  it("lets only the allocated seat report in service, and only the parties end it", async () => {
    const s = await join("c1@guest.acme.test/w");
    expect(await refusal(cti.inService(s.id, "bob@acme.test"))).toBe("forbidden");
    expect(await refusal(cti.end(s.id, "mallory@acme.test/x"))).toBe("forbidden");
    expect(await refusal(cti.end("nope", "alice@acme.test"))).toBe("unknown-session");
    await cti.end(s.id, "alice@acme.test/desk");
    expect((await cti.session(s.id))?.endReason).toBe("seat");
    expect(await refusal(cti.end(s.id, "alice@acme.test"))).toBe("session-ended");
  });

  it("never gives a seat more than its capacity; the next customer waits for the seat to free", async () => {
    const s1 = await join("c1@guest.acme.test/w");
    const s2 = await join("c2@guest.acme.test/w");
    expect(s1.state).toBe("assigned");
    expect(s2.state).toBe("queued");
    await cti.end(s1.id, "alice@acme.test");
    expect((await cti.session(s2.id))?.seat).toBe("alice@acme.test");
  });

  it("ends a customer's request when its client goes offline, queued or assigned", async () => {
    const s1 = await join("c1@guest.acme.test/w");
    const s2 = await join("c2@guest.acme.test/w");
    await cti.customerOffline("c2@guest.acme.test/w");
    expect(await cti.session(s2.id)).toMatchObject({ state: "ended", endReason: "customer-offline" });
    await cti.customerOffline("c1@guest.acme.test/w");
    expect(await cti.session(s1.id)).toMatchObject({ state: "ended", endReason: "customer-offline" });
    expect((await cti.agent("alice@acme.test"))?.active).toBe(0);
  });

  it("ends a seat's sessions with a reason when it goes offline", async () => {
    const s = await join("c1@guest.acme.test/w");
    await cti.agentState("alice@acme.test", "offline");
    expect(await cti.session(s.id)).toMatchObject({ state: "ended", endReason: "seat-offline" });
    expect(await cti.agents()).toContainEqual(expect.objectContaining({ jid: "alice@acme.test", state: "offline", activeSessions: 0 }));
  });

  it("shows a seat at capacity as busy", async () => {
    await join("c1@guest.acme.test/w");
    expect((await cti.agents()).find((a) => a.jid === "alice@acme.test")?.state).toBe("busy");
  });
});

describe("web access additions", () => {
  let graceful: Cti;
  beforeEach(async () => {
    graceful = createCti({
      store, guestDomain: GUEST, now: () => clock, newId: () => `G${++ids}`, graceSeconds: 30,
      queues: [{ name: "billing", skills: ["billing"], allowGuests: true, deny: [], open: true }],
    });
    await graceful.agentState("alice@acme.test", "ready");
  });
  const gjoin = (customer: string) => graceful.join({ queue: "billing", customer, plain: false, extraSkills: [], form: {} });

  it("keeps an assigned session for the grace period after its customer goes offline, then ends it", async () => {
    const s = await gjoin("c1@guest.acme.test/a");
    await graceful.customerOffline("c1@guest.acme.test/a");
    expect(await graceful.session(s.id)).toMatchObject({ state: "assigned", awaySince: clock });
    clock += 29_000;
    expect(await graceful.expire()).toBe(0);
    clock += 1_000;
    expect(await graceful.expire()).toBe(1);
    expect(await graceful.session(s.id)).toMatchObject({ state: "ended", endReason: "customer-offline" });
    expect((await graceful.agent("alice@acme.test"))?.active).toBe(0);
  });

  it("lets the customer resume from a new JID with the token, and not without it", async () => {
    const s = await gjoin("c1@guest.acme.test/a");
    await graceful.customerOffline("c1@guest.acme.test/a");
    await expect(graceful.resume(s.id, "wrong", "c2@guest.acme.test/b")).rejects.toMatchObject({ code: "forbidden" });
    await graceful.resume(s.id, s.token, "c2@guest.acme.test/b");
    expect(await graceful.session(s.id)).toMatchObject({ customer: "c2@guest.acme.test/b", awaySince: null, state: "assigned" });
    expect(await graceful.sessionOf("c2@guest.acme.test/b")).toBe(s.id);
    expect(await graceful.sessionOf("c1@guest.acme.test/a")).toBeNull();
    clock += 60_000;
    expect(await graceful.expire()).toBe(0);
    expect(store.events.at(-1)).toMatchObject({ type: "resumed", previous: "c1@guest.acme.test/a", seat: "alice@acme.test" });
  });

  it("keeps a queued customer's place while away without routing it, and ends a plain-chat one at once", async () => {
    await graceful.agentState("alice@acme.test", "not-ready");
    const away = await gjoin("c1@guest.acme.test/a");
    const next = await gjoin("c2@guest.acme.test/a");
    const plain = await graceful.join({ queue: "billing", customer: "c3@guest.acme.test/a", plain: true, extraSkills: [], form: {} });
    await graceful.customerOffline("c1@guest.acme.test/a");
    await graceful.customerOffline("c3@guest.acme.test/a");
    expect((await graceful.session(plain.id))?.state).toBe("ended");
    await graceful.agentState("alice@acme.test", "ready");
    expect((await graceful.session(away.id))?.state).toBe("queued"); // skipped: nobody there
    expect((await graceful.session(next.id))?.seat).toBe("alice@acme.test");
    await graceful.resume(away.id, away.token, "c1@guest.acme.test/b");
    expect((await graceful.queueStatus("billing")).map((q) => [q.session.id, q.position])).toEqual([[away.id, 0]]);
  });

  it("routes a queued customer who comes back to a seat that got free while it was away", async () => {
    await graceful.agentState("alice@acme.test", "not-ready");
    const s = await gjoin("c1@guest.acme.test/a");
    await graceful.customerOffline("c1@guest.acme.test/a");
    await graceful.agentState("alice@acme.test", "ready");
    expect((await graceful.session(s.id))?.state).toBe("queued");
    await graceful.resume(s.id, s.token, "c1@guest.acme.test/b");
    expect(await graceful.session(s.id)).toMatchObject({ state: "assigned", seat: "alice@acme.test", customer: "c1@guest.acme.test/b" });
  });

  it("takes one rating from the customer after the end", async () => {
    const s = await gjoin("c1@guest.acme.test/a");
    await expect(graceful.feedback(s.id, "c1@guest.acme.test/a", 5, "")).rejects.toMatchObject({ code: "bad-request" });
    await graceful.end(s.id, "alice@acme.test");
    await expect(graceful.feedback(s.id, "mallory@acme.test/x", 1, "")).rejects.toMatchObject({ code: "forbidden" });
    await expect(graceful.feedback(s.id, "c1@guest.acme.test/a", 6, "")).rejects.toMatchObject({ code: "bad-request" });
    await graceful.feedback(s.id, "c1@guest.acme.test/a", 4, "Quick and kind");
    expect((await graceful.session(s.id))?.feedback).toEqual({ score: 4, comment: "Quick and kind" });
    await expect(graceful.feedback(s.id, "c1@guest.acme.test/a", 5, "")).rejects.toMatchObject({ code: "already-rated" });
  });

  it("counts an agent's sessions served today and their average handle time", async () => {
    clock = Date.UTC(2026, 10, 24, 9, 0, 0);
    for (const minutes of [2, 4]) {
      const s = await gjoin(`c${minutes}@guest.acme.test/a`);
      await graceful.inService(s.id, "alice@acme.test");
      clock += minutes * 60_000;
      await graceful.end(s.id, "alice@acme.test");
    }
    expect(await graceful.agentStats("alice@acme.test")).toEqual({ handled: 2, averageHandleSeconds: 180, active: 0, maxChats: 1 });
    clock = Date.UTC(2026, 10, 25, 0, 0, 1); // a new day
    expect(await graceful.agentStats("alice@acme.test")).toMatchObject({ handled: 0, averageHandleSeconds: 0 });
  });

  it("stores a left message and refuses an empty or huge one", async () => {
    await expect(graceful.leaveMessage("billing", "c@x/r", { name: "Ann", message: " " })).rejects.toMatchObject({ code: "bad-request" });
    await expect(graceful.leaveMessage("billing", "c@x/r", { message: "x".repeat(5001) })).rejects.toMatchObject({ code: "bad-request" });
    await graceful.leaveMessage("billing", "c@x/r", { name: "Ann", email: "ann@example.test", message: "Call me back" });
    expect(await graceful.messages()).toEqual([expect.objectContaining({ queue: "billing", name: "Ann", email: "ann@example.test", message: "Call me back", at: clock })]);
  });

  it("keeps the reason an agent is not ready", async () => {
    await graceful.agentState("alice@acme.test", "not-ready", "Lunch");
    expect((await graceful.agents()).find((a) => a.jid === "alice@acme.test")).toMatchObject({ state: "not-ready", reason: "Lunch" });
    await graceful.agentState("alice@acme.test", "ready", "Back");
    expect((await graceful.agents()).find((a) => a.jid === "alice@acme.test")?.reason).toBe("");
  });
});

describe("assignment timeout", () => {
  it("releases the seat when an assigned customer does not write in time, and not once it did", async () => {
    const timed = createCti({
      store, guestDomain: GUEST, now: () => clock, newId: () => `T${++ids}`,
      queues: [{ name: "billing", skills: ["billing"], allowGuests: true, deny: [], open: true, assignTimeout: 60 }],
    });
    await timed.agentState("bob@acme.test", "ready");
    const silent = await timed.join({ queue: "billing", customer: "c1@guest.acme.test/a", plain: false, extraSkills: [], form: {} });
    const writer = await timed.join({ queue: "billing", customer: "c2@guest.acme.test/a", plain: false, extraSkills: [], form: {} });
    await timed.inService(writer.id, "bob@acme.test");
    clock += 59_000;
    expect(await timed.expire()).toBe(0);
    clock += 1_000;
    expect(await timed.expire()).toBe(1);
    expect(await timed.session(silent.id)).toMatchObject({ state: "ended", endReason: "assign-timeout" });
    expect((await timed.session(writer.id))?.state).toBe("in-service");
    expect((await timed.agent("bob@acme.test"))?.active).toBe(1);
  });
});

describe("wrap-up", () => {
  it("keeps a seat out of routing for the queue's wrap-up after each session, unless the agent ends it", async () => {
    const wrapping = createCti({
      store, guestDomain: GUEST, now: () => clock, newId: () => `W${++ids}`,
      queues: [{ name: "billing", skills: ["billing"], allowGuests: true, deny: [], open: true, wrapUpSeconds: 30 }],
    });
    const join = (c: string) => wrapping.join({ queue: "billing", customer: c, plain: false, extraSkills: [], form: {} });
    await wrapping.agentState("alice@acme.test", "ready");
    const first = await join("c1@guest.acme.test/a");
    const second = await join("c2@guest.acme.test/a");
    await wrapping.end(first.id, "alice@acme.test");
    expect((await wrapping.session(second.id))?.state).toBe("queued");
    expect((await wrapping.agents()).find((a) => a.jid === "alice@acme.test")).toMatchObject({ state: "wrap-up", wrapUpUntil: new Date(clock + 30_000).toISOString() });
    clock += 30_000;
    await wrapping.route();
    expect((await wrapping.session(second.id))?.seat).toBe("alice@acme.test");

    const third = await join("c3@guest.acme.test/a");
    await wrapping.end(second.id, "alice@acme.test");
    expect(await wrapping.endWrapUp("alice@acme.test")).toBe(true);
    expect((await wrapping.session(third.id))?.seat).toBe("alice@acme.test");
    expect(await wrapping.endWrapUp("alice@acme.test")).toBe(false);
  });
});

describe("escalation and limits", () => {
  const make = (q: Partial<Queue>) => createCti({
    store, guestDomain: GUEST, now: () => clock, newId: () => `L${++ids}`,
    queues: [
      { name: "billing", skills: ["billing"], allowGuests: true, deny: [], open: true, ...q },
      { name: "fr", skills: ["fr"], allowGuests: true, deny: [], open: true },
    ],
  });
  const joinAs = (c: Cti, customer: string) => c.join({ queue: "billing", customer, plain: false, extraSkills: [], form: {} });

  it("refuses joins beyond maxWaiting, with a clear reason", async () => {
    const c = make({ maxWaiting: 2 });
    await c.agentState("alice@acme.test", "not-ready");
    await joinAs(c, "c1@g/a");
    await joinAs(c, "c2@g/a");
    await expect(joinAs(c, "c3@g/a")).rejects.toMatchObject({ code: "queue-full", text: expect.stringMatching(/full/) });
  });

  it("lets a customer who waited maxWaitSeconds go, with a notice", async () => {
    const c = make({ maxWaitSeconds: 600 });
    await c.agentState("alice@acme.test", "not-ready");
    const s = await joinAs(c, "c1@g/a");
    clock += 599_000;
    expect(await c.expire()).toBe(0);
    clock += 1_000;
    expect(await c.expire()).toBe(1);
    expect(await c.session(s.id)).toMatchObject({ state: "ended", endReason: "expired" });
  });

  it("refuses joins outside business hours and says when the queue opens", async () => {
    const c = make({ hours: { timezone: "UTC", weekly: { tue: ["09:00-17:00"] }, holidays: [] } });
    await c.agentState("alice@acme.test", "ready");
    clock = Date.parse("2026-11-24T08:00:00Z"); // a Tuesday
    await expect(joinAs(c, "c1@g/a")).rejects.toMatchObject({ code: "queue-closed", text: expect.stringContaining("opens today at 09:00 (UTC)") });
    clock = Date.parse("2026-11-24T09:00:00Z");
    expect((await joinAs(c, "c1@g/a")).state).toBe("assigned");
  });

  it("widens to the overflow skills after overflowAfter seconds", async () => {
    await store.upsertAgent({ jid: "pierre@acme.test", skills: ["fr"], maxChats: 1 });
    const c = make({ overflowAfter: 60, overflowSkills: ["fr"] });
    await c.agentState("alice@acme.test", "not-ready");
    await c.agentState("pierre@acme.test", "ready");
    const s = await joinAs(c, "c1@g/a");
    expect(s.state).toBe("queued");
    clock += 59_000;
    await c.route();
    expect((await c.session(s.id))?.state).toBe("queued");
    clock += 1_000;
    await c.route();
    expect((await c.session(s.id))?.seat).toBe("pierre@acme.test");
  });
});

describe("no answer", () => {
  it("puts the customer back at the head of the queue when the seat does not answer, and pauses the seat after maxNoAnswer", async () => {
    const c = createCti({
      store, guestDomain: GUEST, now: () => clock, newId: () => `N${++ids}`,
      queues: [{ name: "billing", skills: ["billing"], allowGuests: true, deny: [], open: true, firstResponseTimeout: 30, maxNoAnswer: 2 }],
    });
    const join = (customer: string) => c.join({ queue: "billing", customer, plain: false, extraSkills: [], form: {} });
    await c.agentState("alice@acme.test", "ready"); // maxChats 1
    const first = await join("c1@g/a");
    const second = await join("c2@g/a");
    expect(first.seat).toBe("alice@acme.test");
    clock += 30_000;
    expect(await c.expire()).toBe(1);
    // back at the head, ahead of the second customer; alice (the only seat) gets it again
    expect((await c.session(first.id))).toMatchObject({ state: "assigned", seat: "alice@acme.test", missedBy: ["alice@acme.test"] });
    expect((await c.session(second.id))?.state).toBe("queued");
    expect(await c.answered(first.id, "alice@acme.test")).toBe("ok");
    clock += 30_000;
    expect(await c.expire()).toBe(0); // answered: the clock stopped

    await c.end(first.id, "alice@acme.test"); // the second customer gets alice
    clock += 30_000;
    await c.expire(); // first miss in a row (answering reset the count)
    expect((await c.agent("alice@acme.test"))?.state).toBe("ready");
    clock += 30_000;
    await c.expire(); // second miss: paused
    expect(await c.agent("alice@acme.test")).toMatchObject({ state: "not-ready", reason: "No answer to 2 customers in a row" });
    expect((await c.session(second.id))?.state).toBe("queued");
  });

  it("prefers a seat that did not miss the customer", async () => {
    const c = createCti({
      store, guestDomain: GUEST, now: () => clock, newId: () => `P${++ids}`,
      queues: [{ name: "billing", skills: ["billing"], allowGuests: true, deny: [], open: true, firstResponseTimeout: 30 }],
    });
    await c.agentState("bob@acme.test", "ready");
    clock += 1000;
    await c.agentState("alice@acme.test", "ready");
    const s = await c.join({ queue: "billing", customer: "c1@g/a", plain: false, extraSkills: [], form: {} });
    expect(s.seat).toBe("bob@acme.test"); // longest idle
    clock += 30_000;
    await c.expire();
    expect((await c.session(s.id))?.seat).toBe("alice@acme.test");
  });
});

describe("transfer", () => {
  const make = () => createCti({
    store, guestDomain: GUEST, now: () => clock, newId: () => `X${++ids}`,
    queues: [
      { name: "billing", skills: ["billing"], allowGuests: true, deny: [], open: true },
      { name: "fr", skills: ["fr"], allowGuests: true, deny: [], open: true },
    ],
  });

  it("hands a session to another ready agent, freeing the old seat", async () => {
    const c = make();
    await c.agentState("alice@acme.test", "ready");
    const s = await c.join({ queue: "billing", customer: "c1@g/a", plain: false, extraSkills: [], form: { subject: "refund" } });
    expect(s.seat).toBe("alice@acme.test");
    await expect(c.transfer(s.id, "alice@acme.test", { agent: "bob@acme.test" })).rejects.toMatchObject({ code: "unavailable" }); // bob offline
    await c.agentState("bob@acme.test", "ready");
    await expect(c.transfer(s.id, "bob@acme.test", { agent: "alice@acme.test" })).rejects.toMatchObject({ code: "forbidden" });
    clock += 1000;
    await c.transfer(s.id, "alice@acme.test", { agent: "bob@acme.test" }, "wants a refund");
    expect(await c.session(s.id)).toMatchObject({ seat: "bob@acme.test", assignedAt: clock, state: "assigned" });
    expect((await c.agent("alice@acme.test"))?.active).toBe(0);
    expect((await c.agent("bob@acme.test"))?.active).toBe(1);
    expect(store.events.at(-1)).toMatchObject({ type: "transferred", from: "alice@acme.test", seat: "bob@acme.test", note: "wants a refund" });
  });

  it("hands a session to another queue, where it is routed by that queue's skills", async () => {
    const c = make();
    await c.agentState("alice@acme.test", "ready");
    const s = await c.join({ queue: "billing", customer: "c1@g/a", plain: false, extraSkills: [], form: {} });
    await c.agentState("bob@acme.test", "ready"); // bob has fr, alice does not
    await c.transfer(s.id, "alice@acme.test", { queue: "fr" });
    expect(await c.session(s.id)).toMatchObject({ queue: "fr", needs: ["fr"], seat: "bob@acme.test" });
  });
});

describe("priorities and sticky agents", () => {
  it("routes a higher-priority customer first, from the queue's priority and the customer's tier", async () => {
    const c = createCti({
      store, guestDomain: GUEST, now: () => clock, newId: () => `R${++ids}`, tiers: { "gold.example": 5 },
      queues: [{ name: "billing", skills: ["billing"], allowGuests: true, deny: [], open: true, agingSeconds: 3600 }],
    });
    await c.agentState("alice@acme.test", "not-ready");
    const plain = await c.join({ queue: "billing", customer: "c1@g/a", plain: false, extraSkills: [], form: {} });
    clock += 1000;
    const gold = await c.join({ queue: "billing", customer: "ann@gold.example/a", plain: false, extraSkills: [], form: {} });
    expect(gold.priority).toBe(5);
    expect((await c.queueStatus("billing")).map((q) => q.session.id)).toEqual([gold.id, plain.id]);
    await c.agentState("alice@acme.test", "ready");
    expect((await c.session(gold.id))?.seat).toBe("alice@acme.test");
    expect((await c.session(plain.id))?.state).toBe("queued");
  });

  it("keeps a returning customer for the seat that served it last, within stickySeconds", async () => {
    const c = createCti({
      store, guestDomain: GUEST, now: () => clock, newId: () => `K${++ids}`,
      queues: [{ name: "billing", skills: ["billing"], allowGuests: true, deny: [], open: true, stickySeconds: 60 }],
    });
    await c.agentState("bob@acme.test", "ready");
    const first = await c.join({ queue: "billing", customer: "carol@acme.test/a", plain: false, extraSkills: [], form: {} });
    await c.inService(first.id, "bob@acme.test");
    await c.end(first.id, "bob@acme.test");
    await c.agentState("bob@acme.test", "not-ready");
    clock += 1000;
    await c.agentState("alice@acme.test", "ready");
    const again = await c.join({ queue: "billing", customer: "carol@acme.test/b", plain: false, extraSkills: [], form: {} });
    expect(again).toMatchObject({ state: "queued", preferredSeat: "bob@acme.test" }); // alice is free, but bob served her
    await c.agentState("bob@acme.test", "ready");
    expect((await c.session(again.id))?.seat).toBe("bob@acme.test");

    // Once stickySeconds have passed, anyone may serve.
    await c.end(again.id, "carol@acme.test");
    await c.agentState("bob@acme.test", "not-ready");
    const third = await c.join({ queue: "billing", customer: "carol@acme.test/c", plain: false, extraSkills: [], form: {} });
    expect(third.state).toBe("queued");
    clock += 60_000;
    await c.route();
    expect((await c.session(third.id))?.seat).toBe("alice@acme.test");
  });
});

describe("XEP-0142 offers", () => {
  const make = (q: Partial<Queue> = {}) => createCti({
    store, guestDomain: GUEST, now: () => clock, newId: () => `O${++ids}`,
    queues: [{ name: "billing", skills: ["billing"], allowGuests: true, deny: [], open: true, offerTimeout: 20, ...q }],
  });
  const join = (c: Cti, customer = "c1@g/a") => c.join({ queue: "billing", customer, plain: false, extraSkills: [], form: {} });

  it("offers the customer to a seat whose client takes offers; accepting assigns it", async () => {
    const c = make();
    await c.agentState("alice@acme.test", "ready");
    await c.offerTarget("alice@acme.test", "alice@acme.test/desk");
    const s = await join(c);
    expect(s).toMatchObject({ state: "queued", ringing: ["alice@acme.test/desk"] });
    expect(await c.acceptOffer("c1@g/a", "alice@acme.test/phone")).toBe("gone"); // not the client it was offered to
    expect(await c.acceptOffer("c1@g/a", "alice@acme.test/desk")).toBe("ok");
    expect(await c.session(s.id)).toMatchObject({ state: "assigned", seat: "alice@acme.test", ringing: [] });
  });

  it("routes a rejected customer to another seat, and revokes an offer nobody takes in time", async () => {
    const c = make();
    await c.agentState("alice@acme.test", "ready");
    await c.offerTarget("alice@acme.test", "alice@acme.test/desk");
    const s = await join(c);
    await c.rejectOffer("c1@g/a", "alice@acme.test/desk");
    expect((await c.session(s.id))?.missedBy).toEqual(["alice@acme.test"]);
    // alice is the only seat: the customer is offered to her again (seats that let go come last, not never)
    expect((await c.session(s.id))?.ringing).toEqual(["alice@acme.test/desk"]);
    clock += 20_000;
    await c.expire();
    expect(store.events.filter((e) => e.type === "offer-withdrawn").map((e) => (e as { reason: string }).reason)).toEqual(["rejected", "timeout"]);
  });

  it("rings every eligible seat that takes offers on a ring-all queue; the first to accept wins", async () => {
    const c = make({ strategy: "ring-all" });
    for (const jid of ["alice@acme.test", "bob@acme.test"]) {
      await c.agentState(jid, "ready");
      await c.offerTarget(jid, `${jid}/desk`);
    }
    const s = await join(c);
    expect([...(await c.session(s.id))!.ringing].sort()).toEqual(["alice@acme.test/desk", "bob@acme.test/desk"]);
    expect(await c.acceptOffer("c1@g/a", "bob@acme.test/desk")).toBe("ok");
    expect(await c.acceptOffer("c1@g/a", "alice@acme.test/desk")).toBe("gone");
    const assigned = store.events.find((e) => e.type === "assigned") as { seat: string; rang: string[] };
    expect(assigned.seat).toBe("bob@acme.test");
    expect(assigned.rang.sort()).toEqual(["alice@acme.test/desk", "bob@acme.test/desk"]);
  });

  it("assigns directly when no seat takes offers", async () => {
    const c = make({ strategy: "ring-all" });
    await c.agentState("alice@acme.test", "ready");
    expect((await join(c)).seat).toBe("alice@acme.test");
  });
});

describe("records and ratings (issue 12)", () => {
  const served = async (customer: string) => {
    await cti.agentState("alice@acme.test", "ready");
    const s = await cti.join({ queue: "billing", customer, plain: true, extraSkills: [], form: {} });
    await cti.route();
    await cti.inService(s.id, "alice@acme.test");
    return s.id;
  };
  const messages = () => store.events.filter((e) => e.type === "message");

  it("records a message of a live or ended session, cut to 10,000 characters, and refuses an unknown one", async () => {
    const id = await served("c1@guest.acme.test/a");
    await cti.recordMessage({ session: id, seat: "alice@acme.test", sender: "c1@guest.acme.test/a", direction: "in", body: "x".repeat(20_000) });
    await cti.end(id, "alice@acme.test");
    await cti.recordMessage({ session: id, seat: "alice@acme.test/desk", sender: "alice@acme.test/desk", direction: "out", body: "late", at: 5 });
    expect(messages()).toEqual([
      { type: "message", session: id, seat: "alice@acme.test", sender: "c1@guest.acme.test", direction: "in", body: "x".repeat(10_000), at: clock },
      { type: "message", session: id, seat: "alice@acme.test", sender: "alice@acme.test", direction: "out", body: "late", at: 5 },
    ]);
    expect(await refusal(cti.recordMessage({ session: "nope", seat: "alice@acme.test", sender: "alice@acme.test", direction: "out", body: "x" }))).toBe("unknown-session");
  });

  it("asks a plain customer of a served chat for a rating, takes its answer once, within ten minutes", async () => {
    const id = await served("c1@guest.acme.test/a");
    await cti.end(id, "alice@acme.test");
    const event = store.events.find((e) => e.type === "ended" && e.session === id) as Extract<CtiEvent, { type: "ended" }>;
    expect(await cti.askRating(event)).toBe(true);
    expect(await cti.answerRating("c1@guest.acme.test/b", "4 very helpful")).toBe("rated");
    expect((await cti.session(id))?.feedback).toEqual({ score: 4, comment: "very helpful" });
    expect(await cti.answerRating("c1@guest.acme.test/a", "5")).toBe("none");

    expect(await cti.askRating(event)).toBe(true);
    expect(await cti.answerRating("c1@guest.acme.test/a", "5")).toBe("already");
    expect(await cti.askRating(event)).toBe(true);
    expect(await cti.answerRating("c1@guest.acme.test/a", "hello")).toBe("none");
    expect(await cti.answerRating("c1@guest.acme.test/a", "5")).toBe("none"); // dropped by the message before
    expect(await cti.askRating(event)).toBe(true);
    clock += 10 * 60_000;
    expect(await cti.answerRating("c1@guest.acme.test/a", "5")).toBe("none");
  });

  it("does not ask after a chat that was not served, nor a page's customer, nor one gone offline", async () => {
    const id = await served("c1@guest.acme.test/a");
    await cti.end(id, "alice@acme.test");
    const event = store.events.find((e) => e.type === "ended" && e.session === id) as Extract<CtiEvent, { type: "ended" }>;
    expect(await cti.askRating({ ...event, from: "queued", seat: null })).toBe(false);
    expect(await cti.askRating({ ...event, from: "assigned" })).toBe(false);
    expect(await cti.askRating({ ...event, plain: false })).toBe(false);
    expect(await cti.askRating({ ...event, reason: "customer-offline" })).toBe(false);
    expect(await cti.askRating({ ...event, media: "voice" })).toBe(false);
    expect(await cti.answerRating("c1@guest.acme.test/a", "5")).toBe("none");
  });
});
