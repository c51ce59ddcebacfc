/**
 * Routing rules that run on time, over real XMPP: a customer who was given a
 * seat but never writes releases it, with a notice to both sides.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { NS } from "../../protocol/names.js";
import { agentOnline, iq, startAll, type Running } from "../helpers/stack.js";
import { connectGuest, stopAll, waitFor, xmlFor } from "../helpers/xmpp.js";

let r: Running;
const open: Client[] = [];
beforeAll(async () => {
  r = await startAll({ queues: [{ name: "billing", title: "Billing", skills: ["billing"], assignTimeout: 1 }] });
});
afterAll(async () => { await stopAll(...open); await r?.stop(); });

const sb = (name: string) => (s: Element) => s.is("message") && !!s.getChild(name, NS.SB);
const join = (c: Client) => iq(c, "billing@cc.acme.test", "set", xmlFor(c)("join-queue", { xmlns: NS.WG }));

describe("the assignment timeout", () => {
  it("releases the seat of a customer who does not write, tells both, and serves the next one", async () => {
    const alice = await agentOnline(r, "alice@acme.test"); // maxChats 1
    const silent = await connectGuest(r.config);
    const next = await connectGuest(r.config);
    open.push(alice, silent, next);
    await join(silent);
    const session = (await waitFor(silent, sb("assigned"))).getChild("assigned", NS.SB)!.attrs.session;
    await join(next);
    const ended = await waitFor(silent, sb("ended"), 20_000);
    expect(ended.getChild("ended", NS.SB)!.attrs).toMatchObject({ session, reason: "assign-timeout" });
    expect(ended.getChildText("body")).toMatch(/did not write to Alice in time/);
    expect((await waitFor(alice, sb("ended"))).getChildText("body")).toMatch(/did not write in time/);
    expect((await waitFor(next, sb("assigned"))).getChild("assigned", NS.SB)!.attrs.seat).toBe("alice@acme.test");
  });
});
