/**
 * Scripting event logs for the history's tests: CtiEvent objects at known times, given stream-like ids
 * (`<ms>-<n>`, as Redis gives them) in log order, ready for records/apply.ts applyEvents.
 */
import type { LoggedEvent } from "../../cti/redis/events.js";
import type { CtiEvent, Media, SessionState } from "../../cti/types.js";

export class Script {
  private events: CtiEvent[] = [];

  add(e: CtiEvent): this { this.events.push(e); return this; }

  /** The log: sorted by time (stable: same-time events keep the order they were added in), with ids. */
  log(): LoggedEvent[] {
    const sorted = [...this.events].sort((a, b) => a.at - b.at);
    const seq = new Map<number, number>();
    return sorted.map((event) => {
      const n = seq.get(event.at) ?? 0;
      seq.set(event.at, n + 1);
      return { id: `${event.at}-${n}`, event };
    });
  }

  state(agent: string, state: "offline" | "not-ready" | "ready", at: number) { return this.add({ type: "agent-state", agent, state, at }); }

  /** A session's life: queued, then whatever steps are given. Returns a builder for its later events. */
  session(id: string, queue: string, customer: string, queuedAt: number, media: Media = "chat") {
    this.add({ type: "queued", session: id, queue, customer, at: queuedAt });
    let seat: string | null = null;
    let current = queue;
    let state: SessionState = "queued";
    const b = {
      assigned: (to: string, at: number) => {
        seat = to; state = "assigned";
        this.add({ type: "assigned", session: id, queue: current, customer, seat: to, plain: false, form: { name: `Customer ${id}` }, queuedAt, rang: [], media, handle: "", at });
        return b;
      },
      answered: (at: number) => { this.add({ type: "answered", session: id, seat: seat!, queue: current, queuedAt, at }); return b; },
      inService: (at: number) => { state = "in-service"; this.add({ type: "in-service", session: id, queue: current, customer, seat: seat!, at }); return b; },
      say: (who: "customer" | "seat", body: string, at: number) => {
        this.add({ type: "message", session: id, seat: seat!, sender: who === "customer" ? customer : seat!, direction: who === "customer" ? "in" : "out", body, at });
        return b;
      },
      transferTo: (agent: string, at: number) => {
        this.add({ type: "transferred", session: id, customer, from: seat!, fromQueue: current, queue: current, seat: agent, plain: false, form: {}, note: "", by: "", at });
        seat = agent;
        return b;
      },
      ended: (reason: string, at: number) => {
        this.add({ type: "ended", session: id, queue: current, customer, seat, plain: false, from: state, reason, rang: [], media, handle: "", at });
        return b;
      },
      feedback: (score: number, at: number) => { this.add({ type: "feedback", session: id, score, comment: "", at }); return b; },
    };
    return b;
  }
}
