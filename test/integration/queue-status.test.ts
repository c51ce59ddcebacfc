/**
 * Issue 14 over real XMPP: a waiting customer hears its own position change when someone ahead leaves,
 * the customers ahead of the one who left are not pushed anything, and a poll reads the customer's own
 * rank.
 */
import { describe, expect, it } from "@jest/globals";
import type { Element } from "@xmpp/xml";
import { NS, WG } from "../../protocol/names.js";
import { BILLING, iq, useStack, type Running } from "../helpers/stack.js";
import { received, waitFor, xmlFor } from "../helpers/xmpp.js";

let r: Running;
const { guest, agent } = useStack({ customerGraceSeconds: 0 }, (started) => { r = started; });

const statusMsg = (s: Element) => s.is("message") && !!s.getChild(WG.queueStatus, NS.WG);
const positionOf = (s: Element) => Number(s.getChild(WG.queueStatus, NS.WG)!.getChildText("position"));

describe("queue statuses", () => {
  it("tell a newcomer its place right after the join's result; the status pass's next one is an interval later", async () => {
    await agent("alice@acme.test", "dnd");
    const customers = [await guest(), await guest()];
    for (const [i, c] of customers.entries()) {
      const result = await iq(c, BILLING, "set", xmlFor(c)("join-queue", { xmlns: NS.WG }));
      const session = result.getChild("session", NS.SB)!.attrs.id as string;
      // The status pass would tell it 15 s from now, after waitFor gives up: this one came with the join.
      const due = Number(await r.app.redis.zscore(r.app.store.keys.statusDue("billing"), session));
      const queuedAt = (await r.app.cti.session(session))!.queuedAt;
      expect(due - queuedAt).toBe(r.config.statusIntervalSeconds * 1000);
      expect(positionOf(await waitFor(c, statusMsg))).toBe(i);
      // The answer first, then the status, and nothing in between.
      const seen = received(c);
      expect(seen.indexOf(seen.find(statusMsg)!) - seen.indexOf(seen.find((x) => x.attrs.id === result.attrs.id)!)).toBe(1);
    }
  });

  it("tell a customer its own new position when someone ahead leaves, and push nothing to those ahead", async () => {
    await agent("alice@acme.test", "dnd"); // logged in, not ready: everyone waits
    const customers = [await guest(), await guest(), await guest(), await guest()];
    for (const c of customers) expect((await iq(c, BILLING, "set", xmlFor(c)("join-queue", { xmlns: NS.WG }))).attrs.type).toBe("result");
    for (const [i, c] of customers.entries()) expect(positionOf(await waitFor(c, statusMsg))).toBe(i);
    const [first, second, third, last] = customers as [typeof customers[0], typeof customers[0], typeof customers[0], typeof customers[0]];
    const statusesOf = (c: typeof first) => received(c).filter(statusMsg).length;
    const before = { first: statusesOf(first), second: statusesOf(second) };

    expect((await iq(third, BILLING, "set", xmlFor(third)("depart-queue", { xmlns: NS.WG }))).attrs.type).toBe("result");
    // The one behind hears its new place (within the movement's pass and a second)...
    expect(positionOf(await waitFor(last, statusMsg))).toBe(2);
    // ... and those ahead, whose places did not move, were not in that pass: a poll of theirs is answered
    // after anything the component sent them before (one connection, in order), and reads their own rank.
    const poll = async (c: typeof first) => (await iq(c, BILLING, "get", xmlFor(c)("queue-status", { xmlns: NS.WG }))).getChild("queue-status", NS.WG)!.getChildText("position");
    expect([await poll(first), await poll(second), await poll(last)]).toEqual(["0", "1", "2"]);
    expect({ first: statusesOf(first), second: statusesOf(second) }).toEqual(before);
    expect((await r.app.cti.queueStats()).find((q) => q.name === "billing")!.waiting).toBe(3);
  });
});
