import { describe, expect, it } from "@jest/globals";
import { CtiError } from "../../cti/errors.js";
import { pickSeat } from "../../cti/allocation.js";
import { authorize, charCount, clip, estimateWait, needsFor, parseRating, stateFromPresence, validateFeedback, validateJoin } from "../../cti/policy.js";
import type { Agent, Queue } from "../../cti/types.js";

const queue = (over: Partial<Queue> = {}): Queue => ({ name: "billing", skills: ["billing"], allowGuests: true, deny: [], open: true, ...over });
const agent = (jid: string, over: Partial<Agent> = {}): Agent => ({ jid, skills: ["billing"], maxChats: 1, state: "ready", reason: "", active: 0, freeSince: 0, wrapUntil: 0, missed: 0, lastAssigned: 0, offerJid: "", levels: {}, voice: false, phone: false, calls: 0, ...over });
const code = (fn: () => void) => { try { fn(); return "none"; } catch (e) { return (e as CtiError).code; } };

describe("authorization", () => {
  it("refuses guests on a queue that does not allow them", () => {
    expect(code(() => authorize(queue({ allowGuests: false }), "anon1@guest.acme.test/web", "guest.acme.test"))).toBe("forbidden");
    expect(code(() => authorize(queue({ allowGuests: false }), "carol@acme.test/home", "guest.acme.test"))).toBe("none");
  });
  it("refuses denied JIDs and domains", () => {
    const q = queue({ deny: ["mallory@acme.test", "evil.example"] });
    expect(code(() => authorize(q, "mallory@acme.test/x", "g"))).toBe("forbidden");
    expect(code(() => authorize(q, "eve@evil.example/x", "g"))).toBe("forbidden");
    expect(code(() => authorize(q, "carol@acme.test/x", "g"))).toBe("none");
  });
  it("refuses a closed queue as unavailable", () => {
    expect(code(() => authorize(queue({ open: false }), "carol@acme.test/x", "g"))).toBe("queue-closed");
  });
});

describe("lengths", () => {
  it("count characters as people do: an emoji is one", () => {
    expect(charCount("😀".repeat(900))).toBe(900);
    expect(charCount("e\u0301")).toBe(2); // code points, not grapheme clusters
    expect(charCount("x".repeat(1_000_000), 10)).toBe(11); // stops just past the limit
  });
  it("let 1000 emoji through a form field and a feedback comment, and refuse 1001", () => {
    const join = (v: string) => ({ queue: "billing", customer: "c@d/r", plain: false, extraSkills: [], form: { subject: v } });
    expect(code(() => validateJoin(join("😀".repeat(1000))))).toBe("none");
    expect(code(() => validateJoin(join("😀".repeat(1001))))).toBe("bad-request");
    expect(code(() => validateFeedback(5, "😀".repeat(2000)))).toBe("none");
    expect(code(() => validateFeedback(5, "😀".repeat(2001)))).toBe("bad-request");
  });
});

describe("join validation", () => {
  const join = (extraSkills: string[], form: Record<string, string> = {}) => ({ queue: "billing", customer: "c@d/r", plain: false, extraSkills, form });
  it("refuses a 5,000-character skill", () => {
    expect(code(() => validateJoin(join(["x".repeat(5000)])))).toBe("bad-request");
  });
  it("refuses too many skills, fields, or an over-long value", () => {
    expect(code(() => validateJoin(join(Array.from({ length: 11 }, (_, i) => `s${i}`))))).toBe("bad-request");
    expect(code(() => validateJoin(join([], Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`f${i}`, "v"])))))).toBe("bad-request");
    expect(code(() => validateJoin(join([], { subject: "y".repeat(1001) })))).toBe("bad-request");
  });
  it("accepts a normal join", () => {
    expect(code(() => validateJoin(join(["fr"], { name: "Ann", subject: "Invoice 42" })))).toBe("none");
  });
});

describe("allocation", () => {
  it("needs the queue's skills plus the customer's extras", () => {
    expect(needsFor(queue(), ["FR", "billing"])).toEqual(["billing", "fr"]);
  });
  it("picks a ready seat with every skill, fewest active sessions first, then longest idle", () => {
    const agents = [
      agent("busy@x", { maxChats: 2, active: 1, freeSince: 1 }),
      agent("recent@x", { maxChats: 2, freeSince: 500 }),
      agent("idle@x", { maxChats: 2, freeSince: 100 }),
      agent("away@x", { state: "not-ready" }),
      agent("full@x", { active: 1 }),
      agent("noskill@x", { skills: [] }),
    ];
    expect(pickSeat(agents, ["billing"], 1000)?.jid).toBe("idle@x");
    expect(pickSeat(agents, ["billing", "fr"], 1000)).toBeUndefined();
  });
  it("skips a seat in wrap-up until it is over", () => {
    const agents = [agent("wrapping@x", { wrapUntil: 2000 }), agent("later@x", { freeSince: 900 })];
    expect(pickSeat(agents, ["billing"], 1999)?.jid).toBe("later@x");
    expect(pickSeat(agents, ["billing"], 2000)?.jid).toBe("wrapping@x");
  });
});

describe("agent state from presence", () => {
  it.each([
    [undefined, undefined, "ready"], [undefined, "chat", "ready"], [undefined, "away", "not-ready"],
    [undefined, "xa", "not-ready"], [undefined, "dnd", "not-ready"], ["unavailable", undefined, "offline"],
    ["subscribe", undefined, undefined], [undefined, "bogus", undefined],
  ])("type %s show %s gives %s", (type, show, state) => {
    expect(stateFromPresence(type, show)).toBe(state);
  });
});

describe("estimated wait", () => {
  it("grows with the position and shrinks with the seats", () => {
    expect(estimateWait(0, 120, 1)).toBe(120);
    expect(estimateWait(3, 120, 1)).toBe(480);
    expect(estimateWait(3, 120, 4)).toBe(120);
    expect(estimateWait(0, 60, 0)).toBe(60);
  });
});

describe("a plain customer's rating (issue 12)", () => {
  it("takes a digit 1-5 first, then an optional comment", () => {
    expect(parseRating("4")).toEqual({ score: 4, comment: "" });
    expect(parseRating("5 great help")).toEqual({ score: 5, comment: "great help" });
    expect(parseRating("3 - ok")).toEqual({ score: 3, comment: "ok" });
    expect(parseRating(" 2: slow ")).toEqual({ score: 2, comment: "slow" });
    expect(parseRating("5/5 thanks")).toEqual({ score: 5, comment: "thanks" });
    expect(parseRating("1.")).toEqual({ score: 1, comment: "" });
  });

  it("is nothing else: other digits, numbers, decimals, words", () => {
    for (const body of ["0", "6", "10 minutes", "45", "2.5", "3,5", "hello", "", "five"]) expect(parseRating(body)).toBeNull();
  });

  it("cuts a long comment to the feedback's limit, in characters", () => {
    expect(charCount(parseRating(`4 ${"\u{1F600}".repeat(3000)}`)!.comment)).toBe(2000);
    expect(clip("ab\u{1F600}c", 3)).toBe("ab\u{1F600}");
  });
});
