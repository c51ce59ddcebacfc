import { describe, expect, it } from "@jest/globals";
import { canServe, effectivePriority, pickSeat, routingOrder, type Strategy } from "../../cti/allocation.js";
import type { Agent } from "../../cti/types.js";

const agent = (jid: string, over: Partial<Agent> = {}): Agent => ({
  jid, skills: ["billing", "fr"], levels: {}, maxChats: 2, state: "ready", reason: "", active: 0, freeSince: 0,
  wrapUntil: 0, missed: 0, lastAssigned: 0, offerJid: "", voice: false, phone: false, calls: 0, ...over,
});

describe("skill levels", () => {
  it.each([
    [{ billing: 8 }, {}, true],
    [{ billing: 3 }, { billing: 4 }, false],
    [{ billing: 4 }, { billing: 4 }, true],
    [{}, { billing: 5 }, true], // a listed skill without a level has the default, 5
    [{}, { billing: 6 }, false],
  ])("levels %j against minimum %j: %s", (levels, minLevels, ok) => {
    expect(canServe(agent("a@x", { levels }), ["billing"], minLevels)).toBe(ok);
  });
  it("never serves a skill the agent does not list", () => {
    expect(canServe(agent("a@x", { skills: ["fr"] }), ["billing"])).toBe(false);
  });
});

describe("strategies", () => {
  // Four ready seats with room, chosen between by each strategy.
  const seats = [
    agent("busy@x", { active: 1, maxChats: 4, freeSince: 10, lastAssigned: 400, levels: { billing: 9 } }), // 25% occupied
    agent("idle@x", { active: 0, maxChats: 1, freeSince: 20, lastAssigned: 300, levels: { billing: 2 } }),
    agent("loaded@x", { active: 1, maxChats: 2, freeSince: 5, lastAssigned: 100, levels: { billing: 6 } }), // 50%
    agent("fresh@x", { active: 0, maxChats: 2, freeSince: 30, lastAssigned: 200, levels: { billing: 7 } }),
  ];
  it.each<[Strategy, string]>([
    ["fewest-active", "idle@x"], // 0 active, longer idle than fresh
    ["longest-idle", "loaded@x"], // free since 5
    ["least-occupied", "idle@x"], // 0%, then longest idle
    ["round-robin", "loaded@x"], // least recently assigned
    ["skill-level", "busy@x"], // billing 9
  ])("%s picks %s", (strategy, jid) => {
    expect(pickSeat(seats, ["billing"], 1000, { strategy, minLevels: {} })?.jid).toBe(jid);
  });
  it("respects minimum levels whatever the strategy", () => {
    expect(pickSeat(seats, ["billing"], 1000, { strategy: "fewest-active", minLevels: { billing: 7 } })?.jid).toBe("fresh@x");
  });
});

describe("routing order", () => {
  const s = (id: string, priority: number, queuedAt: number) => ({ id, priority, queuedAt, queue: "q" });
  it("serves higher priority first and first come first within a priority", () => {
    const order = routingOrder([s("a", 0, 0), s("b", 1, 10), s("c", 0, 20), s("d", 1, 30)], () => ({ agingSeconds: 1000 }), 40);
    expect(order.map((x) => x.id)).toEqual(["b", "d", "a", "c"]);
  });
  it("ages waiting customers so that nobody starves", () => {
    const queue = { agingSeconds: 60 };
    expect(effectivePriority({ priority: 0, queuedAt: 0 }, queue, 119_999)).toBe(1);
    // after two minutes, an ordinary customer ranks with a priority-2 newcomer and, being earlier, goes first
    const order = routingOrder([s("old", 0, 0), s("vip", 2, 120_000)], () => queue, 120_000);
    expect(order.map((x) => x.id)).toEqual(["old", "vip"]);
  });
});
