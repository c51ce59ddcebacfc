/**
 * Restarts at awkward moments: what the CTI decided while no component was
 * connected still reaches the customer and the seat, and the agents' state
 * converges to what Prosody knows.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@xmpp/client";
import { Redis } from "ioredis";
import { pino } from "pino";
import { startComponent, type RunningComponent } from "../../component/app.js";
import { createCti } from "../../cti/cti.js";
import { RedisStore } from "../../cti/redis/store.js";
import { startTestStack, type TestStack } from "../../launcher/stack.js";
import { NS } from "../../protocol/names.js";
import { until } from "../helpers/stack.js";
import { connectAccount, connectGuest, stopAll, waitFor, xmlFor } from "../helpers/xmpp.js";

let stack: TestStack;
let app: RunningComponent | undefined;
let redis: Redis;
const clients: Client[] = [];
const start = async () => { app = await startComponent(stack.config, { redisUrl: stack.redisUrl, log: pino({ level: "silent" }), webPort: 0 }); return app; };

beforeAll(async () => {
  stack = await startTestStack();
  redis = new Redis(stack.redisUrl);
});
afterAll(async () => {
  await stopAll(...clients);
  await app?.stop();
  redis.disconnect();
  await stack.stop();
});

describe("a component restart", () => {
  it("still delivers the result of an allocation made by an instance that died before notifying", async () => {
    const first = await start();
    const alice = await connectAccount(stack.config, "alice@acme.test", "alice-pw");
    clients.push(alice);
    await alice.send(xmlFor(alice)("presence"));
    await until(() => first.cti.agent("alice@acme.test"), (a) => a?.state === "ready", 5000, "alice ready");
    const customer = await connectGuest(stack.config);
    clients.push(customer);
    await first.stop();
    app = undefined;

    // Another instance queues and allocates the customer, then dies before sending anything.
    const other = createCti({
      store: new RedisStore(redis, stack.config.redis.prefix), guestDomain: stack.config.guestDomain, now: Date.now,
      queues: [{ name: "billing", skills: ["billing"], allowGuests: true, deny: [], open: true }],
    });
    const session = await other.join({ queue: "billing", customer: customer.jid!.toString(), plain: false, extraSkills: [], form: { subject: "sent before the crash" } });
    expect(session.state).toBe("assigned");

    await start();
    const assigned = await waitFor(customer, (s) => !!s.getChild("assigned", NS.SB), 10_000);
    expect(assigned.getChild("assigned", NS.SB)!.attrs).toMatchObject({ session: session.id, seat: "alice@acme.test" });
    // (The new instance first restores grants with body-less begins; the notifier's begin has the body.)
    expect((await waitFor(alice, (s) => !!s.getChild("begin", NS.SB) && !!s.getChildText("body"))).getChildText("body")).toContain("sent before the crash");
  });

  it("learns agent presence changes that happened while it was away", async () => {
    await app?.stop();
    app = undefined;
    const bob = await connectAccount(stack.config, "bob@acme.test", "bob-pw");
    clients.push(bob);
    await bob.send(xmlFor(bob)("presence", {}, xmlFor(bob)("show", {}, "dnd"))); // bounced: no component
    const second = await start();
    await until(() => second.cti.agent("bob@acme.test"), (a) => a?.state === "not-ready", 5000, "bob not ready");
  });
});
