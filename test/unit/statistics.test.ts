/**
 * cti/statistics.ts against figures computed by hand (docs/statistics.md has the definitions). Times are
 * written as "HH:MM:SS" on 2026-11-02 (UTC); the arithmetic is in the comments.
 */
import { describe, expect, it } from "@jest/globals";
import { buckets, computeStats, type SessionRecord, type StatsInput } from "../../cti/statistics.js";

const at = (hms: string) => Date.parse(`2026-11-02T${hms}Z`);

function session(id: string, queue: string, fields: Partial<SessionRecord> & { queuedAt: number }): SessionRecord {
  return { id, queue, media: "chat", seat: null, assignedAt: null, answeredAt: null, inServiceAt: null, endedAt: null, endReason: null, endedFrom: null, transfers: 0, score: null, ...fields };
}

const sessions: SessionRecord[] = [
  // billing, hour 09: waits 10, 30, 40 (abandoned), 60 (abandoned), 620; handle 300, 600, 600
  session("s1", "billing", { queuedAt: at("09:00:00"), answeredAt: at("09:00:10"), endedAt: at("09:05:10"), seat: "alice", score: 5, endReason: "customer", endedFrom: "in-service" }),
  session("s2", "billing", { queuedAt: at("09:10:00"), answeredAt: at("09:10:30"), endedAt: at("09:20:30"), seat: "bob", score: 3 }),
  session("s3", "billing", { queuedAt: at("09:20:00"), endedAt: at("09:20:40"), endReason: "customer", endedFrom: "queued" }),
  session("s4", "billing", { queuedAt: at("09:30:00"), endedAt: at("09:31:00"), endReason: "expired", endedFrom: "queued" }),
  session("s5", "billing", { queuedAt: at("09:50:00"), answeredAt: at("10:00:20"), endedAt: at("10:10:20"), seat: "alice", transfers: 1, score: 4 }),
  // billing, hour 10: still waiting at the end of the range (11:00)
  session("s6", "billing", { queuedAt: at("10:30:00") }),
  // vip, hour 09: wait 5, handle 60
  session("s7", "vip", { queuedAt: at("09:15:00"), answeredAt: at("09:15:05"), endedAt: at("09:16:05"), seat: "bob" }),
];

const input: StatsInput = {
  sessions,
  states: [
    { agent: "alice", state: "ready", at: at("08:30:00") }, // before the range: her state at 09:00
    { agent: "alice", state: "not-ready", at: at("09:30:00") },
    { agent: "alice", state: "ready", at: at("09:45:00") },
    { agent: "alice", state: "offline", at: at("10:30:00") },
    { agent: "bob", state: "ready", at: at("09:05:00") }, // offline before: no change earlier
  ],
  from: at("09:00:00"), to: at("11:00:00"), interval: "1h", now: at("12:00:00"),
  queues: [{ name: "billing", serviceLevelSeconds: 20 }, { name: "vip", serviceLevelSeconds: 10 }],
  agents: ["alice", "bob", "carl"],
};

describe("buckets", () => {
  it("aligns on the interval in UTC and clips the first and last to the range", () => {
    const iso = (spans: Array<[number, number]>) => spans.map(([a, b]) => [new Date(a).toISOString().slice(11, 16), new Date(b).toISOString().slice(11, 16)]);
    expect(iso(buckets(at("09:07:00"), at("09:40:00"), "15m"))).toEqual([["09:07", "09:15"], ["09:15", "09:30"], ["09:30", "09:40"]]);
    expect(iso(buckets(at("09:00:00"), at("11:00:00"), "1h"))).toEqual([["09:00", "10:00"], ["10:00", "11:00"]]);
    expect(buckets(Date.parse("2026-11-01T12:00:00Z"), Date.parse("2026-11-03T00:00:00Z"), "1d").map(([a]) => new Date(a).toISOString()))
      .toEqual(["2026-11-01T12:00:00.000Z", "2026-11-02T00:00:00.000Z"]);
  });
});

