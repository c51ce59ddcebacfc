/**
 * Who serves whom, as pure functions: skill levels, the order in which
 * waiting customers are routed (priority with aging, then arrival), and the
 * queue's strategy for choosing among the seats that can serve.
 */
import type { Agent, Queue, Session } from "./types.js";

/** The level of a skill listed without one (skills run from 1 to 10). */
export const DEFAULT_LEVEL = 5;
/** Without a queue's agingSeconds, a waiting customer gains one priority step per this many seconds. */
export const DEFAULT_AGING_SECONDS = 120;

export const STRATEGIES = ["fewest-active", "longest-idle", "least-occupied", "round-robin", "skill-level", "ring-all"] as const;
export type Strategy = (typeof STRATEGIES)[number];

export function levelOf(agent: Pick<Agent, "skills" | "levels">, skill: string): number {
  return agent.skills.includes(skill) ? (agent.levels[skill] ?? DEFAULT_LEVEL) : 0;
}

/** The agent has every needed skill, at least at the queue's minimum level where it sets one. */
export function canServe(agent: Pick<Agent, "skills" | "levels">, needs: string[], minLevels: Record<string, number> = {}): boolean {
  return needs.every((s) => levelOf(agent, s) >= Math.max(1, minLevels[s] ?? 1));
}

export function hasCapacity(agent: Agent, now: number): boolean {
  return agent.state === "ready" && agent.active < agent.maxChats && agent.wrapUntil <= now;
}

/** Orders the seats that can serve, best first; ties go to the longest idle, then the JID. */
const PREFER: Record<Strategy, (a: Agent, b: Agent, needs: string[]) => number> = {
  // The foundation's order: spread the load, then the longest idle.
  "fewest-active": (a, b) => a.active - b.active,
  "longest-idle": () => 0,
  "least-occupied": (a, b) => a.active / a.maxChats - b.active / b.maxChats,
  "round-robin": (a, b) => a.lastAssigned - b.lastAssigned,
  "skill-level": (a, b, needs) => needs.reduce((sum, s) => sum + levelOf(b, s) - levelOf(a, s), 0),
  // ring-all offers to every eligible seat whose client takes offers; otherwise it routes as the default.
  "ring-all": (a, b) => a.active - b.active,
};

/** The seats that can take this customer now: ready, with room and the skills. */
export function eligibleSeats(agents: Agent[], needs: string[], now: number, queue?: Pick<Queue, "minLevels">): Agent[] {
  return agents.filter((a) => hasCapacity(a, now) && canServe(a, needs, queue?.minLevels));
}

/** Ties between seats: the longest free first, then the JID (byte order, as Redis orders equal scores). */
const tieBreak = (a: Agent, b: Agent) => a.freeSince - b.freeSince || (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0);

/**
 * The default strategy's order of seats (fewest active, then ties), in which the store lists free seats:
 * for queues that use it, the first few free seats hold the best one, and a join reads no more.
 */
export const defaultOrder = (a: Agent, b: Agent) => a.active - b.active || tieBreak(a, b);
export const usesDefaultOrder = (queue: Pick<Queue, "strategy">) => ["fewest-active", "ring-all"].includes(queue.strategy ?? "fewest-active");

/** The seats that can take a customer now, best first by the strategy. */
export function rankSeats(agents: Agent[], needs: string[], now: number, queue?: Pick<Queue, "strategy" | "minLevels">): Agent[] {
  const prefer = PREFER[queue?.strategy ?? "fewest-active"];
  return eligibleSeats(agents, needs, now, queue).sort((a, b) => prefer(a, b, needs) || tieBreak(a, b));
}

/** The seat for a customer: ready, with room and the skills, chosen by the strategy. */
export const pickSeat = (agents: Agent[], needs: string[], now: number, queue?: Pick<Queue, "strategy" | "minLevels">): Agent | undefined =>
  rankSeats(agents, needs, now, queue)[0];

/** A waiting customer's priority now: its own plus one step per agingSeconds waited, so nobody starves. */
export function effectivePriority(session: Pick<Session, "priority" | "queuedAt">, queue: Pick<Queue, "agingSeconds"> | undefined, now: number): number {
  const aging = (queue?.agingSeconds ?? DEFAULT_AGING_SECONDS) * 1000;
  return session.priority + Math.floor(Math.max(0, now - session.queuedAt) / aging);
}

/** Waiting customers (given in arrival order) in the order they are routed: higher priority first, then arrival. */
export function routingOrder<S extends Pick<Session, "priority" | "queuedAt" | "queue">>(waiting: S[], queueOf: (name: string) => Pick<Queue, "agingSeconds"> | undefined, now: number): S[] {
  return waiting
    .map((s, arrival) => ({ s, arrival, p: effectivePriority(s, queueOf(s.queue), now) }))
    .sort((x, y) => y.p - x.p || x.arrival - y.arrival)
    .map((x) => x.s);
}
