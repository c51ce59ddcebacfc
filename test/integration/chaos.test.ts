/**
 * The short version of `npm run chaos` (chaos/run.ts): four fault cycles (kill -9 of the active component in
 * the middle of assignments, a Prosody restart, a Redis restart with AOF, a kill -9 of Kamailio's process
 * group) against a real stack with two component processes, Kamailio, SIPp phones and callers; nobody
 * acknowledged is lost, nobody is served twice, no seat is ever over capacity, and no process crashes (no
 * unhandled rejection or uncaught exception in the runner, no component process exiting unasked or printing a
 * crash report). Calls: every call that heard 180 Ringing is served, told why, cancelled by its caller, still
 * queued, or lost with the switch (queued or ringing when Kamailio was killed: the documented limit); no voice
 * session is left live, every seat's call counter is back to 0, and no call is queued again after its end.
 */
import { describe, expect, it } from "@jest/globals";
import { runChaos } from "../../chaos/run.js";

describe("chaos (short)", () => {
  it("loses, duplicates, overfills and crashes nothing through four fault cycles, chats and calls", async () => {
    const report = await runChaos({ cycles: 4, cycleSeconds: 2, kinds: ["kill9-component", "prosody-restart", "redis-restart", "kamailio-kill9"] });
    const v = report.voice;
    expect({
      lost: report.lostDetails, duplicated: report.duplicatedDetails, overCapacity: report.overCapacityDetails, crashes: report.crashDetails,
      callsLost: v.callsLostDetails, callsDuplicated: v.callsDuplicatedDetails, voiceSessionsLeftLive: v.voiceSessionsLeftLiveDetails, seatsNotFreed: v.seatsNotFreedDetails,
      callSessionsReplayed: v.callSessionsReplayedDetails,
    }).toEqual({ lost: [], duplicated: [], overCapacity: [], crashes: [], callsLost: [], callsDuplicated: [], voiceSessionsLeftLive: [], seatsNotFreed: [], callSessionsReplayed: [] });
    expect(report.lost + report.duplicated + report.overCapacity + report.crashes).toBe(0);
    expect(report.acknowledged).toBeGreaterThan(10);
    expect(report.assigned).toBeGreaterThan(0);
    expect(report.acknowledged).toBe(report.assigned + report.departedOrExpiredWithNotice + report.droppedWithConnection + report.stillQueued + report.lost);
    expect(v.callsAcknowledged).toBeGreaterThan(3);
    expect(v.callsServed).toBeGreaterThan(0);
    expect(v.callsAcknowledged).toBe(v.callsServed + v.callsToldWhy + v.callsCancelled + v.callsStillQueued + v.callsLostWithSwitch + v.callsLost);
    expect(Object.keys(v.voiceRecoverySeconds).sort()).toEqual(["kamailio-kill9", "kill9-component", "prosody-restart", "redis-restart"]);
  }, 150_000);
});
