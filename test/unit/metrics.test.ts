/** component/metrics.ts without Redis: what the counters make of event sequences, and a scrape while Redis is away. */
import { describe, expect, it } from "@jest/globals";
import type { Redis } from "ioredis";
import { createMetrics, type MetricsDeps } from "../../component/metrics.js";
import type { CtiEvent } from "../../cti/types.js";

const down = () => Promise.reject(new Error("connection lost"));

function metricsWith(over: Partial<MetricsDeps> = {}) {
  const cti = { queues: [{ name: "billing" }, { name: "vip" }], queueStats: down, agents: down, sessions: down } as unknown as MetricsDeps["cti"];
  const redis = { xinfo: down } as unknown as Redis;
  return createMetrics({ cti, redis, eventsKey: "{sb}:events", health: async () => ({ xmpp: true, redis: false }), ...over });
}

/** A sample's value in an exposition text, by its exact name{labels}. */
const sample = (text: string, key: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${key} `));
  return line === undefined ? undefined : Number(line.slice(key.length + 1));
};

const base = { session: "s1", queue: "billing", customer: "c@guest/x", plain: false, form: {}, media: "voice" as const, handle: "call-1" };

describe("counters from events", () => {
  it("a requeued call: one join, two assignments, both waits observed from the first join, one end", async () => {
    const m = metricsWith();
    const events: CtiEvent[] = [
      { type: "queued", session: "s1", queue: "billing", customer: base.customer, at: 1_000 },
      { ...base, type: "assigned", seat: "alice@x", queuedAt: 1_000, rang: [], at: 1_400 },
      { ...base, type: "requeued", seat: "alice@x", paused: false, at: 20_000 },
      { ...base, type: "assigned", seat: "bob@x", queuedAt: 1_000, rang: [], at: 31_000 },
      { type: "agent-state", agent: "alice@x", state: "not-ready", at: 31_000 },
      { ...base, type: "ended", seat: "bob@x", from: "in-service", reason: "customer", rang: [], at: 90_000 },
      { type: "feedback", session: "s1", score: 5, comment: "", at: 91_000 },
    ];
    for (const e of events) m.observe(e);
    const text = await m.text();
    expect(sample(text, 'switchboard_joins_total{queue="billing"}')).toBe(1);
    expect(sample(text, 'switchboard_joins_total{queue="vip"}')).toBe(0);
    expect(sample(text, 'switchboard_assignments_total{queue="billing"}')).toBe(2);
    expect(sample(text, 'switchboard_join_to_assigned_seconds_count{queue="billing"}')).toBe(2);
    expect(sample(text, 'switchboard_join_to_assigned_seconds_sum{queue="billing"}')).toBeCloseTo(0.4 + 30, 9);
    expect(sample(text, 'switchboard_join_to_assigned_seconds_bucket{le="0.5",queue="billing"}')).toBe(1);
    expect(sample(text, 'switchboard_join_to_assigned_seconds_bucket{le="20",queue="billing"}')).toBe(1);
    expect(sample(text, 'switchboard_join_to_assigned_seconds_bucket{le="30",queue="billing"}')).toBe(2);
    expect(sample(text, 'switchboard_ends_total{queue="billing",reason="customer",from="in-service"}')).toBe(1);
    expect(sample(text, 'switchboard_feedback_total{score="5"}')).toBe(1);
  });

  it("an answer is timed from the session's join, in the session's queue", async () => {
    const m = metricsWith();
    m.observe({ type: "answered", session: "s1", seat: "alice@x", queue: "vip", queuedAt: 10_000, at: 17_500 });
    const text = await m.text();
    expect(sample(text, 'switchboard_answer_seconds_count{queue="vip"}')).toBe(1);
    expect(sample(text, 'switchboard_answer_seconds_sum{queue="vip"}')).toBe(7.5);
    expect(sample(text, 'switchboard_answer_seconds_bucket{le="5",queue="vip"}')).toBe(0);
    expect(sample(text, 'switchboard_answer_seconds_bucket{le="10",queue="vip"}')).toBe(1);
    expect(sample(text, 'switchboard_answer_seconds_count{queue="billing"}')).toBeUndefined();
  });
});

describe("a scrape while Redis is away", () => {
  it("still answers: live figures left out, redis down, the recorder -1, counters kept", async () => {
    const m = metricsWith();
    m.observe({ type: "queued", session: "s1", queue: "billing", customer: base.customer, at: 1_000 });
    const text = await m.text();
    expect(text.split("\n").filter((l) => /^switchboard_(queue_waiting|queue_longest|agents|sessions)\b/.test(l))).toEqual([]);
    expect(sample(text, "switchboard_redis_up")).toBe(0);
    expect(sample(text, "switchboard_xmpp_up")).toBe(1);
    expect(sample(text, "switchboard_recorder_lag_events")).toBe(-1);
    expect(sample(text, "switchboard_recorder_pending_events")).toBe(-1);
    expect(sample(text, 'switchboard_joins_total{queue="billing"}')).toBe(1);
    expect(sample(text, "switchboard_softswitch_up")).toBeUndefined();
  });

  it("with voice, reports the soft switch; a health read that fails counts as down", async () => {
    const m = metricsWith({ voice: true, health: down });
    const text = await m.text();
    for (const name of ["switchboard_xmpp_up", "switchboard_redis_up", "switchboard_softswitch_up"]) expect(sample(text, name)).toBe(0);
  });
});
