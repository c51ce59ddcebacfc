/**
 * Issue 14 against a real redis-server: a waiting customer's position is its rank (includes.lua
 * positionOf), the same as the routing order; a movement brings forward the statuses of those behind
 * only, at most one a second each (status.lua); the sweep reads only the sessions with a deadline due.
 */
import { describe, expect, it } from "@jest/globals";
import { routingOrder } from "../../cti/allocation.js";
import { createCti } from "../../cti/cti.js";
import type { Store } from "../../cti/store.js";
import type { Queue, Session } from "../../cti/types.js";
import { useRedis } from "../helpers/redis.js";

const AGING_S = 60;
const QUEUES: Queue[] = [
  { name: "billing", skills: ["billing"], allowGuests: true, deny: [], open: true, agingSeconds: AGING_S },
  { name: "timed", skills: ["billing"], allowGuests: true, deny: [], open: true, maxWaitSeconds: 30, assignTimeout: 10 },
];
const INTERVAL = 15_000;
const { instance } = useRedis(QUEUES);

let ids = 0;
function session(queue: string, queuedAt: number, priority = 0): Session {
  return {
    id: `s${++ids}`, queue, customer: `c${ids}@guest.acme.test/w`, plain: false, media: "chat", handle: "", needs: ["billing"], form: {},
    state: "queued", seat: null, queuedAt, assignedAt: null, inServiceAt: null, endedAt: null, endReason: null, token: "t", awaySince: null,
    feedback: null, wrapUpMs: 0, answeredAt: null, missedBy: [], priority, preferredSeat: null, ringing: [], ringUntil: null,
  };
}
/** Queues as cti.join does: the first status from the status pass half a second later, or `firstStatusInMs`. */
const enqueue = (store: Store, s: Session, firstStatusInMs = 500) => store.enqueue(s, { status: { agingMs: AGING_S * 1000, firstStatusInMs } });

describe("positions by rank", () => {
  it("are the routing order, with priorities and aging, as time goes by", async () => {
    const t0 = 1_000_000;
    const { store } = instance(() => t0);
    // Three priorities, arrivals spread over four aging steps: aging moves the old ones past newer higher ones.
    const joined: Session[] = [];
    for (let i = 0; i < 24; i++) {
      const s = session("billing", t0 + i * 10_000, [0, 1, 3][i % 3]!);
      const { position } = (await enqueue(store, s)) as { position: number };
      expect(position).toBe((await store.position(s.id, s.queuedAt, AGING_S * 1000))!.position); // where it stands at its join
      joined.push(s);
    }
    for (const now of [t0 + 240_000, t0 + 300_000, t0 + 420_000]) {
      const expected = routingOrder(await store.waiting("billing"), () => QUEUES[0], now).map((s) => s.id);
      const ranked = await Promise.all(joined.map(async (s) => ({ id: s.id, position: (await store.position(s.id, now, AGING_S * 1000))!.position })));
      expect(ranked.sort((a, b) => a.position - b.position).map((r) => r.id)).toEqual(expected);
    }
  });

  it("is 0 for a customer being offered (routed), and null once it is not waiting", async () => {
    const t = 5_000;
    const { store } = instance(() => t);
    const [a, b] = [session("billing", t), session("billing", t + 1)];
    await enqueue(store, a);
    await enqueue(store, b);
    await store.offer(b.id, ["alice@acme.test/desk"], t + 2, t + 20_000);
    expect((await store.position(b.id, t + 3, AGING_S * 1000))!.position).toBe(0);
    await store.end(a.id, "departed", t + 4);
    expect(await store.position(a.id, t + 5, AGING_S * 1000)).toBeNull();
  });
});

