import { describe, expect, it } from "@jest/globals";
import { isOpen, nextMidnight, nextOpening, parseRange, type Hours } from "../../cti/hours.js";

const paris: Hours = {
  timezone: "Europe/Paris",
  weekly: { mon: ["09:00-12:00", "14:00-17:00"], tue: ["09:00-17:00"], fri: ["09:00-17:00"] },
  holidays: ["2026-12-25"],
};
// 2026-11-24 is a Tuesday; Paris is UTC+1 in November.
const at = (iso: string) => Date.parse(iso);

describe("business hours", () => {
  it("parses ranges and refuses bad ones", () => {
    expect(parseRange("09:00-17:30")).toEqual([540, 1050]);
    expect(parseRange("17:00-09:00")).toBeNull();
    expect(parseRange("9-5")).toBeNull();
  });

  it("is open inside a range in the queue's time zone, and closed outside", () => {
    expect(isOpen(paris, at("2026-11-24T08:00:00Z"))).toBe(true); // 09:00 in Paris
    expect(isOpen(paris, at("2026-11-24T07:59:00Z"))).toBe(false); // 08:59
    expect(isOpen(paris, at("2026-11-24T16:00:00Z"))).toBe(false); // 17:00: the end is exclusive
    expect(isOpen(paris, at("2026-11-23T11:30:00Z"))).toBe(false); // Monday 12:30, lunch
    expect(isOpen(paris, at("2026-11-25T10:00:00Z"))).toBe(false); // Wednesday: no hours
  });

  it("is closed on holidays", () => {
    expect(isOpen(paris, at("2026-12-25T10:00:00Z"))).toBe(false); // a Friday
  });

  it("says when it opens next", () => {
    expect(nextOpening(paris, at("2026-11-24T07:00:00Z"))).toBe("today at 09:00 (Europe/Paris)");
    expect(nextOpening(paris, at("2026-11-24T17:00:00Z"))).toBe("Friday 27 November at 09:00 (Europe/Paris)");
    expect(nextOpening(paris, at("2026-11-23T11:30:00Z"))).toBe("today at 14:00 (Europe/Paris)");
    expect(nextOpening(paris, at("2026-12-24T17:00:00Z"))).toBe("Monday 28 December at 09:00 (Europe/Paris)"); // over the holiday
    expect(nextOpening({ timezone: "UTC", weekly: {}, holidays: [] }, 0)).toBeNull();
  });
});

describe("nextMidnight (a supervisor's change lasts until then)", () => {
  it("is the next midnight on the zone's wall clock, also on days of 23 and 25 hours", () => {
    expect(new Date(nextMidnight("UTC", Date.parse("2026-12-02T07:15:30.250Z"))).toISOString()).toBe("2026-12-03T00:00:00.000Z");
    expect(new Date(nextMidnight("Europe/Paris", Date.parse("2026-12-02T07:15:00Z"))).toISOString()).toBe("2026-12-02T23:00:00.000Z");
    // 29 March 2026: Paris springs forward (23 hours); 25 October 2026: falls back (25 hours).
    expect(new Date(nextMidnight("Europe/Paris", Date.parse("2026-03-29T01:30:00Z"))).toISOString()).toBe("2026-03-29T22:00:00.000Z");
    expect(new Date(nextMidnight("Europe/Paris", Date.parse("2026-10-25T00:30:00Z"))).toISOString()).toBe("2026-10-25T23:00:00.000Z");
    expect(new Date(nextMidnight("America/New_York", Date.parse("2026-12-02T04:59:59Z"))).toISOString()).toBe("2026-12-02T05:00:00.000Z");
  });
});
