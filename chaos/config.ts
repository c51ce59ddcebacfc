/**
 * The configuration of the stack under test: one queue, six agents of two seats each (12 seats, a little
 * slower than the arrivals, so a queue builds), free ports, and the run directory for Prosody and Redis.
 */
import { validateConfig, type Config } from "../component/config.js";
import { freePort } from "../launcher/ports.js";

/** The component's domain: the queues are `name@CC`. */
export const CC = "cc.chaos.test";

export async function chaosConfig(runDir: string) {
  const ports = { c2s: await freePort(), http: await freePort(), component: await freePort(), redis: await freePort(), web: await freePort() };
  const agents = Array.from({ length: 6 }, (_, i) => ({ jid: `agent${i}@chaos.test`, password: `pw${i}`, skills: ["billing"], maxChats: 2 }));
  const doc = {
    domain: "chaos.test", guestDomain: "guest.chaos.test",
    component: { domain: CC, secret: "chaos-secret" }, ports, admin: { token: "chaos-admin-token" },
    statusIntervalSeconds: 2, customerGraceSeconds: 0, rateLimit: { burst: 1000, perSecond: 1000 },
    queues: [{ name: "billing", title: "Billing", skills: ["billing"], maxWaitSeconds: 25 }],
    agents, runDir,
  };
  const config: Config = validateConfig(doc, "chaos config");
  return { ports, agents, doc, config };
}

export type ChaosConfig = Awaited<ReturnType<typeof chaosConfig>>;
export type AgentConfig = ChaosConfig["agents"][number];
