/**
 * (e) The routing core alone, in process: cti/cti.ts on the in-memory store with fake time.
 * A "decision" is one seat freed (cti.end, which routes) and the next waiting customer chosen and
 * claimed for it; the queue is topped up after each so its length stays constant.
 */
import { createCti } from "../cti/cti.js";
import { MemoryStore } from "../cti/memory-store.js";
import type { Session } from "../cti/types.js";
import { prng } from "./stats.js";

export interface CoreResult {
  waiting: number; agents: number; skills: number; decisions: number; seconds: number;
  decisionsPerSecond: number; microsPerDecision: number; setupSeconds: number;
}

export async function benchCore({ waiting, agents = 2000, skills = 100, maxDecisions, budgetMs }: { waiting: number; agents?: number; skills?: number; maxDecisions: number; budgetMs: number }): Promise<CoreResult> {
  const setupStart = performance.now();
  const random = prng(20261124 + waiting);
  let clock = Date.UTC(2026, 10, 24, 9);
  let n = 0;
  const store = new MemoryStore();
  const skillNames = Array.from({ length: skills }, (_, i) => `s${i}`);
  const cti = createCti({
    store, guestDomain: "guest.acme.test", now: () => clock, graceSeconds: 0, newId: () => `s${++n}`,
    queues: skillNames.map((s) => ({ name: `q-${s}`, skills: [s], allowGuests: true, deny: [], open: true })),
  });
  // Each agent has 5 of the 100 skills (so ~100 agents per skill), one chat at a time.
  for (let i = 0; i < agents; i++) {
    const mine = new Set<string>();
    while (mine.size < 5) mine.add(skillNames[Math.floor(random() * skills)]!);
    await store.upsertAgent({ jid: `agent${i}@acme.test`, skills: [...mine], maxChats: 1 });
    await store.setAgentState(`agent${i}@acme.test`, "ready", clock);
  }
  let customers = 0;
  const enqueue = async () => {
    const skill = skillNames[Math.floor(random() * skills)]!;
    const id = `s${++n}`;
    const session: Session = {
      id, queue: `q-${skill}`, customer: `c${++customers}@guest.acme.test/web`, plain: false, media: "chat", handle: "", needs: [skill], form: {},
      state: "queued", seat: null, queuedAt: clock, assignedAt: null, inServiceAt: null, endedAt: null, endReason: null,
      token: "t", awaySince: null, feedback: null, wrapUpMs: 0, answeredAt: null, missedBy: [], priority: 0, preferredSeat: null,
      ringing: [], ringUntil: null,
    };
    await store.enqueue(session);
  };
  // Fill every seat, then leave `waiting` customers (at least) in line.
  for (let i = 0; i < waiting + agents; i++) { clock++; await enqueue(); }
  await cti.route();
  const assigned: string[] = store.events.filter((e) => e.type === "assigned").map((e) => e.session);
  const inLine = (await store.waiting()).length;
  const setupSeconds = (performance.now() - setupStart) / 1000;

  let decisions = 0;
  let seen = store.events.length;
  const t0 = performance.now();
  while (decisions < maxDecisions && performance.now() - t0 < budgetMs && assigned.length > 0) {
    const id = assigned.shift()!;
    const s = (await store.session(id))!;
    clock += 10;
    await cti.end(id, s.seat!); // frees the seat and routes
    for (; seen < store.events.length; seen++) {
      const e = store.events[seen]!;
      if (e.type === "assigned") { assigned.push(e.session); decisions++; }
    }
    await enqueue(); // keep the line as long
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    waiting: inLine, agents, skills, decisions, seconds,
    decisionsPerSecond: decisions / seconds, microsPerDecision: (seconds * 1e6) / decisions, setupSeconds,
  };
}
