/**
 * Supervisors on a plain XMPP client: XEP-0050 commands to list queues and
 * agents and to force an agent's state, and a message to any seat.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { NS } from "../../protocol/names.js";
import { agentOnline, command, errorOf, iq, startAll, until, type Running } from "../helpers/stack.js";
import { connectAccount, connectGuest, stopAll, waitFor, xmlFor } from "../helpers/xmpp.js";

let r: Running;
let sam: Client;
let alice: Client;
let guest: Client;
const CC = "cc.acme.test";

beforeAll(async () => {
  r = await startAll();
  sam = await connectAccount(r.config, "sam@acme.test", "sam-pw");
  alice = await agentOnline(r, "alice@acme.test");
  guest = await connectGuest(r.config);
});
afterAll(async () => { await stopAll(sam, alice, guest); await r?.stop(); });

const nodes = async (c: Client) =>
  (await iq(c, CC, "get", xmlFor(c)("query", { xmlns: NS.DISCO_ITEMS, node: NS.COMMANDS }))).getChild("query")!.getChildren("item").map((i: Element) => i.attrs.node);

describe("supervisors", () => {
  it("see the commands their role may run", async () => {
    expect(await nodes(sam)).toEqual([
      "list-queues", "list-agents", "set-agent-state", "end-any-session", "list-sessions", "transfer-session", "adjust-agent",
      "monitor", "whisper", "barge", "stop-monitoring", "invite-expert", "leave-session",
    ]);
    expect(await nodes(alice)).toEqual(["end-session", "end-wrap-up", "transfer", "pause", "ready", "invite-expert", "leave-session"]);
    expect(await nodes(guest)).toEqual([]);
    expect(errorOf(await command(guest, "list-agents"))?.condition).toBe("forbidden");
    expect(errorOf(await command(sam, "no-such-command"))?.condition).toBe("item-not-found");
  });

  it("list queues and agents", async () => {
    const queues = (await command(sam, "list-queues")).getChild("command", NS.COMMANDS)!;
    expect(queues.attrs.status).toBe("completed");
    expect(queues.getChildText("note")).toMatch(/billing: 0 waiting/);
    const agents = (await command(sam, "list-agents")).getChild("command", NS.COMMANDS)!;
    expect(agents.getChildText("note")).toMatch(/alice@acme.test: ready, 0 of 1 chats/);
    const rows = agents.getChild("x", NS.DATA)!.getChildren("item");
    expect(rows.map((row) => row.getChildren("field")[0]!.getChildText("value")).sort()).toEqual(["alice@acme.test", "bob@acme.test"]);
  });

  it("force an agent's state with a reason, through a two-step form", async () => {
    const first = (await command(sam, "set-agent-state")).getChild("command", NS.COMMANDS)!;
    expect(first.attrs.status).toBe("executing");
    expect(first.getChild("x", NS.DATA)!.getChildren("field").map((f) => f.attrs.var)).toEqual(["agent", "state", "reason"]);
    const done = (await command(sam, "set-agent-state", { agent: "alice@acme.test", state: "not-ready", reason: "Coaching" }, first.attrs.sessionid))
      .getChild("command", NS.COMMANDS)!;
    expect(done.attrs.status).toBe("completed");
    await until(() => r.app.cti.agents(), (a) => a.some((x) => x.jid === "alice@acme.test" && x.state === "not-ready" && x.reason === "Coaching"), 5000, "alice paused");
    expect(errorOf(await command(sam, "set-agent-state", { agent: "alice@acme.test", state: "asleep" }))?.condition).toBe("bad-request");
    expect(errorOf(await command(sam, "set-agent-state", { agent: "nobody@acme.test", state: "ready" }))?.condition).toBe("item-not-found");
  });

  it("see an agent's own pause, set with the ad-hoc command, and its end", async () => {
    const first = (await command(alice, "pause")).getChild("command", NS.COMMANDS)!;
    expect(first.attrs.status).toBe("executing");
    const options = first.getChild("x", NS.DATA)!.getChildren("field")[0]!.getChildren("option").map((o) => o.getChildText("value"));
    expect(options).toContain("Lunch");
    const paused = (await command(alice, "pause", { reason: "Lunch" }, first.attrs.sessionid)).getChild("command", NS.COMMANDS)!;
    // The way back is said as it is: the client still shows available, so choosing Available sends nothing.
    expect(paused.getChildText("note")).toMatch(/^You are paused \(Lunch\)\. When you are back, run "ready" or write "ready" to cc\.acme\.test\. Your client still shows you available/);
    const listed = (await command(sam, "list-agents")).getChild("command", NS.COMMANDS)!.getChildText("note");
    expect(listed).toMatch(/alice@acme.test: not-ready \(Lunch\)/);
    await command(alice, "pause", { reason: "Lunch", other: "Dentist" });
    expect((await r.app.cti.agents()).find((a) => a.jid === "alice@acme.test")?.reason).toBe("Dentist");
    await command(alice, "pause", { reason: "Lunch" });
    // Writing "ready" to the component, as the note says, ends the pause too.
    await alice.send(xmlFor(alice)("message", { to: CC, type: "chat" }, xmlFor(alice)("body", {}, "ready")));
    expect((await waitFor(alice, (s) => s.attrs.from === CC && /ready for the next customer/.test(s.getChildText("body") ?? ""))).getChildText("body")).toBe("You are ready for the next customer.");
    expect((await r.app.cti.agents()).find((a) => a.jid === "alice@acme.test")).toMatchObject({ state: "ready", reason: "" });
    await command(alice, "pause", { reason: "Lunch" });
    await command(alice, "ready", {});
    expect((await r.app.cti.agents()).find((a) => a.jid === "alice@acme.test")).toMatchObject({ state: "ready", reason: "" });
  });

  it("end any agent's session: the form lists live sessions, completing ends it (reason supervisor) and both sides are told", async () => {
    await command(alice, "ready", {});
    await until(() => r.app.cti.agent("alice@acme.test"), (a) => a?.state === "ready", 5000, "alice ready");
    await iq(guest, "billing@cc.acme.test", "set", xmlFor(guest)("join-queue", { xmlns: NS.WG }));
    const session = String((await waitFor(guest, (s) => !!s.getChild("assigned", NS.SB))).getChild("assigned", NS.SB)!.attrs.session);
    const first = (await command(sam, "end-any-session")).getChild("command", NS.COMMANDS)!;
    expect(first.attrs.status).toBe("executing");
    const options = first.getChild("x", NS.DATA)!.getChild("field")!.getChildren("option").map((o) => o.getChildText("value"));
    expect(options).toContain(session);
    const done = (await command(sam, "end-any-session", { session }, first.attrs.sessionid)).getChild("command", NS.COMMANDS)!;
    expect(done.attrs.status).toBe("completed");
    expect(await r.app.cti.session(session)).toMatchObject({ state: "ended", endReason: "supervisor" });
    expect((await waitFor(guest, (s) => s.getChild("ended", NS.SB)?.attrs.reason === "supervisor")).getChildText("body")).toMatch(/contact center has ended this chat/);
    expect((await waitFor(alice, (s) => s.getChild("ended", NS.SB)?.attrs.reason === "supervisor")).getChildText("body")).toMatch(/A supervisor ended your chat/);
    expect(errorOf(await command(sam, "end-any-session", { session }))?.condition).toBe("item-not-found");
    expect(errorOf(await command(alice, "end-any-session", { session }))?.condition).toBe("forbidden");
  });

  it("reach any seat, as staff", async () => {
    await sam.send(xmlFor(sam)("message", { to: "alice@acme.test", type: "chat" }, xmlFor(sam)("body", {}, "Coaching at 3?")));
    expect((await waitFor(alice, (s) => s.getChildText("body") === "Coaching at 3?")).attrs.from).toMatch(/^sam@acme.test\//);
  });
});
