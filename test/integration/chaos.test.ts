/**
 * The short version of `npm run chaos` (chaos/run.ts): three fault cycles (kill -9 of the active
 * component in the middle of assignments, a Prosody restart, a Redis restart with AOF) against a
 * real stack with two component processes; nobody acknowledged is lost, nobody is served twice,
 * no seat is ever over capacity.
 */
import { describe, expect, it } from "@jest/globals";
import { runChaos } from "../../chaos/run.js";

describe("chaos (short)", () => {
  it("loses, duplicates and overfills nothing through three fault cycles", async () => {
    const report = await runChaos({ cycles: 3, cycleSeconds: 2 });
    expect({ lost: report.lostDetails, duplicated: report.duplicatedDetails, overCapacity: report.overCapacityDetails })
      .toEqual({ lost: [], duplicated: [], overCapacity: [] });
    expect(report.lost + report.duplicated + report.overCapacity).toBe(0);
    expect(report.acknowledged).toBeGreaterThan(10);
    expect(report.assigned).toBeGreaterThan(0);
    expect(report.acknowledged).toBe(report.assigned + report.departedOrExpiredWithNotice + report.droppedWithConnection + report.stillQueued + report.lost);
  }, 120_000);
});
