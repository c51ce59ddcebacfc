/**
 * The protocol additions for the web access device, over real XMPP: resume
 * after a reload (the seat module moves the grant), feedback, leave a
 * message, agent figures and the not-ready reason.
 */
import { describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { NS } from "../../protocol/names.js";
import { agentOnline, BILLING, CC, errorOf, iq, until, useStack, type Running } from "../helpers/stack.js";
import { connectGuest, waitFor, xmlFor } from "../helpers/xmpp.js";
import { checkResponse } from "../helpers/openapi.js";

let r: Running;
const { track } = useStack({ customerGraceSeconds: 30 }, (running) => { r = running; }, { clean: false });
const sb = (name: string) => (s: Element) => s.is("message") && !!s.getChild(name, NS.SB);
const chat = (c: Client, to: string, body: string) => c.send(xmlFor(c)("message", { to, type: "chat" }, xmlFor(c)("body", {}, body)));
/** An admin API GET, its response checked against the OpenAPI document. */
const api = async (path: string) => {
  const res = await fetch(`http://127.0.0.1:${r.app.webPort}${path}`, { headers: { authorization: `Bearer ${r.config.admin.token}` } });
  const body = await res.json() as any;
  checkResponse("GET", path, res.status, res.headers.get("content-type"), body);
  return body;
};

describe("web access additions", () => {
  it("let a reloaded page resume its session: the seat gets the new JID and the old one is refused", async () => {
    const alice = track(await agentOnline(r, "alice@acme.test"));
    const before = track(await connectGuest(r.config));
    const result = await iq(before, BILLING, "set", xmlFor(before)("join-queue", { xmlns: NS.WG }));
    const { id, token } = result.getChild("session", NS.SB)!.attrs;
    expect(id).toBeTruthy();
    expect(token!.length).toBeGreaterThan(15);
    await waitFor(before, sb("assigned"));
    await waitFor(alice, sb("begin"));
    await chat(before, "alice@acme.test", "before the reload");
    await waitFor(alice, (s) => s.getChildText("body") === "before the reload");
    const oldJid = before.jid!.toString();
    await before.stop(); // the page reloads
    await until(() => r.app.cti.session(id!), (s) => s?.awaySince !== null, 5000, "customer away");

    const after = track(await connectGuest(r.config));
    expect(errorOf(await iq(after, CC, "set", xmlFor(after)("resume", { xmlns: NS.SB, session: id, token: "wrong" })))?.condition).toBe("forbidden");
    expect((await iq(after, CC, "set", xmlFor(after)("resume", { xmlns: NS.SB, session: id, token }))).attrs.type).toBe("result");
    expect((await waitFor(after, sb("assigned"))).getChild("assigned", NS.SB)!.attrs.seat).toBe("alice@acme.test");
    const begin = await waitFor(alice, sb("begin"));
    expect(begin.getChild("begin", NS.SB)!.attrs).toMatchObject({ session: id, customer: after.jid!.toString() });
    expect(begin.getChildText("body")).toContain(`reconnected`);
    await chat(after, "alice@acme.test", "after the reload");
    expect((await waitFor(alice, (s) => s.getChildText("body") === "after the reload")).attrs.from).toBe(after.jid!.toString());
    expect(await r.app.cti.session(id!)).toMatchObject({ state: "in-service", customer: after.jid!.toString() });
    expect(oldJid).not.toBe(after.jid!.toString());
    await iq(after, CC, "set", xmlFor(after)("end", { xmlns: NS.SB, session: id }));
  });

  it("store the customer's rating with the session", async () => {
    const alice = track(await agentOnline(r, "alice@acme.test"));
    const c = track(await connectGuest(r.config));
    const id = (await iq(c, BILLING, "set", xmlFor(c)("join-queue", { xmlns: NS.WG }))).getChild("session", NS.SB)!.attrs.id!;
    await waitFor(c, sb("assigned"));
    const rate = () => iq(c, CC, "set", xmlFor(c)("feedback", { xmlns: NS.SB, session: id, score: "4" }, "Quick & kind"));
    expect(errorOf(await rate())?.condition).toBe("bad-request"); // still running
    await iq(alice, CC, "set", xmlFor(alice)("end", { xmlns: NS.SB, session: id }));
    await waitFor(c, sb("ended"));
    expect((await rate()).attrs.type).toBe("result");
    expect(errorOf(await rate())?.condition).toBe("conflict");
    expect(await api(`/api/sessions/${id}`)).toMatchObject({ id, feedback: { score: 4, comment: "Quick & kind" } });
  });

  it("take a message for agents when nobody can serve", async () => {
    const c = track(await connectGuest(r.config));
    const xml = xmlFor(c);
    const refused = errorOf(await iq(c, BILLING, "set", xml("join-queue", { xmlns: NS.WG })));
    expect(refused?.condition).toBe("service-unavailable");
    const form = (fields: Record<string, string>) => xml("leave-message", { xmlns: NS.SB },
      xml("x", { xmlns: NS.DATA, type: "submit" }, ...Object.entries(fields).map(([k, v]) => xml("field", { var: k }, xml("value", {}, v)))));
    expect(errorOf(await iq(c, BILLING, "set", form({ name: "Ann" })))?.condition).toBe("bad-request");
    expect((await iq(c, BILLING, "set", form({ name: "Ann", email: "ann@example.test", message: "Please call me" }))).attrs.type).toBe("result");
    expect((await api("/api/messages"))[0]).toMatchObject({ queue: "billing", name: "Ann", email: "ann@example.test", message: "Please call me", from: c.jid!.toString() });
  });

  it("give agents today's figures and show why they are not ready", async () => {
    const bob = track(await agentOnline(r, "bob@acme.test"));
    const stats = (await iq(bob, CC, "get", xmlFor(bob)("stats", { xmlns: NS.SB }))).getChild("stats", NS.SB)!;
    expect(stats.attrs.handled).toMatch(/^\d+$/);
    expect(stats.attrs.averageHandleSeconds).toMatch(/^\d+$/);
    const c = track(await connectGuest(r.config));
    expect(errorOf(await iq(c, CC, "get", xmlFor(c)("stats", { xmlns: NS.SB })))?.condition).toBe("forbidden");
    await bob.send(xmlFor(bob)("presence", {}, xmlFor(bob)("show", {}, "away"), xmlFor(bob)("status", {}, "Lunch")));
    await until(() => api("/api/agents"), (a) => a.find((x: any) => x.jid === "bob@acme.test")?.reason === "Lunch", 5000, "reason");
  });
});
