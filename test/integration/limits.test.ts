/**
 * Queue limits over real XMPP: a full queue refuses, a customer who waited
 * too long is let go with a notice, and a queue outside its hours says when
 * it opens.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import { NS } from "../../protocol/names.js";
import { agentOnline, errorOf, iq, startAll, type Running } from "../helpers/stack.js";
import { connectGuest, stopAll, waitFor, xmlFor } from "../helpers/xmpp.js";

let r: Running;
const open: Client[] = [];
beforeAll(async () => {
  r = await startAll({
    queues: [
      { name: "billing", title: "Billing", skills: ["billing"], maxWaiting: 1, maxWaitSeconds: 1 },
      { name: "night", title: "Night desk", skills: ["billing"], hours: { timezone: "UTC", weekly: {}, holidays: [] } },
    ],
  });
  open.push(await agentOnline(r, "alice@acme.test", "away")); // logged in, not ready: customers wait
});
afterAll(async () => { await stopAll(...open); await r?.stop(); });

const join = async (queue: string) => {
  const c = await connectGuest(r.config);
  open.push(c);
  return { c, reply: await iq(c, `${queue}@cc.acme.test`, "set", xmlFor(c)("join-queue", { xmlns: NS.WG })) };
};

describe("queue limits", () => {
  it("refuse a join beyond maxWaiting, then let the waiting customer go after maxWaitSeconds with a notice", async () => {
    const first = await join("billing");
    expect(first.reply.attrs.type).toBe("result");
    const second = await join("billing");
    expect(errorOf(second.reply)).toMatchObject({ condition: "service-unavailable", text: expect.stringMatching(/full/) });
    const gone = await waitFor(first.c, (s) => !!s.getChild("depart-queue", NS.WG), 20_000);
    expect(gone.getChildText("body")).toMatch(/nobody could take your chat in time/);
    expect((await r.app.cti.session((await r.app.cti.sessions(10)).find((s) => s.customer === first.c.jid!.toString())!.id))?.endReason).toBe("expired");
  });

  it("refuse a join outside business hours", async () => {
    const { reply } = await join("night");
    expect(errorOf(reply)).toMatchObject({ condition: "service-unavailable", text: expect.stringMatching(/closed now/) });
  });
});
