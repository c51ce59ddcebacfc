/**
 * Transfer over real XMPP: an agent hands its customer to another agent with
 * the ad-hoc command; the customer is told and keeps one session, the new
 * seat gets the context, the old seat's grant is withdrawn.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { NS } from "../../protocol/names.js";
import { agentOnline, errorOf, iq, startAll, type Running } from "../helpers/stack.js";
import { connectGuest, stopAll, waitFor, xmlFor } from "../helpers/xmpp.js";

let r: Running;
const open: Client[] = [];
beforeAll(async () => { r = await startAll(); });
afterAll(async () => { await stopAll(...open); await r?.stop(); });

const sb = (name: string) => (s: Element) => s.is("message") && !!s.getChild(name, NS.SB);
const chat = (c: Client, to: string, body: string) => c.send(xmlFor(c)("message", { to, type: "chat" }, xmlFor(c)("body", {}, body)));

describe("transfer", () => {
  it("moves the customer to another agent with a note, and withdraws the first seat's grant", async () => {
    const alice = await agentOnline(r, "alice@acme.test");
    const customer = await connectGuest(r.config);
    open.push(alice, customer);
    const xml = xmlFor(customer);
    await iq(customer, "billing@cc.acme.test", "set", xml("join-queue", { xmlns: NS.WG },
      xml("x", { xmlns: NS.DATA, type: "submit" }, xml("field", { var: "subject" }, xml("value", {}, "Refund")))));
    const session = (await waitFor(customer, sb("assigned"))).getChild("assigned", NS.SB)!.attrs.session!;
    await chat(customer, "alice@acme.test", "I want a refund");
    await waitFor(alice, (s) => s.getChildText("body") === "I want a refund");
    const bob = await agentOnline(r, "bob@acme.test");
    open.push(bob);

    const a = xmlFor(alice);
    const cmd = (fields?: Record<string, string>) => iq(alice, "cc.acme.test", "set", a("command", { xmlns: NS.COMMANDS, node: "transfer", action: fields ? "complete" : "execute" },
      fields && a("x", { xmlns: NS.DATA, type: "submit" }, ...Object.entries(fields).map(([k, v]) => a("field", { var: k }, a("value", {}, v))))));
    const asked = (await cmd()).getChild("command", NS.COMMANDS)!;
    expect(asked.getChild("x", NS.DATA)!.getChildren("field").map((f) => f.attrs.var)).toEqual(["session", "target", "note"]);
    expect(errorOf(await cmd({ session, target: "nowhere" }))?.condition).toBe("bad-request");
    const done = (await cmd({ session, target: "agent:bob@acme.test", note: "Refund for order 7, approved" })).getChild("command", NS.COMMANDS)!;
    expect(done.attrs.status).toBe("completed");

    expect((await waitFor(alice, sb("ended"))).getChild("ended", NS.SB)!.attrs.reason).toBe("transferred");
    expect((await waitFor(customer, (s) => /Alice transferred you to Bob/.test(s.getChildText("body") ?? ""))).attrs.from).toBe("billing@cc.acme.test");
    expect((await waitFor(customer, sb("assigned"))).getChild("assigned", NS.SB)!.attrs).toMatchObject({ session, seat: "bob@acme.test" });
    const begin = await waitFor(bob, sb("begin"));
    expect(begin.getChildText("body")).toMatch(/Alice transferred .* Note: Refund for order 7, approved/);
    expect(begin.getChild("begin", NS.SB)!.getChild("x", NS.DATA)).toBeTruthy();

    await chat(customer, "bob@acme.test", "Hi Bob");
    await waitFor(bob, (s) => s.getChildText("body") === "Hi Bob");
    await chat(customer, "alice@acme.test", "Alice?");
    expect((await waitFor(customer, (s) => s.attrs.type === "error" && s.attrs.from?.startsWith("alice@") === true)).getChild("error")!.getChild("forbidden", NS.STANZAS)).toBeTruthy();
    expect(await r.app.cti.session(session)).toMatchObject({ seat: "bob@acme.test" });
  });
});
