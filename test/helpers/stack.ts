/** The whole stack for a test: Prosody + Redis (launcher/stack.ts) and the component in-process. */
import { afterAll, afterEach, beforeAll } from "@jest/globals";
import type { Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { pino } from "pino";
import { startComponent, type RunningComponent } from "../../component/app.js";
import type { Config, ConfigInput } from "../../component/config.js";
import { startTestStack, type TestStack } from "../../launcher/stack.js";
import { NS } from "../../protocol/names.js";
import { connectAccount, connectGuest, stopAll, waitFor, xmlFor } from "./xmpp.js";

export interface Running {
  stack: TestStack;
  /** The component running now (a new one after restartComponent). */
  app: RunningComponent;
  config: Config;
  /** Stops the component (as a restart or a crash would: its Redis state stays) and starts another. */
  restartComponent(): Promise<void>;
  stop(): Promise<void>;
}

/** `voice`: Kamailio too (the soft switch, on ports of its own). */
export async function startAll(overrides: Partial<ConfigInput> = {}, { voice = false } = {}): Promise<Running> {
  const stack = await startTestStack(overrides, { voice });
  const start = () => startComponent(stack.config, { redisUrl: stack.redisUrl, log: pino({ level: process.env.LOG_LEVEL ?? "silent" }), webPort: 0 });
  try {
    const running: Running = {
      stack, app: await start(), config: stack.config,
      async restartComponent() { await running.app.stop(); running.app = await start(); },
      stop: async () => { await running.app.stop(); await stack.stop(); },
    };
    return running;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

/**
 * Polls a condition the system reaches through another process (e.g. the
 * CTI seeing an agent's presence) until it holds; fails after `ms`.
 */
export async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 5000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${ms} ms (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 20)); // polling interval, not a stand-in for an event
  }
}

/** Waits until nobody is waiting or served and every agent is offline: the clean start of the next test. */
export async function cleanSlate(r: Running, ms = 5000): Promise<void> {
  await until(() => r.app.cti.sessions(0), (s) => s.length === 0, ms, "no live session");
  await until(() => r.app.cti.agents(), (a) => a.every((x) => x.state === "offline"), ms, "agents offline");
}

/**
 * Two queues for authority tests: alice serves billing, bob sales; sam supervises every queue, tess sales
 * only. The JIDs: SCOPED.alice and so on.
 */
export const SCOPED = { alice: "alice@acme.test", bob: "bob@acme.test", sam: "sam@acme.test", tess: "tess@acme.test" } as const;
export const SCOPED_STACK = {
  queues: [{ name: "billing", title: "Billing", skills: ["billing"] }, { name: "sales", title: "Sales", skills: ["sales"] }],
  agents: [
    { jid: SCOPED.alice, name: "Alice", password: "alice-pw", skills: ["billing"], maxChats: 1 },
    { jid: SCOPED.bob, name: "Bob", password: "bob-pw", skills: ["sales"], maxChats: 1 },
  ],
  supervisors: [{ jid: SCOPED.sam, password: "sam-pw" }, { jid: SCOPED.tess, password: "tess-pw", queues: ["sales"] }],
} satisfies Partial<ConfigInput>;

/** The component domain and a queue of the test stack. */
export const CC = "cc.acme.test";
export const BILLING = `billing@${CC}`;

/**
 * One stack for a test file: started before its tests (handed over by `onStart`), stopped after them.
 * After each test the clients made with `track`, `guest` or `agent` are stopped and, with `clean`, the
 * CTI is back to nobody waiting and no agent logged in.
 */
export function useStack(overrides: Partial<ConfigInput>, onStart: (r: Running) => void, { clean = true } = {}) {
  let r: Running | undefined;
  let open: Client[] = [];
  beforeAll(async () => { r = await startAll(overrides); onStart(r); });
  afterAll(async () => { await r?.stop(); });
  afterEach(async () => {
    await stopAll(...open);
    open = [];
    if (clean && r) await cleanSlate(r);
  });
  const track = <T extends Client>(c: T) => { open.push(c); return c; };
  return {
    track,
    guest: async () => track(await connectGuest(r!.config)),
    agent: async (jid: string, show?: string) => track(await agentOnline(r!, jid, show)),
  };
}

/** Logs an agent in with a plain presence, and waits until the CTI has it in that state. */
export async function agentOnline(r: Running, jid: string, show?: string): Promise<Client> {
  const agent = r.config.agents.find((a) => a.jid === jid)!;
  const c = await connectAccount(r.config, jid, agent.password);
  const xml = xmlFor(c);
  await c.send(xml("presence", {}, show ? xml("show", {}, show) : undefined));
  await until(() => r.app.cti.agent(jid), (a) => a?.state === (show ? "not-ready" : "ready"), 5000, `${jid} state`);
  return c;
}

/** Sends an iq and returns the reply (result or error) instead of throwing on errors. */
export async function iq(c: Client, to: string, type: "get" | "set", child: Element): Promise<Element> {
  const xml = xmlFor(c);
  const id = `iq${Math.random().toString(36).slice(2)}`;
  const reply = waitFor(c, (s) => s.is("iq") && s.attrs.id === id, 5000, `reply to ${id}`);
  await c.send(xml("iq", { to, type, id }, child));
  return reply;
}

export const errorOf = (s: Element) => {
  const e = s.getChild("error");
  return e && { type: e.attrs.type, condition: e.getChildElements().find((c) => c.attrs.xmlns === NS.STANZAS && c.name !== "text")?.name, text: e.getChildText("text", NS.STANZAS) };
};

/** Runs an XEP-0050 command on the component in one step (a submitted form when `fields` are given); the reply, errors included. */
export function command(c: Client, node: string, fields?: Record<string, string>, sessionid?: string): Promise<Element> {
  const xml = xmlFor(c);
  const form = fields && xml("x", { xmlns: NS.DATA, type: "submit" }, ...Object.entries(fields).map(([k, v]) => xml("field", { var: k }, xml("value", {}, v))));
  return iq(c, CC, "set", xml("command", { xmlns: NS.COMMANDS, node, action: fields ? "complete" : "execute", sessionid }, form));
}
