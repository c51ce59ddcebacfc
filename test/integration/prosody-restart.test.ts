/**
 * Prosody crashed under live sessions (kill -9: nobody is told that anyone left, so the sessions stay),
 * and the agent and its customer were back before the component: the component restores the seat
 * module's grants, which lived in Prosody's memory, so the customer reaches its seat again instead of
 * bouncing. (After a clean restart Prosody first reports everyone unavailable, and the agents' sessions
 * end with a notice; an agent still away when the component reconnects is set offline by its probe.)
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pino } from "pino";
import { startComponent, type RunningComponent } from "../../component/app.js";
import { startTestStack, type TestStack } from "../../launcher/stack.js";
import { NS } from "../../protocol/names.js";
import { until } from "../helpers/stack.js";
import { connectAccount, stopAll, waitFor, xmlFor } from "../helpers/xmpp.js";

let stack: TestStack;
let app: RunningComponent | undefined;
const open: Client[] = [];
const start = async () => (app = await startComponent(stack.config, { redisUrl: stack.redisUrl, log: pino({ level: "silent" }), webPort: 0 }));
const connect = async (jid: string, password: string, resource: string) => {
  const c = await connectAccount(stack.config, jid, password, resource);
  open.push(c);
  return c;
};
const alice = async () => {
  const c = await connect("alice@acme.test", "alice-pw", "desk");
  await c.send(xmlFor(c)("presence"));
  return c;
};

beforeAll(async () => { stack = await startTestStack(); });
afterAll(async () => { await stopAll(...open); await app?.stop(); await stack?.stop(); });

describe("a Prosody crash", () => {
  it("keeps a session's seat reachable for its customer once all are back", async () => {
    await start();
    const seat = await alice();
    await until(() => app!.cti.agent("alice@acme.test"), (a) => a?.state === "ready", 5000, "alice ready");
    const customer = await connect("carol@acme.test", "carol-pw", "laptop");
    const x = xmlFor(customer);
    const assigned = waitFor(customer, (s) => !!s.getChild("assigned", NS.SB));
    await customer.send(x("iq", { to: "billing@cc.acme.test", type: "set", id: "join1" }, x("join-queue", { xmlns: NS.WG })));
    const session = (await assigned).getChild("assigned", NS.SB)!.attrs.session as string;
    const first = waitFor(seat, (s) => s.is("message") && s.getChildText("body") === "before");
    await customer.send(x("message", { to: "alice@acme.test", type: "chat" }, x("body", {}, "before")));
    await first;

    // The component goes first (so its reconnection comes last), then Prosody crashes and comes back.
    await app!.stop();
    await stack.restartProsody("SIGKILL");
    const seat2 = await alice();
    const customer2 = await connect("carol@acme.test", "carol-pw", "laptop");
    const regranted = waitFor(seat2, (s) => s.getChild("begin", NS.SB)?.attrs.session === session, 10_000, "the re-grant");
    await start();
    expect((await regranted).getChild("body")).toBeUndefined(); // nothing for the agent's client to show
    expect((await app!.cti.session(session))?.state).toBe("in-service");

    const x2 = xmlFor(customer2);
    const after = waitFor(seat2, (s) => s.is("message") && s.getChildText("body") === "after", 5000, "the message after the crash");
    await customer2.send(x2("message", { to: "alice@acme.test", type: "chat" }, x2("body", {}, "after")));
    await after;
  });

  it("restores an invited expert's grant too (issue 15): the expert's words reach the customer again", async () => {
    // The first test's component goes on; its clients go, so that alice's new client is the only one.
    await stopAll(...open.splice(0));
    await until(() => app!.cti.agent("alice@acme.test"), (a) => a?.state === "offline", 5000, "alice offline");
    for (const live of await app!.cti.sessions(0)) if (live.state !== "ended") await app!.cti.forceEnd(live.id); // the first test's customer (same account)
    const seat = await alice();
    await until(() => app!.cti.agent("alice@acme.test"), (a) => a?.state === "ready", 5000, "alice ready");
    const sam = await connect("sam@acme.test", "sam-pw", "console");
    await sam.send(xmlFor(sam)("presence"));
    await waitFor(sam, (s) => s.is("presence") && s.attrs.from === sam.jid!.toString());
    const customer = await connect("carol@acme.test", "carol-pw", "phone");
    const x = xmlFor(customer);
    const assigned = waitFor(customer, (s) => !!s.getChild("assigned", NS.SB));
    await customer.send(x("message", { to: "billing@cc.acme.test", type: "chat" }, x("body", {}, "Help with a refund")));
    const session = (await assigned).getChild("assigned", NS.SB)!.attrs.session as string;
    await waitFor(seat, (s) => s.getChild("begin", NS.SB)?.attrs.session === session);
    const s = xmlFor(seat);
    await seat.iqCaller.set(s("invite-expert", { xmlns: NS.SB, session, jid: "sam@acme.test" }), "cc.acme.test", 5000); // an error would throw
    await waitFor(customer, (m) => m.getChildText("body") === "Sam joined the conversation.");

    await app!.stop();
    await stack.restartProsody("SIGKILL");
    const seat2 = await alice();
    const customer2 = await connect("carol@acme.test", "carol-pw", "phone");
    const sam2 = await connect("sam@acme.test", "sam-pw", "console");
    await sam2.send(xmlFor(sam2)("presence"));
    const regranted = waitFor(seat2, (m) => m.getChild("expert", NS.SB)?.attrs.session === session, 10_000, "the expert's re-grant");
    await start();
    const grant = await regranted;
    expect(grant.getChild("body")).toBeUndefined(); // nothing to show, and no second "joined" for the customer
    expect(grant.getChild("expert", NS.SB)!.attrs).toMatchObject({ jid: "sam@acme.test", status: "joined" });

    const s2 = xmlFor(sam2);
    const relayed = waitFor(customer2, (m) => m.getChildText("body") === "Sam (expert): Still with you.", 5000, "the expert's words after the crash");
    await sam2.send(s2("message", { to: "alice@acme.test", type: "chat" }, s2("body", {}, "Still with you.")));
    expect((await relayed).attrs.from).toBe("alice@acme.test");
  });

  it("comes back with jemalloc as its allocator, as it started (launcher/prosody.ts)", () => {
    // The pid file is the restarted Prosody's: the crash test above left a new one.
    const pid = Number(readFileSync(join(dirname(stack.prosodyConfig), "prosody.pid"), "utf8"));
    expect(readFileSync(`/proc/${pid}/maps`, "utf8")).toMatch(/\/libjemalloc\.so\.2$/m);
  });
});
