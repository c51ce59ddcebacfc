/**
 * The notifier's timed passes with a stand-in CTI and fake timers: routes (a wrap-up, a rest, an overflow, a
 * sticky wait is over), the end of an away customer's grace and a transferred chat's time to answer. Each
 * runs once its time is over, never before, and those due close together share one pass (at the voice
 * peak's rate a route per ended call was hundreds of full passes a second).
 */
import { afterEach, beforeEach, describe, expect, it, jest } from "@jest/globals";
import type { Logger } from "pino";
import type { Cti } from "../../cti/cti.js";
import type { CtiEvent } from "../../cti/types.js";
import { createNotifier } from "../../component/notifier.js";

const WRAP_UP_SECONDS = 30;
const FIRST_RESPONSE_SECONDS = 20;

function setup() {
  const routes: number[] = [];
  const awayPasses: number[] = [];
  const sessionChecks: Array<{ id: string; at: number }> = [];
  const cti = {
    queue: () => ({ name: "billing", wrapUpSeconds: WRAP_UP_SECONDS, firstResponseTimeout: FIRST_RESPONSE_SECONDS }),
    route: async () => { routes.push(Date.now()); return []; },
    expireAway: async () => { awayPasses.push(Date.now()); return 0; },
    expireSession: async (id: string) => { sessionChecks.push({ id, at: Date.now() }); return 0; },
    session: async () => null,
  } as unknown as Cti;
  const notifier = createNotifier({ cti, componentDomain: "cc.acme.test", nameOf: (j) => j, log: { warn: () => undefined } as unknown as Logger, send: async () => undefined });
  /** A call ended by its seat: the seat rests WRAP_UP_SECONDS, then is routed to. */
  const callEnded = (n: number) => notifier.handle({
    type: "ended", session: `s${n}`, queue: "billing", customer: `sip:c${n}@example.org`, seat: "alice@acme.test", plain: false, from: "in-service",
    reason: "seat", rang: [], media: "voice", handle: `call-${n}`, call: "", at: Date.now(),
  } as unknown as CtiEvent);
  /** A customer went offline (a page reload) with `graceMs` to come back. */
  const away = (n: number, graceMs: number) => notifier.handle({
    type: "customer-away", session: `s${n}`, customer: `guest${n}@guest.acme.test/web`, at: Date.now(), until: Date.now() + graceMs,
  });
  /** A supervisor moved a chat to bob: bob's answer is timed from now. */
  const transferred = () => notifier.handle({
    type: "transferred", session: "s9", customer: "ann@guest.acme.test/web", from: "alice@acme.test", fromQueue: "billing", queue: "billing",
    seat: "bob@acme.test", plain: false, form: {}, note: "", by: "sam@acme.test", at: Date.now(),
  });
  return { routes, awayPasses, sessionChecks, callEnded, away, transferred };
}

describe("timed routes", () => {
  beforeEach(() => { jest.useFakeTimers({ now: 1_000_000 }); });
  afterEach(() => { jest.useRealTimers(); });

  it("routes once a wrap-up is over, not before", async () => {
    const { routes, callEnded } = setup();
    await callEnded(1);
    await jest.advanceTimersByTimeAsync(WRAP_UP_SECONDS * 1000 - 1);
    expect(routes).toEqual([]);
    await jest.advanceTimersByTimeAsync(200);
    expect(routes).toHaveLength(1);
    expect(routes[0]! - 1_000_000).toBeGreaterThanOrEqual(WRAP_UP_SECONDS * 1000);
  });

  it("runs one route for the wrap-ups that end close together, each after its own end", async () => {
    const { routes, callEnded } = setup();
    const ends: number[] = [];
    for (let n = 0; n < 100; n++) { // a call ended every 10 ms for a second
      ends.push(Date.now() + WRAP_UP_SECONDS * 1000);
      await callEnded(n);
      await jest.advanceTimersByTimeAsync(10);
    }
    await jest.advanceTimersByTimeAsync(WRAP_UP_SECONDS * 1000 + 200);
    expect(routes.length).toBeGreaterThanOrEqual(10);
    expect(routes.length).toBeLessThanOrEqual(11);
    // Every wrap-up's end is followed by a route within the slot (100 ms) and the timer's 10 ms.
    for (const end of ends) expect({ end, route: routes.find((at) => at >= end && at <= end + 110) }).toEqual({ end, route: expect.any(Number) });
    expect(routes.every((at) => ends.some((end) => end <= at))).toBe(true); // none before the first end
  });

  it("ends an away customer's session when its grace is over, not at the next periodic pass; one pass for those due together", async () => {
    const { awayPasses, away } = setup();
    const GRACE_MS = 8000;
    const due = Date.now() + GRACE_MS;
    await away(1, GRACE_MS);
    await away(2, GRACE_MS); // the same instant: the same pass
    await jest.advanceTimersByTimeAsync(GRACE_MS - 1);
    expect(awayPasses).toEqual([]);
    await jest.advanceTimersByTimeAsync(200);
    expect(awayPasses).toHaveLength(1);
    expect(awayPasses[0]! - due).toBeGreaterThanOrEqual(0);
    expect(awayPasses[0]! - due).toBeLessThanOrEqual(110);
  });

  it("checks a transferred chat's new seat when its time to answer is over, not at the next periodic pass", async () => {
    const { sessionChecks, transferred } = setup();
    const due = Date.now() + FIRST_RESPONSE_SECONDS * 1000;
    await transferred();
    await jest.advanceTimersByTimeAsync(FIRST_RESPONSE_SECONDS * 1000 - 1);
    expect(sessionChecks).toEqual([]);
    await jest.advanceTimersByTimeAsync(100);
    expect(sessionChecks).toEqual([{ id: "s9", at: expect.any(Number) }]);
    expect(sessionChecks[0]!.at - due).toBeLessThanOrEqual(20);
  });
});
