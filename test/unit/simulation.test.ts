/**
 * A seeded simulation of a day at the contact center, on the CTI with the
 * in-memory store and fake time: thousands of customers arriving at random,
 * hundreds of agents with random handle times who drop out and come back,
 * customers who give up. After every step it checks the invariants; at the
 * end it measures the estimated wait against the real one.
 */
import { describe, expect, it } from "@jest/globals";
import { createCti } from "../../cti/cti.js";
import { MemoryStore } from "../../cti/memory-store.js";
import type { Session } from "../../cti/types.js";

/** mulberry32: a small seeded PRNG, so a failure replays exactly. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 20261124;
const AGENTS = 255;
const CUSTOMERS = 6000;
const QUEUES = ["billing", "support", "sales"];
/** Offered load ~ 1.26/s x 270 s = 340 sessions against ~319 seats (some always away): busy, with real queues. */
const ARRIVALS_PER_SECOND = 1.26;

describe("a seeded day at the contact center", () => {
  it("keeps every invariant, and estimates waits within the target", async () => {
    const random = prng(SEED);
    const exp = (mean: number) => -Math.log(1 - random()) * mean;
    const poisson = (mean: number) => { // Knuth
      let k = 0;
      for (let p = random(), limit = Math.exp(-mean); p > limit; p *= random()) k++;
      return k;
    };
    let clock = Date.UTC(2026, 10, 24, 8);
    const store = new MemoryStore();
    const cti = createCti({
      store, guestDomain: "guest.acme.test", now: () => clock, graceSeconds: 0,
      queues: QUEUES.map((name) => ({ name, skills: [name], allowGuests: true, deny: [], open: true, maxWaitSeconds: 1800 })),
    });
    const agents = Array.from({ length: AGENTS }, (_, i) => ({
      jid: `agent${i}@acme.test`, skills: QUEUES.filter((_, q) => (i + q) % 3 !== 2), maxChats: 1 + (i % 4 === 0 ? 1 : 0),
    }));
    for (const a of agents) {
      await store.upsertAgent(a);
      await cti.agentState(a.jid, "ready");
    }

    const handleEnds = new Map<string, number>(); // session -> when its agent ends it
    const giveUp = new Map<string, number>(); // session -> when its customer leaves the queue
    const estimate = new Map<string, number>(); // session -> estimated wait at join (s)
    const lastPosition = new Map<string, number>();
    const assignedOrder: Session[] = [];
    let arrived = 0;
    const violations: string[] = [];

    const check = async () => {
      const live = await store.sessions(0);
      const seats = new Map<string, number>();
      for (const s of live) if (s.seat) seats.set(s.seat, (seats.get(s.seat) ?? 0) + 1);
      for (const a of await store.agents()) {
        const n = seats.get(a.jid) ?? 0;
        if (n > a.maxChats) violations.push(`${a.jid} over capacity: ${n} > ${a.maxChats}`);
        if (n !== a.active) violations.push(`${a.jid} counts ${a.active} sessions, has ${n}`);
      }
      for (const q of QUEUES) {
        for (const { session, position } of await cti.queueStatus(q)) {
          const before = lastPosition.get(session.id);
          if (before !== undefined && position > before) violations.push(`${session.id} went from ${before} to ${position}`);
          lastPosition.set(session.id, position);
        }
      }
    };

    // One simulated second per step: arrivals (Poisson), ends, give-ups, agents leaving and coming back.
    for (let step = 0; arrived < CUSTOMERS || (await store.sessions(0)).length > 0; step++) {
      clock += 1000;
      for (let n = poisson(ARRIVALS_PER_SECOND); n > 0 && arrived < CUSTOMERS; n--) {
        const queue = QUEUES[Math.floor(random() * QUEUES.length)]!;
        const s = await cti.join({ queue, customer: `c${arrived}@guest.acme.test/web`, plain: false, extraSkills: [], form: {} });
        arrived++;
        if (s.state === "queued") {
          estimate.set(s.id, (await cti.queueStatus(queue)).find((x) => x.session.id === s.id)!.waitSeconds);
          if (random() < 0.05) giveUp.set(s.id, clock + exp(300_000));
        } else estimate.set(s.id, 0);
      }
      for (const s of await store.sessions(0)) {
        if (s.state === "assigned" && !handleEnds.has(s.id)) {
          assignedOrder.push(s);
          await cti.inService(s.id, s.seat!);
          handleEnds.set(s.id, clock + 30_000 + exp(240_000)); // 30 s + ~4 min
        } else if (s.state === "queued" && (giveUp.get(s.id) ?? Infinity) <= clock) {
          await cti.depart(s.customer, s.queue);
        } else if (s.seat && (handleEnds.get(s.id) ?? Infinity) <= clock) {
          await cti.end(s.id, s.seat);
        }
      }
      if (random() < 0.06) { // an agent drops out (its sessions end with a notice) and comes back later
        const a = agents[Math.floor(random() * AGENTS)]!;
        await cti.agentState(a.jid, "offline");
        await cti.agentState(a.jid, "ready");
      }
      if (step % 15 === 0) await cti.expire();
      await check();
      if (step > 50_000) throw new Error("the day does not end");
    }

    const all = await store.sessions(100_000);
    expect(violations).toEqual([]);
    // Nobody assigned twice; every customer ended served, departed, or expired / dropped with a reason.
    const assignedCount = new Map<string, number>();
    for (const e of store.events) if (e.type === "assigned") assignedCount.set(e.session, (assignedCount.get(e.session) ?? 0) + 1);
    expect([...assignedCount.values()].every((n) => n === 1)).toBe(true);
    expect(all).toHaveLength(CUSTOMERS);
    const outcome = (s: Session) => s.endReason;
    expect(all.filter((s) => s.state !== "ended" || !["seat", "customer", "departed", "expired", "seat-offline"].includes(outcome(s)!)).map((s) => `${s.id} ${s.state} ${s.endReason}`)).toEqual([]);
    // First come, first served within a queue (all customers have the same priority here).
    for (const q of QUEUES) {
      const order = assignedOrder.filter((s) => s.queue === q).map((s) => s.queuedAt);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }

    // The estimate against the real wait, for customers who waited at least a minute.
    const errors = all
      .filter((s) => s.assignedAt !== null && s.assignedAt - s.queuedAt >= 60_000)
      .map((s) => Math.abs(estimate.get(s.id)! - (s.assignedAt! - s.queuedAt) / 1000) / ((s.assignedAt! - s.queuedAt) / 1000))
      .sort((a, b) => a - b);
    const median = errors[Math.floor(errors.length / 2)] ?? 0;
    const counts = Object.fromEntries(["seat", "customer", "departed", "expired", "seat-offline"].map((r) => [r, all.filter((s) => s.endReason === r).length]));
    console.log(`simulation seed ${SEED}: ${CUSTOMERS} customers, ${AGENTS} agents; outcomes ${JSON.stringify(counts)}; ` +
      `waited >= 1 min: ${errors.length}; median wait-estimate error ${(median * 100).toFixed(1)}%`);
    expect(median).toBeLessThan(0.3);
  }, 120_000);
});
