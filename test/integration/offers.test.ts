/**
 * XEP-0142 offers over real XMPP: an agent's client that announces itself to
 * a queue with <agent-status/> is offered customers and accepts or rejects
 * them; a ring-all queue offers to every such client and revokes the others
 * once one accepts.
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
      { name: "billing", title: "Billing", skills: ["billing"] },
      { name: "vip", title: "VIP", skills: ["billing"], strategy: "ring-all" },
    ],
  });
});
afterAll(async () => { await stopAll(...open); await r?.stop(); });

const offerFor = (s: Element) => s.is("iq") && s.attrs.type === "set" && !!s.getChild("offer", NS.WG);
const revoke = (s: Element) => s.is("iq") && s.attrs.type === "set" && !!s.getChild("offer-revoke", NS.WG);

/** An agent whose client speaks XEP-0142: it acknowledges offers, and announces itself to the queues. */
async function offerAgent(jid: string): Promise<Client> {
  const c = await agentOnline(r, jid);
  open.push(c);
  c.on("stanza", (s: Element) => {
    if (offerFor(s) || revoke(s)) void c.send(xmlFor(c)("iq", { type: "result", to: s.attrs.from, id: s.attrs.id }));
  });
  for (const q of ["billing", "vip"]) await c.send(xmlFor(c)("presence", { to: `${q}@cc.acme.test` }, xmlFor(c)("agent-status", { xmlns: NS.WG })));
  await until(() => r.app.cti.agent(jid), (a) => a?.offerJid === c.jid!.toString(), 5000, "offer target");
  return c;
}

const join = async (queue: string) => {
  const c = await connectGuest(r.config);
  open.push(c);
  await iq(c, `${queue}@cc.acme.test`, "set", xmlFor(c)("join-queue", { xmlns: NS.WG }));
  return c;
};
const answer = (agent: Client, queue: string, what: "offer-accept" | "offer-reject", customer: string) =>
  iq(agent, `${queue}@cc.acme.test`, "set", xmlFor(agent)(what, { xmlns: NS.WG, jid: customer }));

describe("offers", () => {
  it("go to the chosen agent's client, which accepts or rejects", async () => {
    const alice = await offerAgent("alice@acme.test");
    const first = await join("billing");
    const offer = (await waitFor(alice, offerFor)).getChild("offer", NS.WG)!;
    expect(offer.attrs.jid).toBe(first.jid!.toString());
    expect(offer.getChildText("timeout")).toBe("20");
    expect((await answer(alice, "billing", "offer-reject", offer.attrs.jid!)).attrs.type).toBe("result");
    // the only seat is offered again; this time it accepts
    const again = (await waitFor(alice, offerFor)).getChild("offer", NS.WG)!;
    expect((await answer(alice, "billing", "offer-accept", again.attrs.jid!)).attrs.type).toBe("result");
    expect((await waitFor(first, (s) => !!s.getChild("assigned", NS.SB))).getChild("assigned", NS.SB)!.attrs.seat).toBe("alice@acme.test");
    await waitFor(alice, (s) => !!s.getChild("begin", NS.SB));
    await iq(alice, "cc.acme.test", "set", xmlFor(alice)("end", { xmlns: NS.SB, session: again.attrs.id }));
  });

  it("ring every client on a ring-all queue; the first to accept wins and the others are revoked", async () => {
    const alice = open.find((c) => c.jid?.toString().startsWith("alice@"))!;
    const bob = await offerAgent("bob@acme.test");
    const customer = await join("vip");
    const [toAlice, toBob] = await Promise.all([waitFor(alice, offerFor), waitFor(bob, offerFor)]);
    expect(toAlice.getChild("offer", NS.WG)!.attrs.jid).toBe(customer.jid!.toString());
    await answer(bob, "vip", "offer-accept", toBob.getChild("offer", NS.WG)!.attrs.jid!);
    expect((await waitFor(customer, (s) => !!s.getChild("assigned", NS.SB))).getChild("assigned", NS.SB)!.attrs.seat).toBe("bob@acme.test");
    expect((await waitFor(alice, revoke)).getChild("offer-revoke", NS.WG)!.getChildText("reason")).toMatch(/Another agent/);
  });

  it("are revoked when the customer leaves the queue meanwhile", async () => {
    const alice = open.find((c) => c.jid?.toString().startsWith("alice@"))!;
    const customer = await join("billing");
    await waitFor(alice, (s) => offerFor(s) && s.getChild("offer", NS.WG)!.attrs.jid === customer.jid!.toString());
    await iq(customer, "billing@cc.acme.test", "set", xmlFor(customer)("depart-queue", { xmlns: NS.WG }));
    expect((await waitFor(alice, revoke)).getChild("offer-revoke", NS.WG)!.getChildText("reason")).toMatch(/left the queue/);
  });
});
