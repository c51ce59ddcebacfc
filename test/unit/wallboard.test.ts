/**
 * The wallboard's publishing rules without a stack (component/xmpp/wallboard.ts): events mark it dirty, a
 * flush at most once a second reads the figures once, only changed nodes are notified, unchanged figures
 * are not sent again, the end of a wrap-up is looked at by the clock, and a former supervisor is not told.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from "@jest/globals";
import type { Element } from "@xmpp/xml";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { keysFor } from "../../cti/redis/keys.js";
import type { CtiEvent, Queue } from "../../cti/types.js";
import { NS } from "../../protocol/names.js";
import { createWallboard, summary } from "../../component/xmpp/wallboard.js";

const queue = (name: string, skills: string[], wrapUpSeconds?: number) =>
  ({ name, skills, allowGuests: true, deny: [], open: true, wrapUpSeconds }) as Queue;

function setup(supervisors = ["sam@x"]) {
  const state = {
    waiting: { billing: 0, vip: 0 } as Record<string, number>,
    agents: [{ jid: "alice@x", state: "ready", skills: ["billing"] }, { jid: "bob@x", state: "offline", skills: [] }],
  };
  let reads = 0;
  const cti = {
    queues: [queue("billing", ["billing"], 30), queue("vip", [])],
    queueStats: async () => { reads++; return ["billing", "vip"].map((name) => ({ name, waiting: state.waiting[name]!, oldestWaitSeconds: state.waiting[name] ? 5 : 0, rules: {} as never })); },
    agents: async () => state.agents as never,
  };
  const subscribers: Record<string, string[]> = { "sb:wb:queue/billing": ["sam@x", "old@x"], "sb:wb:queues": ["sam@x/desk"] };
  const redis = { smembers: async (key: string) => subscribers[key] ?? [] } as unknown as Redis;
  const sent: Element[] = [];
  const wallboard = createWallboard({
    cti: cti as never, redis, keys: keysFor("sb:"), componentDomain: "cc.x", send: async (s) => { sent.push(s); },
    mayFollow: (jid) => supervisors.includes(jid), log: pino({ level: "silent" }), now: () => Date.now(),
  });
  const notes = () => sent.splice(0).map((s) => ({
    to: s.attrs.to, node: s.getChild("event", NS.PUBSUB_EVENT)!.getChild("items")!.attrs.node, body: s.getChildText("body"),
  }));
  return { state, wallboard, notes, reads: () => reads };
}

const event = (e: Partial<CtiEvent> & { type: CtiEvent["type"] }) => ({ at: 0, ...e }) as CtiEvent;

beforeEach(() => { jest.useFakeTimers({ now: 1_000_000 }); });
afterEach(() => { jest.useRealTimers(); });

describe("the wallboard", () => {
  it("notifies the subscribers of each node whose figures changed, once per flush, with one read", async () => {
    const { state, wallboard, notes, reads } = setup();
    wallboard.observe(event({ type: "agent-state" }));
    await jest.advanceTimersByTimeAsync(0);
    // Everything is new at first; "old@x" is no supervisor any more and is not told.
    expect(notes()).toEqual([
      { to: "sam@x", node: "queue/billing", body: "billing: nobody waiting; agents: 1 ready, 0 busy, 0 in wrap-up, 0 not ready" },
      { to: "sam@x/desk", node: "queues", body: "billing: nobody waiting; agents: 1 ready, 0 busy, 0 in wrap-up, 0 not ready\nvip: nobody waiting; agents: 1 ready, 0 busy, 0 in wrap-up, 0 not ready" },
    ]);
    expect(reads()).toBe(1);

    // Ten joins within the second: one flush, a second after the last one ended.
    state.waiting.billing = 10;
    for (let i = 0; i < 10; i++) wallboard.observe(event({ type: "queued", queue: "billing" } as never));
    await jest.advanceTimersByTimeAsync(999);
    expect(notes()).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(notes().map((n) => [n.node, n.body!.split("\n")[0]])).toEqual([
      ["queue/billing", "billing: 10 waiting (longest 5 s); agents: 1 ready, 0 busy, 0 in wrap-up, 0 not ready"],
      ["queues", "billing: 10 waiting (longest 5 s); agents: 1 ready, 0 busy, 0 in wrap-up, 0 not ready"],
    ]);
    expect(reads()).toBe(2);

    // An event that changes nothing: read again, nothing sent.
    wallboard.observe(event({ type: "assigned", queue: "billing" } as never));
    await jest.advanceTimersByTimeAsync(1000);
    expect(reads()).toBe(3);
    expect(notes()).toEqual([]);
    // Events that cannot move a figure: not even read.
    wallboard.observe(event({ type: "message" } as never));
    wallboard.observe(event({ type: "feedback" } as never));
    await jest.advanceTimersByTimeAsync(5000);
    expect(reads()).toBe(3);
    wallboard.stop();
  });

  it("looks again when a wrap-up is over, by the clock", async () => {
    const { state, wallboard, notes } = setup();
    wallboard.observe(event({ type: "agent-state" }));
    await jest.advanceTimersByTimeAsync(0);
    notes();
    state.agents[0]!.state = "wrap-up";
    wallboard.observe(event({ type: "ended", queue: "billing", from: "in-service" } as never));
    await jest.advanceTimersByTimeAsync(1000);
    expect(notes()[0]!.body).toMatch(/0 ready, 0 busy, 1 in wrap-up/);
    state.agents[0]!.state = "ready"; // the wrap-up ends without an event
    await jest.advanceTimersByTimeAsync(30_000);
    expect(notes()[0]!.body).toMatch(/1 ready, 0 busy, 0 in wrap-up/);
    wallboard.stop();
  });
});

describe("summary", () => {
  it("says the figures in words", () => {
    expect(summary({ name: "billing", title: "Billing", waiting: 3, longestWait: 42, waitingSince: 0, ready: 2, busy: 1, wrapUp: 0, notReady: 1, offline: 0 }))
      .toBe("billing: 3 waiting (longest 42 s); agents: 2 ready, 1 busy, 0 in wrap-up, 1 not ready");
  });
});
