/**
 * Wrap-up over real XMPP: after a session the seat rests for the queue's
 * wrapUpSeconds, then serves the next customer; the agent may end it early
 * with an ad-hoc command or by writing "ready".
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { NS } from "../../protocol/names.js";
import { agentOnline, iq, startAll, until, type Running } from "../helpers/stack.js";
import { connectGuest, stopAll, waitFor, xmlFor } from "../helpers/xmpp.js";

let r: Running;
const open: Client[] = [];
beforeAll(async () => {
  r = await startAll({
    queues: [
      { name: "billing", title: "Billing", skills: ["billing"], wrapUpSeconds: 1 },
      { name: "vip", title: "VIP", skills: ["billing"], wrapUpSeconds: 600 },
    ],
  });
});
afterAll(async () => { await stopAll(...open); await r?.stop(); });

const sb = (name: string) => (s: Element) => s.is("message") && !!s.getChild(name, NS.SB);
const join = (c: Client, queue: string) => iq(c, `${queue}@cc.acme.test`, "set", xmlFor(c)("join-queue", { xmlns: NS.WG }));
const end = (c: Client, session: string) => iq(c, "cc.acme.test", "set", xmlFor(c)("end", { xmlns: NS.SB, session }));
const aliceView = async () => (await r.app.cti.agents()).find((a) => a.jid === "alice@acme.test")!.state;

describe("wrap-up", () => {
  it("rests the seat after a session, then routes the next customer when it is over", async () => {
    const alice = await agentOnline(r, "alice@acme.test");
    const [c1, c2] = [await connectGuest(r.config), await connectGuest(r.config)];
    open.push(alice, c1, c2);
    await join(c1, "billing");
    const s1 = (await waitFor(c1, sb("assigned"))).getChild("assigned", NS.SB)!.attrs.session!;
    await join(c2, "billing");
    await waitFor(c2, (s) => !!s.getChild("queue-status", NS.WG));
    await end(alice, s1);
    expect(await aliceView()).toBe("wrap-up");
    expect((await waitFor(c2, sb("assigned"), 10_000)).getChild("assigned", NS.SB)!.attrs.seat).toBe("alice@acme.test");
    const s2 = (await r.app.cti.sessionOf(c2.jid!.toString()))!;
    await end(alice, s2);
  });

  it("ends early when the agent says so, by ad-hoc command or by writing ready", async () => {
    const alice = open[0]!;
    const xml = xmlFor(alice);
    await until(aliceView, (v) => v === "ready", 10_000, "billing wrap-up over");
    const [c1, c2, c3] = [await connectGuest(r.config), await connectGuest(r.config), await connectGuest(r.config)];
    open.push(c1, c2, c3);
    await join(c1, "vip"); // vip: 10 minutes of wrap-up
    const s1 = (await waitFor(c1, sb("assigned"))).getChild("assigned", NS.SB)!.attrs.session!;
    await join(c2, "vip");
    await waitFor(c2, (s) => !!s.getChild("queue-status", NS.WG));
    await end(alice, s1);
    expect(await aliceView()).toBe("wrap-up");

    const done = await iq(alice, "cc.acme.test", "set", xml("command", { xmlns: NS.COMMANDS, node: "end-wrap-up", action: "execute" }));
    expect(done.getChild("command", NS.COMMANDS)!.getChildText("note")).toMatch(/Wrap-up ended/);
    const s2 = (await waitFor(c2, sb("assigned"))).getChild("assigned", NS.SB)!.attrs.session!;

    await join(c3, "vip");
    await waitFor(c3, (s) => !!s.getChild("queue-status", NS.WG));
    await end(alice, s2);
    await alice.send(xml("message", { to: "cc.acme.test", type: "chat" }, xml("body", {}, "ready")));
    expect((await waitFor(alice, (s) => /ready for the next customer/.test(s.getChildText("body") ?? ""))).attrs.from).toBe("cc.acme.test");
    expect((await waitFor(c3, sb("assigned"))).getChild("assigned", NS.SB)!.attrs.seat).toBe("alice@acme.test");
  });
});