describe("status passes", () => {
  // In position order (the store gives those due at the same time in no particular order).
  const due = async (store: Store, now: number) =>
    (await store.dueStatuses("billing", now, INTERVAL, AGING_S * 1000, 100)).sort((a, b) => a.position - b.position).map((d) => [d.id, d.position]);

  it("tell newcomers after half a second, then those behind a departure only, never twice within a second, never a rise", async () => {
    const t0 = 2_000_000;
    const { store } = instance(() => t0);
    const s = [0, 1, 2, 3, 4].map((i) => session("billing", t0 + i));
    for (const x of s) await enqueue(store, x);
    expect(await due(store, t0 + 100)).toEqual([]); // a newcomer served at once hears nothing
    expect(await due(store, t0 + 600)).toEqual(s.map((x, i) => [x.id, i]));
    expect(await due(store, t0 + 650)).toEqual([]);
    await store.end(s[2]!.id, "departed", t0 + 700);
    // The movement's pass brings the statuses of those behind forward, to a second after it, not at once.
    expect(await due(store, t0 + 800)).toEqual([]);
    expect(await due(store, t0 + 1_700)).toEqual([]);
    expect(await due(store, t0 + 1_800)).toEqual([[s[3]!.id, 2], [s[4]!.id, 3]]); // the ones ahead are not told
    // Then each its periodic status, and nobody else in between.
    expect(await due(store, t0 + 1_900)).toEqual([]);
    expect((await due(store, t0 + 600 + INTERVAL)).map(([id]) => id)).toEqual([s[0]!.id, s[1]!.id]);
  });

  it("tell a newcomer whose join answer told its place only after an interval, unless the line moves", async () => {
    const t0 = 2_500_000;
    const { store } = instance(() => t0);
    const s = [0, 1, 2].map((i) => session("billing", t0 + i));
    expect(await Promise.all(s.map(async (x) => enqueue(store, x, INTERVAL)))).toEqual([0, 1, 2].map((position) => ({ ok: true, position, free: [] })));
    expect(await due(store, t0 + 600)).toEqual([]);
    await store.end(s[0]!.id, "departed", t0 + 700);
    expect(await due(store, t0 + 800)).toEqual([]); // the movement's pass: their next status a second from now
    expect(await due(store, t0 + 1_800)).toEqual([[s[1]!.id, 0], [s[2]!.id, 1]]);
    expect(await due(store, t0 + 1_900)).toEqual([]);
  });

  it("leave the customers far back to their periodic status when the front moves", async () => {
    const t0 = 3_000_000;
    const { store } = instance(() => t0);
    // Far back: more places ahead than the interval's worth of 10 ms.
    const count = INTERVAL / 10 + 20;
    const s = Array.from({ length: count }, (_, i) => session("billing", t0 + i));
    for (const x of s) await enqueue(store, x);
    expect((await store.dueStatuses("billing", t0 + 600 + count, INTERVAL, AGING_S * 1000, 10_000)).length).toBe(count);
    await store.end(s[0]!.id, "departed", t0 + 5_000);
    // The movement's pass: each next status brought to max(1 s, 10 ms per place ahead) from now, up to the interval.
    expect(await store.dueStatuses("billing", t0 + 5_100, INTERVAL, AGING_S * 1000, 10_000)).toEqual([]);
    const told = await store.dueStatuses("billing", t0 + 5_100 + INTERVAL / 2, INTERVAL, AGING_S * 1000, 10_000);
    expect(told.length).toBe(INTERVAL / 2 / 10 + 1); // positions 0 .. the half interval's worth
    expect(told.map((d) => d.position).sort((a, b) => a - b)[0]).toBe(0);
    expect(told.find((d) => d.position === 0)!.id).toBe(s[1]!.id);
  });
});

describe("the sweep", () => {
  it("reads only the sessions whose deadline is due", async () => {
    let t = 10_000_000;
    const { store, cti } = instance(() => t);
    await store.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 1 });
    await cti.agentState("alice@acme.test", "not-ready");
    // 50 with no deadline, and one with the queue's maxWaitSeconds
    for (let i = 0; i < 50; i++) await cti.join({ queue: "billing", customer: `w${i}@guest.acme.test/w`, plain: false, extraSkills: [], form: {} });
    const timed = await cti.join({ queue: "timed", customer: "late@guest.acme.test/w", plain: false, extraSkills: [], form: {} });
    expect(await store.due(t + 29_999, 100)).toEqual([]);
    expect(await store.due(t + 30_000, 100)).toEqual([timed.id]);
    // The CTI's sweep reads that one session, not the 51 live ones.
    let reads = 0;
    const counting = new Proxy(store, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver);
        if (key === "sessions" || key === "waiting") throw new Error(`the sweep called store.${String(key)}`);
        if (key === "session") return (id: string) => { reads++; return target.session(id); };
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    t += 30_000;
    const swept = createCti({ store: counting, queues: QUEUES, guestDomain: "guest.acme.test", now: () => t });
    expect(await swept.expire()).toBe(1);
    expect(reads).toBe(1);
    expect((await store.session(timed.id))!.endReason).toBe("expired");
    expect(await store.due(t, 100)).toEqual([]);
  });

  it("keeps each session's next deadline through its transitions", async () => {
    let t = 20_000_000;
    const { redis, store, cti } = instance(() => t);
    await store.upsertAgent({ jid: "alice@acme.test", skills: ["billing"], maxChats: 1 });
    await cti.agentState("alice@acme.test", "not-ready");
    const s = await cti.join({ queue: "timed", customer: "c@acme.test/w", plain: false, extraSkills: [], form: {} });
    const deadline = async () => { const at = await redis.zscore(store.keys.due(), s.id); return at === null ? null : Number(at); };
    expect(await deadline()).toBe(t + 30_000); // maxWaitSeconds
    t += 1_000;
    await cti.agentState("alice@acme.test", "ready"); // routes it: assigned
    expect((await store.session(s.id))!.state).toBe("assigned");
    expect(await deadline()).toBe(t + 10_000); // assignTimeout from the assignment
    await cti.inService(s.id, "alice@acme.test");
    expect(await deadline()).toBeNull(); // no firstResponseTimeout: nothing left to time
  });
});
