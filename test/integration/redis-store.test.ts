/**
 * The Redis store against a real redis-server: the same behaviour as the
 * memory store, and the invariants under concurrency (two CTI instances, each
 * with its own connection, racing for the same seats).
 */
import { describe, expect, it } from "@jest/globals";
import { createCti } from "../../cti/cti.js";
import { EventReader, parseEvent } from "../../cti/redis/events.js";
import { MemoryStore } from "../../cti/memory-store.js";
import type { Queued, Store } from "../../cti/store.js";
import type { Queue, Session } from "../../cti/types.js";
import { until } from "../helpers/stack.js";
import { useRedis } from "../helpers/redis.js";

const QUEUES: Queue[] = [{ name: "billing", skills: ["billing"], allowGuests: true, deny: [], open: true }];
const { connect, instance } = useRedis(QUEUES);

describe("RedisStore", () => {
  it("ends a session for its parties only, checked in the same script: the seat, the customer from another resource", async () => {
    const { store, cti } = instance(() => 1000);
    await store.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 2 });
    await cti.agentState("alice@acme.test", "ready");
    const a = await cti.join({ queue: "billing", customer: "c1@guest.acme.test/w", plain: true, extraSkills: [], form: {} });
    const b = await cti.join({ queue: "billing", customer: "c2@guest.acme.test/w", plain: true, extraSkills: [], form: {} });
    expect(await store.endBy(a.id, "mallory@acme.test", 2000)).toBe("forbidden");
    expect(await store.endBy(a.id, "c2@guest.acme.test", 2000)).toBe("forbidden"); // another session's customer
    expect(await store.endBy("s-none", "alice@acme.test", 2000)).toBe("unknown");
    expect(await store.session(a.id)).toMatchObject({ state: "assigned" });
    expect(await store.endBy(a.id, "c1@guest.acme.test", 2000)).toMatchObject({ id: a.id, state: "assigned" }); // as it was
    expect(await store.session(a.id)).toMatchObject({ state: "ended", endReason: "customer" });
    expect(await store.endBy(a.id, "c1@guest.acme.test", 2000)).toBe("ended");
    await store.endBy(b.id, "alice@acme.test", 3000);
    expect(await store.session(b.id)).toMatchObject({ state: "ended", endReason: "seat", endedAt: 3000 });
  });

  it("loads its function library again when Redis has lost it (a restart without persistence), and the call goes through", async () => {
    const { store, cti } = instance(() => 1000);
    await store.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 1 });
    const redis = connect();
    const libraries = async () => ((await redis.function("LIST")) as unknown[][]).map((l) => String(l[1]));
    const [name] = await libraries();
    expect(name).toMatch(/^sb_[0-9a-f]{12}$/);
    await redis.function("FLUSH");
    expect(await libraries()).toEqual([]);
    await cti.agentState("alice@acme.test", "ready"); // its FCALL finds no function: loaded again, sent again
    expect(await libraries()).toEqual([name]);
    expect(await store.agent("alice@acme.test")).toMatchObject({ state: "ready" });
    const s = await cti.join({ queue: "billing", customer: "c1@guest.acme.test/w", plain: true, extraSkills: [], form: {} });
    expect(s).toMatchObject({ state: "assigned", seat: "alice@acme.test" });
  });

  it("runs the whole lifecycle and logs every transition to the stream", async () => {
    let t = 1000;
    const { store, cti } = instance(() => t);
    await store.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 1 });
    const reader = new EventReader(connect(), store.keys, "g", "c1");
    await reader.ensureGroup();
    await cti.agentState("alice@acme.test", "ready");
    const s = await cti.join({ queue: "billing", customer: "c1@guest.acme.test/w", plain: true, extraSkills: [], form: { subject: "Invoice 42" } });
    expect(s).toMatchObject({ state: "assigned", seat: "alice@acme.test", plain: true, form: { subject: "Invoice 42" }, needs: ["billing"] });
    t = 2000;
    expect(await cti.inService(s.id, "alice@acme.test")).toBe("ok");
    t = 62_000;
    await cti.end(s.id, "c1@guest.acme.test/w");
    expect(await store.session(s.id)).toMatchObject({ state: "ended", endReason: "customer", queuedAt: 1000, assignedAt: 1000, inServiceAt: 2000, endedAt: 62_000 });
    expect(await store.handleSeconds("billing")).toBe(60);
    expect(await store.sessionOf("c1@guest.acme.test/w")).toBeNull();
    expect((await store.sessions(10)).map((x) => x.id)).toEqual([s.id]);

    const logged = await reader.read(100);
    expect(logged.map((l) => l.event.type)).toEqual(["agent-state", "queued", "assigned", "in-service", "ended"]);
    expect(logged[2]!.event).toMatchObject({ type: "assigned", session: s.id, seat: "alice@acme.test", plain: true, form: { subject: "Invoice 42" }, at: 1000 });
    expect(logged[4]!.event).toMatchObject({ type: "ended", from: "in-service", reason: "customer", at: 62_000 });
    await reader.ack(logged.map((l) => l.id));
    expect(await reader.read(10)).toEqual([]);
  });

  it("refuses a second live session from the same full JID", async () => {
    const { store, cti } = instance();
    await store.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 1 });
    await cti.agentState("alice@acme.test", "not-ready");
    await cti.join({ queue: "billing", customer: "c@x/1", plain: false, extraSkills: [], form: {} });
    await expect(cti.join({ queue: "billing", customer: "c@x/1", plain: false, extraSkills: [], form: {} })).rejects.toMatchObject({ code: "already-queued" });
  });

  it("queues a join only while an agent with every skill it needs is logged in, checked in the enqueue", async () => {
    const { store, cti } = instance();
    const join = (customer: string, extraSkills: string[] = []) => cti.join({ queue: "billing", customer, plain: false, extraSkills, form: {} });
    await store.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 1 });
    await store.upsertAgent({ jid: "bruno@acme.test", skills: ["billing", "french"], maxChats: 1 });
    await expect(join("c1@x/r")).rejects.toMatchObject({ code: "no-agents" });
    await expect(join("c2@x/r", ["klingon"])).rejects.toMatchObject({ code: "unavailable" });
    await cti.agentState("alice@acme.test", "not-ready");
    // Someone is on with billing, but not with billing and french: both skills' sets are checked together.
    await expect(join("c3@x/r", ["french"])).rejects.toMatchObject({ code: "no-agents" });
    expect(await store.sessionOf("c3@x/r")).toBeNull();
    expect(await join("c1@x/r")).toMatchObject({ state: "queued" });
    await cti.agentState("bruno@acme.test", "not-ready");
    expect(await join("c3@x/r", ["french"])).toMatchObject({ state: "queued", needs: ["billing", "french"] });
    expect((await store.waiting("billing")).map((w) => w.customer)).toEqual(["c1@x/r", "c3@x/r"]);
  });

  it("ends every session of an agent that goes offline, in one step", async () => {
    const { store, cti } = instance();
    await store.upsertAgent({ jid: "bob@acme.test", skills: ["billing"], maxChats: 3 });
    await cti.agentState("bob@acme.test", "ready");
    const sessions = await Promise.all([1, 2, 3].map((i) => cti.join({ queue: "billing", customer: `c${i}@x/r`, plain: false, extraSkills: [], form: {} })));
    const result = await store.setAgentState("bob@acme.test", "offline", Date.now());
    expect(result?.ended.sort()).toEqual(sessions.map((s) => s.id).sort());
    expect(await store.agent("bob@acme.test")).toMatchObject({ state: "offline", active: 0 });
  });

  it("never assigns a customer twice nor puts a seat over capacity when two instances race", async () => {
    const a = instance();
    const b = instance();
    const agents = Array.from({ length: 20 }, (_, i) => ({ jid: `agent${i}@acme.test`, skills: ["billing"], maxChats: 1 + (i % 3) }));
    for (const ag of agents) await a.store.upsertAgent(ag);
    for (const ag of agents) await a.cti.agentState(ag.jid, "not-ready");
    const capacity = agents.reduce((sum, ag) => sum + ag.maxChats, 0); // 39
    const customers = 200;
    // Customers join through both instances while agents become ready through both.
    await Promise.all([
      ...Array.from({ length: customers }, (_, i) => (i % 2 ? a : b).cti.join({ queue: "billing", customer: `c${i}@guest.acme.test/w`, plain: false, extraSkills: [], form: {} })),
      ...agents.map((ag, i) => (i % 2 ? b : a).cti.agentState(ag.jid, "ready")),
    ]);
    // Both instances route at the same time, again and again.
    await Promise.all([a.cti.route(), b.cti.route(), a.cti.route(), b.cti.route()]);

    const sessions = await a.store.sessions(0);
    const assigned = sessions.filter((s) => s.state === "assigned");
    expect(assigned).toHaveLength(capacity);
    const perSeat = new Map<string, number>();
    for (const s of assigned) perSeat.set(s.seat!, (perSeat.get(s.seat!) ?? 0) + 1);
    for (const ag of agents) {
      expect(perSeat.get(ag.jid) ?? 0).toBe(ag.maxChats);
      expect((await a.store.agent(ag.jid))?.active).toBe(ag.maxChats);
    }
    // Each customer appears once, and the waiting ones are exactly the rest, in arrival order: the order
    // their enqueues reached Redis. Each instance's joins keep the order of their clocks; between two
    // instances' joins of the same moment, Redis decides.
    expect(new Set(sessions.map((s) => s.customer)).size).toBe(customers);
    const waiting = await a.store.waiting("billing");
    expect(waiting).toHaveLength(customers - capacity);
    expect(waiting.every((s) => s.state === "queued")).toBe(true);
    for (const parity of [0, 1]) {
      const queuedAt = waiting.filter((s) => Number(/^c(\d+)@/.exec(s.customer)![1]) % 2 === parity).map((s) => s.queuedAt);
      expect(queuedAt.length).toBeGreaterThan(0);
      expect([...queuedAt].sort((x, y) => x - y)).toEqual(queuedAt);
    }
  });

  it("keeps an away customer's session for the grace period, lets it resume, and ends it after", async () => {
    let t = 1_000;
    const { store, redis } = instance(() => t);
    const cti = createCti({ store, queues: QUEUES, guestDomain: "guest.acme.test", now: () => t, graceSeconds: 30 });
    await store.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 2 });
    await cti.agentState("alice@acme.test", "ready");
    const a = await cti.join({ queue: "billing", customer: "a@guest.acme.test/1", plain: false, extraSkills: [], form: { name: "Ann" } });
    const b = await cti.join({ queue: "billing", customer: "b@guest.acme.test/1", plain: false, extraSkills: [], form: {} });
    await cti.customerOffline("a@guest.acme.test/1");
    await cti.customerOffline("b@guest.acme.test/1");
    // The event says when the grace is over: the notifier ends the session then (a timer), not at its next tick.
    const fields = ((await redis.xrevrange(store.keys.events(), "+", "-", "COUNT", 1)) as Array<[string, string[]]>)[0]![1];
    expect(parseEvent(fields)).toEqual({ type: "customer-away", session: b.id, customer: "b@guest.acme.test/1", at: 1_000, until: 31_000 });
    expect(await store.session(a.id)).toMatchObject({ state: "assigned", awaySince: 1_000 });
    await expect(cti.resume(a.id, "nope", "a@guest.acme.test/2")).rejects.toMatchObject({ code: "forbidden" });
    await cti.resume(a.id, a.token, "a@guest.acme.test/2");
    expect(await store.session(a.id)).toMatchObject({ customer: "a@guest.acme.test/2", awaySince: null });
    expect(await store.sessionOf("a@guest.acme.test/2")).toBe(a.id);
    t = 30_999;
    expect(await cti.expireAway()).toBe(0);
    t = 31_000;
    expect(await cti.expireAway()).toBe(1);
    expect(await store.session(b.id)).toMatchObject({ state: "ended", endReason: "customer-offline" });
    expect(await store.session(a.id)).toMatchObject({ state: "assigned" });
  });

  it("routes a queued customer who resumes to a seat that got free while it was away", async () => {
    const { store } = instance();
    const cti = createCti({ store, queues: QUEUES, guestDomain: "guest.acme.test", now: () => 1_000, graceSeconds: 30 });
    await store.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 1 });
    await cti.agentState("alice@acme.test", "not-ready");
    const a = await cti.join({ queue: "billing", customer: "a@guest.acme.test/1", plain: false, extraSkills: [], form: {} });
    await cti.customerOffline("a@guest.acme.test/1");
    await cti.agentState("alice@acme.test", "ready"); // the away customer is out of the line: nobody to route
    expect(await store.session(a.id)).toMatchObject({ state: "queued" });
    await cti.resume(a.id, a.token, "a@guest.acme.test/2");
    expect(await store.session(a.id)).toMatchObject({ state: "assigned", seat: "alice@acme.test", customer: "a@guest.acme.test/2" });
  });

  it("stores feedback once, left messages newest first, and finds sessions ended since a time", async () => {
    const { store, cti } = instance();
    await store.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 1 });
    await cti.agentState("alice@acme.test", "ready");
    const s = await cti.join({ queue: "billing", customer: "a@x/1", plain: false, extraSkills: [], form: {} });
    const before = Date.now();
    await cti.end(s.id, "alice@acme.test");
    await cti.feedback(s.id, "a@x/2", 5, "Great <b>help</b>");
    await expect(cti.feedback(s.id, "a@x/1", 3, "")).rejects.toMatchObject({ code: "already-rated" });
    expect((await store.session(s.id))?.feedback).toEqual({ score: 5, comment: "Great <b>help</b>" });
    expect((await store.endedSince(before)).map((x) => x.id)).toEqual([s.id]);
    await cti.leaveMessage("billing", "a@x/1", { message: "first" });
    await cti.leaveMessage("billing", "a@x/1", { message: "second" });
    expect((await store.messages(10)).map((m) => m.message)).toEqual(["second", "first"]);
  });

  it("records a chat message as one event the reader parses back like the memory store's, without trimming the log", async () => {
    const { redis, store, cti } = instance(() => 5000);
    await store.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 1 });
    await cti.agentState("alice@acme.test", "ready");
    const s = await cti.join({ queue: "billing", customer: "a@x/1", plain: true, extraSkills: [], form: {} });
    const body = `caf\u00e9 "quoted" <b>\u{1F600}</b> ${"y".repeat(12_000)}`;
    const before = await redis.xlen(store.keys.events());
    await cti.recordMessage({ session: s.id, seat: "alice@acme.test", sender: "a@x/1", direction: "in", body, at: 4321 });
    await expect(cti.recordMessage({ session: "nope", seat: "alice@acme.test", sender: "a@x/1", direction: "in", body })).rejects.toMatchObject({ code: "unknown-session" });
    expect(await redis.xlen(store.keys.events())).toBe(before + 1);
    const fields = ((await redis.xrevrange(store.keys.events(), "+", "-", "COUNT", 1)) as Array<[string, string[]]>)[0]![1];
    expect(fields.filter((_: string, i: number) => i % 2 === 0)).toEqual(["type", "data"]);
    const memory = new MemoryStore();
    const mcti = createCti({ store: memory, queues: QUEUES, guestDomain: "guest.acme.test", now: () => 5000, newId: () => s.id });
    await memory.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 1 });
    await mcti.agentState("alice@acme.test", "ready");
    await mcti.join({ queue: "billing", customer: "a@x/1", plain: true, extraSkills: [], form: {} });
    await mcti.recordMessage({ session: s.id, seat: "alice@acme.test", sender: "a@x/1", direction: "in", body, at: 4321 });
    expect(parseEvent(fields)).toEqual(memory.events.at(-1));
    expect(parseEvent(fields)).toMatchObject({ type: "message", body: [...body].slice(0, 10_000).join(""), sender: "a@x", at: 4321 }); // characters, not UTF-16 units
  });

  it("keeps a pending rating for one take, and only until it expires", async () => {
    const { redis, store } = instance();
    await store.putRating("a@x", "S1", Date.now() + 60_000);
    expect(await redis.pttl(store.keys.rating("a@x"))).toBeGreaterThan(50_000);
    expect(await store.takeRating("a@x", Date.now())).toBe("S1");
    expect(await store.takeRating("a@x", Date.now())).toBeNull();
    await store.putRating("b@x", "S2", Date.now() + 50);
    await until(() => redis.exists(store.keys.rating("b@x")), (n) => n === 0, 2000, "rating expired");
    expect(await store.takeRating("b@x", Date.now())).toBeNull();
  });

  it("refuses to claim a seat during its wrap-up, even for an instance with a stale view", async () => {
    let t = 1_000;
    const { store } = instance(() => t);
    const wrapQueues: Queue[] = [{ ...QUEUES[0]!, wrapUpSeconds: 30 }];
    const cti = createCti({ store, queues: wrapQueues, guestDomain: "guest.acme.test", now: () => t });
    await store.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 1 });
    await cti.agentState("alice@acme.test", "ready");
    const first = await cti.join({ queue: "billing", customer: "a@x/1", plain: false, extraSkills: [], form: {} });
    const second = await cti.join({ queue: "billing", customer: "b@x/1", plain: false, extraSkills: [], form: {} });
    await cti.end(first.id, "alice@acme.test");
    expect(await store.agent("alice@acme.test")).toMatchObject({ wrapUntil: 31_000, active: 0 });
    expect(await store.claim(second.id, "alice@acme.test", 30_999)).toBe("seat-unavailable");
    expect(await store.claim(second.id, "alice@acme.test", 31_000)).toBe("ok");
  });

  it("lists free seats in allocation's default order (fewest active, longest free, JID), the first few on request", async () => {
    let t = 1_000;
    const { store, cti } = instance(() => t);
    const memory = new MemoryStore();
    for (const s of [store, memory]) {
      for (const [jid, maxChats] of [["d@x", 1], ["b@x", 2], ["a@x", 1], ["c@x", 1]] as const) await s.upsertAgent({ jid, skills: ["billing", ...(jid === "c@x" ? [] : ["fr"])], maxChats });
      for (const [jid, at] of [["d@x", 3000], ["b@x", 1000], ["a@x", 2000], ["c@x", 2000]] as const) await s.setAgentState(jid, "ready", at);
    }
    expect(await store.seats("free", ["billing"])).toEqual(["b@x", "a@x", "c@x", "d@x"]);
    expect(await store.seats("free", ["billing", "fr"], 2)).toEqual(["b@x", "a@x"]);
    t = 4000;
    const s1 = await cti.join({ queue: "billing", customer: "c1@guest.acme.test/w", plain: true, extraSkills: [], form: {} });
    expect(s1).toMatchObject({ state: "assigned", seat: "b@x" }); // the longest free
    await memory.enqueue({ ...s1, id: "m1", state: "queued", seat: null });
    await memory.claim("m1", "b@x", 4000);
    // b@x has one of its two chats now: after every seat with none.
    for (const s of [store, memory]) expect(await s.seats("free", [])).toEqual(["a@x", "c@x", "d@x", "b@x"]);
  });

  it("routes a join past the first free seats when they are all in wrap-up", async () => {
    let t = 1_000;
    const { store } = instance(() => t);
    const cti = createCti({ store, queues: [{ ...QUEUES[0]!, wrapUpSeconds: 30 }], guestDomain: "guest.acme.test", now: () => t });
    const jids = ["a1", "a2", "a3", "a4", "a5", "a6"].map((n) => `${n}@acme.test`);
    for (const jid of jids) { await store.upsertAgent({ jid, skills: ["billing"], maxChats: jid < "a5" ? 1 : 2 }); await cti.agentState(jid, "ready"); t += 10; }
    const join = (customer: string) => cti.join({ queue: "billing", customer: `${customer}@guest.acme.test/w`, plain: true, extraSkills: [], form: {} });
    const served = [];
    for (let i = 0; i < 6; i++) served.push(await join(`c${i}`));
    expect(served.map((s) => s.seat)).toEqual(jids);
    // a1-a4 end their chats: in wrap-up, and first in the free seats' order (none active); a5 and a6 have room.
    t = 11_000;
    for (const s of served.slice(0, 4)) await cti.end(s.id, s.seat!);
    expect(await store.seats("free", ["billing"])).toEqual(jids);
    expect(await join("late")).toMatchObject({ state: "assigned", seat: "a5@acme.test" });
  });

  it("serves joins that arrive together at every free seat, past the first few they all read", async () => {
    const { store, cti } = instance();
    const jids = Array.from({ length: 10 }, (_, i) => `a${i}@acme.test`);
    for (const jid of jids) { await store.upsertAgent({ jid, skills: ["billing"], maxChats: 1 }); await cti.agentState(jid, "ready"); }
    const served = await Promise.all(Array.from({ length: 10 }, (_, i) => cti.join({ queue: "billing", customer: `c${i}@guest.acme.test/w`, plain: true, extraSkills: [], form: {} })));
    expect(served.map((s) => s.state)).toEqual(Array(10).fill("assigned"));
    expect(new Set(served.map((s) => s.seat)).size).toBe(10);
    expect(await store.seats("free", ["billing"])).toEqual([]);
  });

  it("hands a dead reader's unacknowledged events to another reader", async () => {
    const { redis, store, cti } = instance();
    await store.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 1 });
    const dead = new EventReader(connect(), store.keys, "g", "dead");
    await dead.ensureGroup();
    await cti.agentState("alice@acme.test", "ready");
    const got = await dead.read(100);
    expect(got).toHaveLength(1);
    const other = new EventReader(connect(), store.keys, "g", "other");
    await redis.call("XCLAIM", store.keys.events(), "g", "dead", "0", got[0]!.id, "IDLE", "60000"); // age it past STALE_MS
    const taken = await other.read(100);
    expect(taken.map((e) => e.id)).toEqual([got[0]!.id]);
  });

  it("forgets readers gone for good (nothing pending, idle), and keeps any that still owns an event", async () => {
    const { store, cti } = instance();
    await store.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 1 });
    const gone = new EventReader(connect(), store.keys, "g", "gone");
    await gone.ensureGroup();
    await cti.agentState("alice@acme.test", "ready");
    await gone.ack((await gone.read(100)).map((e) => e.id)); // a reader that did its work and died
    const owner = new EventReader(connect(), store.keys, "g", "owner");
    await cti.agentState("alice@acme.test", "not-ready");
    expect(await owner.read(100)).toHaveLength(1); // read, never acknowledged: pending on "owner"
    const next = new EventReader(connect(), store.keys, "g", "next");
    expect(await next.forgetIdleConsumers(0)).toBe(1);
    const names = ((await connect().xinfo("CONSUMERS", store.keys.events(), "g")) as Array<Array<string | number>>).map((c) => c[1]);
    expect(names).toEqual(["owner"]);
  });

  it("reads the free seats in the enqueue, whole when the newcomer may take one, and says when those ahead outnumber them, as the memory store does", async () => {
    const { store: redis } = instance();
    const joins = async (store: Store) => {
      for (const [jid, at] of [["b@x", 1000], ["a@x", 1500]] as const) { await store.upsertAgent({ jid, skills: ["billing"], maxChats: 1 }); await store.setAgentState(jid, "ready", at); }
      const session = (id: string, needs: string[], media: "chat" | "voice"): Session => ({
        id, queue: "billing", customer: `${id}@guest.acme.test/w`, plain: false, media, handle: "", needs, form: {}, state: "queued", seat: null,
        queuedAt: 2000, assignedAt: null, inServiceAt: null, endedAt: null, endReason: null, token: "t", awaySince: null, feedback: null,
        wrapUpMs: 0, answeredAt: null, missedBy: [], priority: 0, preferredSeat: null, ringing: [], ringUntil: null,
      });
      const out: Array<{ id: string; free: string[]; outnumbered?: boolean; ahead?: number; seats?: string[] }> = [];
      const join = async (id: string, needs = ["billing"], media: "chat" | "voice" = "chat") => {
        const r = (await store.enqueue(session(id, needs, media), { freeSeats: 4 })) as Queued;
        out.push({ id, free: r.free, outnumbered: r.outnumbered, ahead: r.direct?.ahead, seats: r.direct?.seats.map((a) => a.jid) });
      };
      await join("s1"); // alone: both seats, the best first
      await join("s2"); // one ahead, two seats: it may take the second
      await join("s3", ["billing", "fr"]); // nobody has fr
      await join("s4"); // another line waits (s3's): a pass decides
      await store.end("s3", "departed", 3000);
      await join("s5"); // three ahead, two seats: a chat seat may take several
      await join("v1", ["billing"], "voice"); // a call, four ahead, two seats: a seat takes one call
      return out;
    };
    const expected = await joins(new MemoryStore());
    expect(expected).toEqual([
      { id: "s1", free: ["b@x", "a@x"], outnumbered: undefined, ahead: 0, seats: ["b@x", "a@x"] },
      { id: "s2", free: ["b@x", "a@x"], outnumbered: undefined, ahead: 1, seats: ["b@x", "a@x"] },
      { id: "s3", free: [], outnumbered: undefined, ahead: undefined, seats: undefined },
      { id: "s4", free: ["b@x", "a@x"], outnumbered: undefined, ahead: undefined, seats: undefined },
      { id: "s5", free: ["b@x", "a@x"], outnumbered: undefined, ahead: undefined, seats: undefined },
      { id: "v1", free: ["b@x", "a@x"], outnumbered: true, ahead: undefined, seats: undefined },
    ]);
    expect(await joins(redis)).toEqual(expected);
  });

  it("keeps the same routing lines and seat sets as the memory store through every kind of transition", async () => {
    const memory = new MemoryStore();
    const { store: redis } = instance();
    const session = (id: string, needs: string[], priority = 0): Session => ({
      id, queue: needs[0]!, customer: `${id}@guest.acme.test/w`, plain: false, media: "chat", handle: "", needs, form: {}, state: "queued", seat: null,
      queuedAt: 1000, assignedAt: null, inServiceAt: null, endedAt: null, endReason: null, token: "t", awaySince: null, feedback: null,
      wrapUpMs: 0, answeredAt: null, missedBy: [], priority, preferredSeat: null, ringing: [], ringUntil: null,
    });
    const snapshot = async (store: Store) => {
      const lines = [...(await store.lines())].sort();
      const seats: Record<string, string[]> = {};
      for (const kind of ["free", "on", "all"] as const)
        for (const skills of [[], ["billing"], ["fr"], ["sales"], ["billing", "fr"]])
          seats[`${kind}:${skills.join("+")}`] = kind === "free" ? await store.seats(kind, skills) : [...(await store.seats(kind, skills))].sort(); // free: in order
      const jids = (agents: Array<{ jid: string }>) => agents.map((a) => a.jid);
      // Of some named agents, those still free, read whole (a routing pass's read).
      const stillFree = jids(await store.freeAgents(["c@x", "b@x", "a@x", "nobody@x"]));
      return { lines, heads: (await store.heads(lines, 10)).map((s) => s.id), seats, stillFree };
    };
    const steps: Array<[string, (s: Store) => Promise<unknown>]> = [
      ["agents", async (s) => {
        await s.upsertAgent({ jid: "a@x", skills: ["billing", "fr"], maxChats: 1 });
        await s.upsertAgent({ jid: "b@x", skills: ["billing"], maxChats: 2 });
        await s.upsertAgent({ jid: "c@x", skills: ["sales"], maxChats: 1 });
      }],
      ["states", async (s) => { await s.setAgentState("a@x", "ready", 1000); await s.setAgentState("b@x", "ready", 1000); await s.setAgentState("c@x", "not-ready", 1000); }],
      ["enqueue", async (s) => {
        for (const x of [session("s1", ["billing"]), session("s2", ["billing", "fr"]), session("s3", ["sales"], 2), session("s4", ["billing"])]) await s.enqueue(x);
      }],
      ["claim", (s) => s.claim("s1", "a@x", 2000)],
      ["offer", (s) => s.offer("s2", ["b@x/desk"], 2000, 9000)],
      ["away", (s) => s.markAway("s4", 2000, 60_000)],
      ["offer withdrawn", (s) => s.withdrawOffer("s2", "", 3000)],
      ["resume", (s) => s.resume("s4", "t", "s4@guest.acme.test/w2", 3000)],
      ["requeue", (s) => s.requeue("s1", 4000, 0, "")],
      ["claim by b", (s) => s.claim("s4", "b@x", 4000)],
      ["b takes a second", (s) => s.claim("s1", "b@x", 4000)],
      ["transfer to a queue", (s) => s.transfer("s4", "b@x", { queue: "sales", needs: ["sales"] }, "", 5000)],
      ["departed", (s) => s.end("s3", "departed", 5000)],
      ["skills change", (s) => s.upsertAgent({ jid: "b@x", skills: ["sales"], maxChats: 2 })],
      ["offline", (s) => s.setAgentState("b@x", "offline", 6000)],
    ];
    for (const [name, step] of steps) {
      await step(memory);
      await step(redis);
      const expected = await snapshot(memory);
      expect({ name, ...(await snapshot(redis)) }).toEqual({ name, ...expected });
    }
    // Spelled out: s1 ended with b going offline, s3 left; s2 and s4 (now in sales) wait, in arrival order.
    expect((await snapshot(memory)).heads).toEqual(["s2", "s4"]);
  });

  it("answers and ends a call in one transition each, as the memory store does: a chat's call is left to the chat", async () => {
    const memory = new MemoryStore();
    const { store: redis } = instance();
    const reader = new EventReader(connect(), redis.keys, "g", "c1");
    await reader.ensureGroup();
    const call = (id: string, media: "voice" | "chat" = "voice"): Session => ({
      id, queue: "billing", customer: `sip:${id}@example.org`, plain: false, media, handle: `${id}-call`, needs: ["billing"], form: {}, state: "queued", seat: null,
      queuedAt: 1000, assignedAt: null, inServiceAt: null, endedAt: null, endReason: null, token: "t", awaySince: null, feedback: null,
      wrapUpMs: 0, answeredAt: null, missedBy: [], priority: 0, preferredSeat: null, ringing: [], ringUntil: null,
    });
    const results: unknown[][] = [];
    for (const store of [memory, redis] as Store[]) {
      await store.upsertAgent({ jid: "a@x", skills: ["billing"], maxChats: 1, voice: true });
      await store.upsertAgent({ jid: "b@x", skills: ["billing"], maxChats: 1 });
      await store.setPhone("a@x", true, 1000);
      for (const jid of ["a@x", "b@x"]) await store.setAgentState(jid, "ready", 1000);
      for (const s of [call("v1"), call("v2"), call("c1", "chat")]) await store.enqueue(s);
      await store.claim("v1", "a@x", 2000);
      await store.claim("c1", "b@x", 2000);
      results.push([
        await store.answerCall("v2", 3000), // queued: no seat
        await store.answerCall("c1", 3000),
        await store.answerCall("v1", 3000),
        await store.answerCall("nobody", 3000),
        await store.endCall("c1", "customer", "departed", 4000),
        (await store.endCall("v2", "customer", "departed", 4000) as Session | null)?.state,
        (await store.endCall("v1", "seat", "departed", 4000) as Session | null)?.inServiceAt,
        await store.endCall("v1", "seat", "departed", 5000), // ended already
        ...(await Promise.all(["v1", "v2", "c1"].map(async (id) => { const s = await store.session(id); return [s?.state, s?.endReason, s?.answeredAt]; }))),
        (await store.agent("a@x"))?.calls,
      ]);
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[0]).toEqual(["none", "chat", "ok", "none", "chat", "queued", 3000, null,
      ["ended", "seat", 3000], ["ended", "departed", null], ["assigned", null, null], 0]);
    const logged = (await reader.read(100)).map((l) => l.event);
    const ofV1 = logged.filter((e) => "session" in e && e.session === "v1").map((e) => e.type);
    expect(ofV1).toEqual(["queued", "assigned", "in-service", "answered", "ended"]);
    const inMemory = memory.events.filter((e) => "session" in e && e.session === "v1").map((e) => e.type);
    expect(inMemory).toEqual(ofV1);
  });

  it("puts queued customers written without routing lines back in line at start-up (reindex)", async () => {
    const { redis, store, cti } = instance(() => 1000);
    await store.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 1 });
    await cti.agentState("alice@acme.test", "not-ready");
    const joined = [];
    for (const c of ["c1", "c2"]) joined.push((await cti.join({ queue: "billing", customer: `${c}@guest.acme.test/w`, plain: false, extraSkills: [], form: {} })).id);
    // What an earlier version left: sessions queued, no lines.
    for (const line of await store.lines()) await redis.del(store.keys.line(line));
    await redis.del(store.keys.lines());
    for (const id of joined) await redis.hdel(store.keys.session(id), "line");
    expect(await store.lines()).toEqual([]);
    expect(await store.reindex()).toBe(2);
    expect((await store.heads([...(await store.lines())], 10)).map((s) => s.id)).toEqual(joined);
    await cti.agentState("alice@acme.test", "ready"); // and they are routed
    expect((await store.session(joined[0]!))?.seat).toBe("alice@acme.test");
  });
});
