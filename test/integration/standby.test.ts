/**
 * Two component instances share one Redis. Prosody accepts one connection
 * per component name, so the second waits as a standby and takes over when
 * the first stops, with the customers the first had queued.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import { pino } from "pino";
import { startComponent, type RunningComponent } from "../../component/app.js";
import { startTestStack, type TestStack } from "../../launcher/stack.js";
import { NS } from "../../protocol/names.js";
import { until } from "../helpers/stack.js";
import { connectAccount, connectGuest, stopAll, waitFor, xmlFor } from "../helpers/xmpp.js";

let stack: TestStack;
const apps: RunningComponent[] = [];
const clients: Client[] = [];
const start = async () => {
  const app = await startComponent(stack.config, { redisUrl: stack.redisUrl, log: pino({ level: "silent" }), webPort: 0 });
  apps.push(app);
  return app;
};
const health = async (app: RunningComponent) => (await fetch(`http://127.0.0.1:${app.webPort}/healthz`)).status;

beforeAll(async () => { stack = await startTestStack({ customerGraceSeconds: 0 }); });
afterAll(async () => {
  await stopAll(...clients);
  for (const app of apps) await app.stop();
  await stack.stop();
});

describe("a standby instance", () => {
  it("waits while another instance is connected, then takes over with its queue", async () => {
    const active = await start();
    const standby = await start();
    expect(active.isOnline()).toBe(true);
    expect(standby.isOnline()).toBe(false);
    expect(await health(standby)).toBe(503);

    const alice = await connectAccount(stack.config, "alice@acme.test", "alice-pw");
    clients.push(alice);
    await alice.send(xmlFor(alice)("presence", {}, xmlFor(alice)("show", {}, "away")));
    await until(() => active.cti.agent("alice@acme.test"), (a) => a?.state === "not-ready", 5000, "alice not ready");
    const customer = await connectGuest(stack.config);
    clients.push(customer);
    const xml = xmlFor(customer);
    await customer.send(xml("iq", { type: "set", to: "billing@cc.acme.test", id: "j1" }, xml("join-queue", { xmlns: NS.WG })));
    await waitFor(customer, (s) => s.attrs.id === "j1" && s.attrs.type === "result");

    await active.stop();
    apps.splice(apps.indexOf(active), 1);
    await until(async () => standby.isOnline(), (online) => online, 10_000, "standby online");
    expect(await health(standby)).toBe(200);
    await alice.send(xmlFor(alice)("presence")); // ready: the standby, now active, routes the waiting customer
    expect((await waitFor(customer, (s) => !!s.getChild("assigned", NS.SB), 10_000)).getChild("assigned", NS.SB)!.attrs.seat).toBe("alice@acme.test");
  });
});