describe("queue figures", () => {
  const { queues } = computeStats(input);
  const row = (q: string, start: string) => queues.find((r) => r.queue === q && r.start === new Date(at(start)).toISOString())!;

  it("billing 09:00-10:00", () => {
    expect(row("billing", "09:00:00")).toEqual({
      queue: "billing", start: "2026-11-02T09:00:00.000Z", end: "2026-11-02T10:00:00.000Z",
      offered: 5, // s1..s5, queued in the hour
      answered: 3, // s1, s2, s5 (s5 answered at 10:00:20 still counts here: by its queued time)
      abandoned: 2, // s3 (the customer left), s4 (expired): ended unanswered
      abandonMeanSeconds: 50, // (40 + 60) / 2
      abandonMaxSeconds: 60,
      serviceLevelSeconds: 20,
      answeredWithinServiceLevel: 1, // s1 (10 s); s2 30 s, s5 620 s are late
      serviceLevel: 20, // 1 / (3 answered + 2 abandoned)
      averageSpeedOfAnswerSeconds: 220, // (10 + 30 + 620) / 3
      averageHandleSeconds: 500, // (300 + 600 + 600) / 3
      longestWaitSeconds: 620, // s5
      transferred: 1, // s5
      ratings: 3, csatAverage: 4, // (5 + 3 + 4) / 3
      csatSatisfiedPercent: 66.67, // 2 of 3 are 4 or 5
    });
  });

  it("billing 10:00-11:00: one still waiting, its wait counted up to the end of the range", () => {
    expect(row("billing", "10:00:00")).toMatchObject({
      offered: 1, answered: 0, abandoned: 0, serviceLevel: null, averageSpeedOfAnswerSeconds: null, averageHandleSeconds: null,
      longestWaitSeconds: 1800, // 10:30 to 11:00 (now is later, the range ends first)
      ratings: 0, csatAverage: null, csatSatisfiedPercent: null,
    });
  });

  it("vip has its own threshold; idle buckets are rows of zeros", () => {
    expect(row("vip", "09:00:00")).toMatchObject({ offered: 1, answered: 1, serviceLevelSeconds: 10, answeredWithinServiceLevel: 1, serviceLevel: 100, averageSpeedOfAnswerSeconds: 5, averageHandleSeconds: 60 });
    expect(row("vip", "10:00:00")).toMatchObject({ offered: 0, answered: 0, abandoned: 0, longestWaitSeconds: null });
  });

  it("a wait of exactly the threshold is within it", () => {
    const { queues: [r] } = computeStats({ ...input, sessions: [session("x", "billing", { queuedAt: at("09:00:00"), answeredAt: at("09:00:20") })], queues: [{ name: "billing", serviceLevelSeconds: 20 }], agents: [] });
    expect(r).toMatchObject({ answeredWithinServiceLevel: 1, serviceLevel: 100 });
  });
});

describe("agent figures", () => {
  const { agents } = computeStats(input);
  const row = (a: string, start: string) => agents.find((r) => r.agent === a && r.start === new Date(at(start)).toISOString())!;

  it("alice 09:00-10:00", () => {
    expect(row("alice", "09:00:00")).toEqual({
      agent: "alice", start: "2026-11-02T09:00:00.000Z", end: "2026-11-02T10:00:00.000Z",
      handled: 1, handleSeconds: 300, averageHandleSeconds: 300, // s1 ended in the hour; s5 ends at 10:10
      readySeconds: 2700, // 09:00-09:30 and 09:45-10:00
      notReadySeconds: 900, offlineSeconds: 0, loggedInSeconds: 3600,
      servingSeconds: 300, // s1 from its answer, 09:00:10-09:05:10
      occupancy: 0.0833, // 300 / 3600
      ratings: 1, csatAverage: 5, csatSatisfiedPercent: 100,
    });
  });

  it("alice 10:00-11:00: logged off at 10:30", () => {
    expect(row("alice", "10:00:00")).toMatchObject({
      handled: 1, handleSeconds: 600, readySeconds: 1800, offlineSeconds: 1800, loggedInSeconds: 1800,
      servingSeconds: 600, occupancy: 0.3333, // s5 10:00:20-10:10:20, 600 / 1800
      csatAverage: 4, csatSatisfiedPercent: 100,
    });
  });

  it("bob: two chats at once are served once; offline until his first change", () => {
    expect(row("bob", "09:00:00")).toMatchObject({
      handled: 2, handleSeconds: 660, averageHandleSeconds: 330, // s2 600 + s7 60
      offlineSeconds: 300, readySeconds: 3300, loggedInSeconds: 3300,
      servingSeconds: 600, // s7 (09:15:05-09:16:05) lies within s2 (09:10:30-09:20:30)
      occupancy: 0.1818, // 600 / 3300
      ratings: 1, csatAverage: 3, csatSatisfiedPercent: 0,
    });
    expect(row("bob", "10:00:00")).toMatchObject({ handled: 0, averageHandleSeconds: null, readySeconds: 3600, servingSeconds: 0, occupancy: 0 });
  });

  it("an agent never seen is offline, with no occupancy", () => {
    expect(row("carl", "09:00:00")).toMatchObject({ offlineSeconds: 3600, loggedInSeconds: 0, occupancy: null, handled: 0 });
  });

  it("time counts up to now, not to the end of the range", () => {
    const { agents: [r] } = computeStats({ ...input, now: at("10:15:00"), from: at("10:00:00"), agents: ["bob"] });
    expect(r).toMatchObject({ readySeconds: 900, loggedInSeconds: 900 }); // 10:00-10:15
  });

  it("serving time outside logged-in time does not count (occupancy stays at most 1)", () => {
    const { agents: [r] } = computeStats({
      ...input, agents: ["dan"], states: [{ agent: "dan", state: "ready", at: at("09:30:00") }],
      sessions: [session("d", "billing", { queuedAt: at("09:00:00"), answeredAt: at("09:00:00"), endedAt: at("09:45:00"), seat: "dan" })],
    });
    expect(r).toMatchObject({ loggedInSeconds: 1800, servingSeconds: 900, occupancy: 0.5, handled: 1, handleSeconds: 2700 });
  });
});
