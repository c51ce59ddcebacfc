/**
 * The configuration of the stack under test: two queues, `billing` for chats (six agents of two seats each,
 * 12 seats, a little slower than the arrivals, so a queue builds) and `phone` for calls (three voice agents
 * with a SIPp phone each; one of them takes billing chats too), free ports (Kamailio's too), and the run
 * directory for Prosody, Redis and Kamailio.
 */
import { validateConfig, type VoiceConfig } from "../component/config.js";
import { freePort } from "../launcher/ports.js";

/** The component's domain: the queues are `name@CC` (and `sip:name@CC` for calls). */
export const CC = "cc.chaos.test";
/** The calls' queue. */
export const PHONE_QUEUE = "phone";
/** Where the callers come from: not our domain, so they are guests (no digest), `sip:<user>@CALLERS`. */
export const CALLERS = "callers.chaos.test";

export async function chaosConfig(runDir: string) {
  const ports = {
    c2s: await freePort(), http: await freePort(), component: await freePort(), redis: await freePort(), web: await freePort(),
    sip: await freePort({ udp: true }), sipWs: await freePort(), sipEvents: await freePort(),
  };
  const chatAgents = Array.from({ length: 6 }, (_, i) => ({ jid: `agent${i}@chaos.test`, password: `pw${i}`, skills: ["billing"], maxChats: 2, voice: false }));
  // Voice agents: a call takes the whole seat. agent6 also takes chats (a seat shared by both media);
  // agent7 and agent8 only calls, so a fresh call after a fault finds a seat without waiting behind chats.
  const voiceAgents = [6, 7, 8].map((i) => ({ jid: `agent${i}@chaos.test`, password: `pw${i}`, skills: i === 6 ? ["billing", "phone"] : ["phone"], maxChats: 2, voice: true }));
  const agents = [...chatAgents, ...voiceAgents];
  const doc = {
    domain: "chaos.test", guestDomain: "guest.chaos.test",
    component: { domain: CC, secret: "chaos-secret" }, ports, admin: { token: "chaos-admin-token" },
    statusIntervalSeconds: 2, customerGraceSeconds: 0, rateLimit: { burst: 1000, perSecond: 1000 },
    queues: [
      { name: "billing", title: "Billing", skills: ["billing"], maxWaitSeconds: 25, media: ["chat"] },
      { name: PHONE_QUEUE, title: "Phone", skills: ["phone"], maxWaitSeconds: 25, media: ["voice"] },
    ],
    agents, runDir,
  };
  const config = validateConfig(doc, "chaos config") as VoiceConfig;
  return { ports, agents, doc, config };
}

export type ChaosConfig = Awaited<ReturnType<typeof chaosConfig>>;
export type AgentConfig = ChaosConfig["agents"][number];
