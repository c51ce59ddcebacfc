/**
 * The short version of `npm run chaos` (chaos/run.ts): three fault cycles (kill -9 of the active
 * component in the middle of assignments, a Prosody restart, a Redis restart with AOF) against a
 * real stack with two component processes; nobody acknowledged is lost, nobody is served twice,
 * no seat is ever over capacity, and no process crashes (no unhandled rejection or uncaught exception in
 * the runner, no component process exiting unasked or printing a crash report).
 */
import { describe, expect, it } from "@jest/globals";
import { runChaos } from "../../chaos/run.js";

describe("chaos (short)", () => {
  it("loses, duplicates, overfills and crashes nothing through three fault cycles", async () => {
    const report = await runChaos({ cycles: 3, cycleSeconds: 2 });
    expect({ lost: report.lostDetails, duplicated: report.duplicatedDetails, overCapacity: report.overCapacityDetails, crashes: report.crashDetails })
      .toEqual({ lost: [], duplicated: [], overCapacity: [], crashes: [] });
    expect(report.lost + report.duplicated + report.overCapacity + report.crashes).toBe(0);
    expect(report.acknowledged).toBeGreaterThan(10);
    expect(report.assigned).toBeGreaterThan(0);
    expect(report.acknowledged).toBe(report.assigned + report.departedOrExpiredWithNotice + report.droppedWithConnection + report.stillQueued + report.lost);
  }, 120_000);
});
