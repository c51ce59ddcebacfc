/**
 * Fault injection with an invariant checker, against a real stack on free ports: Redis (AOF on),
 * Prosody, and two component processes (`node dist/component/main.js`, one active, one standby).
 * Real XMPP agents accept and end chats; real anonymous customers join, some leave. Faults are
 * injected in cycles; at the end every customer whose join was acknowledged is classified from
 * Redis and from the stanzas it received. Used by `npm run chaos` and by test/integration/chaos.test.ts.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { client, xml, type Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { Redis } from "ioredis";
import { validateConfig, type Config } from "../component/config.js";
import { keysFor } from "../cti/redis/keys.js";
import { freePort } from "../launcher/ports.js";
import { registerAccount, startProsody, type RunningProsody } from "../launcher/prosody.js";
import { startRedis, type RunningRedis } from "../launcher/redis.js";
import { NS } from "../protocol/names.js";

export interface ChaosOptions {
  cycles: number;
  /** Background arrivals per second. */
  arrivalsPerSecond?: number;
  /** Seconds between faults. */
  cycleSeconds?: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  cycles: number;
  faults: Record<string, number>;
  acknowledged: number;
  assigned: number;
  departedOrExpiredWithNotice: number;
  /** The customer's own connection was cut by a fault (Prosody restart) before any result: nobody left to tell. */
  droppedWithConnection: number;
  stillQueued: number;
  lost: number;
  duplicated: number;
  overCapacity: number;
  maxRecoverySeconds: number;
  recoverySeconds: Record<string, number[]>;
  /** Served customers whose seat never received the beginning message (information, not an invariant). */
  servedWithoutBegin: number;
  /** How Redis ended the sessions of customers dropped by a fault (endReason -> count, "live" if not ended). */
  droppedEndReasons: Record<string, number>;
  /** Redis sessions still live at the end whose customer had been disconnected by a fault. */
  ghostsLeftLive: number;
  lostDetails: string[];
  servedWithoutBeginDetails: string[];
  duplicatedDetails: string[];
  overCapacityDetails: string[];
  durationSeconds: number;
  componentLogs: string;
}

const COMPONENT_MAIN = fileURLToPath(new URL("../component/main.js", import.meta.url));
const CC = "cc.chaos.test";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (a: number, b: number) => a + Math.random() * (b - a);

interface Tracked {
  n: number;
  client: Client;
  jid: string;
  acked: boolean;
  assignedSeats: Set<string>;
  sessionId?: string;
  endedNotice: boolean;
  departNotice: boolean;
  dropped: boolean;
  closedByUs: boolean;
}

export async function runChaos({ cycles, arrivalsPerSecond = 8, cycleSeconds = 5, log = () => {} }: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const runDir = mkdtempSync(join(tmpdir(), "switchboard-chaos-"));
  const ports = { c2s: await freePort(), http: await freePort(), component: await freePort(), redis: await freePort(), web: await freePort() };
  const agentsCfg = Array.from({ length: 6 }, (_, i) => ({ jid: `agent${i}@chaos.test`, password: `pw${i}`, skills: ["billing"], maxChats: 2 }));
  const doc = {
    domain: "chaos.test", guestDomain: "guest.chaos.test",
    component: { domain: CC, secret: "chaos-secret" }, ports, admin: { token: "chaos-admin-token" },
    statusIntervalSeconds: 2, customerGraceSeconds: 0, rateLimit: { burst: 1000, perSecond: 1000 },
    queues: [{ name: "billing", title: "Billing", skills: ["billing"], maxWaitSeconds: 25 }],
    agents: agentsCfg, runDir,
  };
  const config: Config = validateConfig(doc, "chaos config");
  const keys = keysFor(config.redis.prefix);
  const redisDir = join(runDir, "redis");
  const logFile = join(runDir, "components.log");
  const logFd = openSync(logFile, "a");

  let redis: RunningRedis | undefined;
  let prosody: RunningProsody | undefined;
  const components: Array<{ proc: ChildProcess; webPort: number; name: string }> = [];
  const agents: Client[] = [];
  const customers: Tracked[] = [];
  const begins = new Map<string, Set<string>>(); // session -> seats that got a begin
  const faults: Record<string, number> = {};
  const recoverySeconds: Record<string, number[]> = {};
  const overCapacityDetails: string[] = [];
  let checker: Redis | undefined;
  let stopping = false;
  let customerN = 0;

  const startComponentProcess = async (name: string) => {
    const webPort = await freePort();
    const file = join(runDir, `component-${name}.json`);
    writeFileSync(file, JSON.stringify({ ...doc, ports: { ...ports, web: webPort } }));
    const proc = spawn(process.execPath, [COMPONENT_MAIN], {
      env: { ...process.env, SWITCHBOARD_CONFIG: file, SWITCHBOARD_REDIS_URL: `redis://127.0.0.1:${ports.redis}`, LOG_LEVEL: "warn" },
      stdio: ["ignore", logFd, logFd],
    });
    components.push({ proc, webPort, name });
    return proc;
  };
  const healthy = async (c: { webPort: number }) => {
    try { return (await fetch(`http://127.0.0.1:${c.webPort}/healthz`, { signal: AbortSignal.timeout(1000) })).status === 200; } catch { return false; }
  };
  const active = async () => {
    for (const c of components) if (c.proc.exitCode === null && c.proc.signalCode === null && (await healthy(c))) return c;
    return undefined;
  };

  // ---- clients ----
  const connect = async (domain: string, username?: string, password?: string, reconnect = false): Promise<Client> => {
    const c = client({
      service: `xmpp://127.0.0.1:${ports.c2s}`, domain,
      ...(username ? { credentials: (auth, mechs) => auth({ username, password }, mechs.includes("PLAIN") ? "PLAIN" : mechs[0]!) } : {}),
    });
    if (!reconnect) c.reconnect.stop();
    c.on("error", () => {});
    await c.start();
    return c;
  };
  const pendingIqs = new WeakMap<Client, Map<string, (s: Element | null) => void>>();
  const iq = (c: Client, to: string, child: Element, ms = 5000): Promise<Element | null> => {
    const id = `i${Math.random().toString(36).slice(2)}`;
    let waiting = pendingIqs.get(c);
    if (!waiting) {
      const map = new Map<string, (s: Element | null) => void>();
      pendingIqs.set(c, (waiting = map));
      c.on("stanza", (s: Element) => { if (s.is("iq")) map.get(String(s.attrs.id))?.(s); });
    }
    const map = waiting;
    return new Promise((resolve) => {
      const done = (s: Element | null) => { clearTimeout(timer); map.delete(id); resolve(s); };
      const timer = setTimeout(() => done(null), ms);
      map.set(id, done);
      c.send(xml("iq", { type: "set", to, id }, child)).catch(() => done(null));
    });
  };

  const startAgent = async (a: (typeof agentsCfg)[number], index: number) => {
    const c = await connect(config.domain, a.jid.split("@")[0]!, a.password, true);
    const endedSessions = new Set<string>();
    c.on("online", () => { c.send(xml("presence")).catch(() => {}); });
    c.on("stanza", (s: Element) => {
      if (s.is("message")) {
        const ended = s.getChild("ended", NS.SB);
        if (ended) endedSessions.add(String(ended.attrs.session));
        const begin = s.getChild("begin", NS.SB);
        if (!begin) return;
        const id = begin.attrs.session as string;
        const seats = begins.get(id) ?? new Set<string>();
        seats.add(a.jid);
        begins.set(id, seats);
        // Accept: serve a little, then end the chat (retrying through faults).
        void (async () => {
          await sleep(rand(800, 2500)); // slower than arrivals at times: a queue builds
          for (let i = 0; i < 30 && !endedSessions.has(id) && !stopping; i++) {
            const reply = c.status === "online" ? await iq(c, CC, xml("end", { xmlns: NS.SB, session: id }), 3000) : null;
            if (reply?.attrs.type === "result") return;
            const cond = reply?.getChild("error")?.getChildElements()[0]?.name;
            if (cond === "item-not-found" || cond === "forbidden") return; // already ended / no longer ours
            await sleep(1000);
          }
        })();
      }
    });
    await c.send(xml("presence"));
    agents[index] = c;
  };

  const customer = async (leave: boolean): Promise<Tracked | undefined> => {
    let c: Client;
    try { c = await connect(config.guestDomain); } catch { return undefined; }
    const t: Tracked = { n: ++customerN, client: c, jid: c.jid!.toString(), acked: false, assignedSeats: new Set(), endedNotice: false, departNotice: false, dropped: false, closedByUs: false };
    const close = () => { t.closedByUs = true; c.stop().catch(() => {}); };
    c.on("offline", () => { if (!t.closedByUs) t.dropped = true; });
    c.on("disconnect", () => { if (!t.closedByUs) t.dropped = true; });
    c.on("stanza", (s: Element) => {
      if (!s.is("message")) return;
      const assigned = s.getChild("assigned", NS.SB);
      if (assigned) {
        t.assignedSeats.add(String(assigned.attrs.seat));
        t.sessionId = assigned.attrs.session;
        c.send(xml("message", { to: assigned.attrs.seat, type: "chat" }, xml("body", {}, "hello"))).catch(() => {});
      }
      if (s.getChild("ended", NS.SB)) { t.endedNotice = true; setTimeout(close, 200); }
      if (s.getChild("depart-queue", NS.WG)) { t.departNotice = true; setTimeout(close, 200); }
    });
    const reply = await iq(c, `billing@${CC}`, xml("join-queue", { xmlns: NS.WG }, xml("queue-notifications")), 5000);
    if (reply?.attrs.type !== "result") { close(); return undefined; }
    t.acked = true;
    customers.push(t);
    if (leave) {
      setTimeout(() => {
        if (t.assignedSeats.size || t.closedByUs || t.dropped) return;
        void iq(c, `billing@${CC}`, xml("depart-queue", { xmlns: NS.WG }), 3000);
      }, rand(100, 2500));
    }
    return t;
  };

  /** Seconds from `since` until a fresh customer's join is acknowledged. */
  const recovery = async (kind: string, since: number) => {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (await customer(false)) break;
      await sleep(200);
    }
    const s = (Date.now() - since) / 1000;
    (recoverySeconds[kind] ??= []).push(Math.round(s * 100) / 100);
    log(`  ${kind}: recovered in ${s.toFixed(2)} s`);
  };

  const sampleCapacity = async () => {
    if (!checker) return;
    try {
      for (const a of agentsCfg) {
        const [active, members] = await Promise.all([checker.hget(keys.agent(a.jid), "active"), checker.scard(keys.agentSessions(a.jid))]);
        if (Number(active ?? 0) > a.maxChats || members > a.maxChats)
          overCapacityDetails.push(`${new Date().toISOString()} ${a.jid}: active=${active} sessions=${members} maxChats=${a.maxChats}`);
      }
    } catch { /* Redis restarting */ }
  };

  try {
    redis = await startRedis({ port: ports.redis, dir: redisDir, persist: true });
    prosody = await startProsody({ config, runDir, insecure: true, logLevel: "error" });
    await Promise.all(agentsCfg.map((a) => registerAccount(prosody!.configFile, a.jid, a.password)));
    checker = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
    checker.on("error", () => {});
    await startComponentProcess("a");
    await sleep(500);
    await startComponentProcess("b");
    const deadline = Date.now() + 20_000;
    while (!(await active())) { if (Date.now() > deadline) throw new Error("no component became healthy"); await sleep(200); }
    await Promise.all(agentsCfg.map(startAgent));
    await sleep(1000);

    const sampler = setInterval(() => void sampleCapacity(), 200);
    let flooding = true;
    const flood = (async () => {
      while (flooding) {
        void customer(Math.random() < 0.3);
        await sleep(1000 / arrivalsPerSecond);
      }
    })();

    let nextName = 0;
    const kinds = ["kill9-component", "prosody-restart", "redis-restart", "agent-tcp-cut", "flood", "active-handover", "redis-kill9", "overlap"] as const;
    // In the middle of assignments: a burst of joins, then the active instance goes (the caller starts a new
    // process, which becomes the standby).
    const burstThenKillActive = async (signal: "SIGKILL" | "SIGTERM") => {
      for (let k = 0; k < 8; k++) void customer(false);
      await sleep(rand(50, 400));
      const victim = await active();
      if (!victim) return;
      victim.proc.kill(signal);
      log(`  ${victim.name} (pid ${victim.proc.pid}) ${signal === "SIGKILL" ? "killed with SIGKILL" : "stopped with SIGTERM"}`);
      components.splice(components.indexOf(victim), 1);
    };
    const newComponent = () => startComponentProcess(`r${++nextName}`);
    // kill -9: no shutdown, no last fsync; what was acknowledged must be in the AOF already.
    const restartRedis = async (signal: "SIGKILL" | "SIGTERM") => {
      if (signal === "SIGKILL") { process.kill(redis!.pid, "SIGKILL"); await redis!.exited; } else await redis!.stop();
      redis = await startRedis({ port: ports.redis, dir: redisDir, persist: true });
    };
    for (let i = 0; i < cycles; i++) {
      const kind = kinds[i % kinds.length]!;
      faults[kind] = (faults[kind] ?? 0) + 1;
      log(`cycle ${i + 1}/${cycles}: ${kind}`);
      const t0 = Date.now();
      if (kind === "kill9-component" || kind === "active-handover") {
        await burstThenKillActive(kind === "kill9-component" ? "SIGKILL" : "SIGTERM");
        await newComponent();
        await recovery(kind, t0);
      } else if (kind === "prosody-restart") {
        await prosody.stop();
        prosody = await startProsody({ config, runDir, insecure: true, logLevel: "error" });
        await recovery(kind, t0);
      } else if (kind === "redis-restart" || kind === "redis-kill9") {
        await restartRedis(kind === "redis-kill9" ? "SIGKILL" : "SIGTERM");
        await recovery(kind, t0);
      } else if (kind === "overlap") {
        // Two faults at once: the active component killed in the middle of assignments, then Redis killed
        // while the standby takes over.
        await burstThenKillActive("SIGKILL");
        await Promise.all([newComponent(), sleep(rand(0, 300)).then(() => restartRedis("SIGKILL"))]);
        await recovery(kind, t0);
      } else if (kind === "agent-tcp-cut") {
        const victim = agents[Math.floor(i / kinds.length) % agents.length]!;
        // The TCP connection dies under the client: no unavailable presence is sent. xmpp.js reconnects.
        const jid = agentsCfg[Math.floor(i / kinds.length) % agents.length]!.jid;
        (victim as unknown as { socket?: { destroy(): void } | null }).socket?.destroy();
        log(`  ${jid}: TCP connection destroyed`);
        await recovery(kind, t0);
        // Recovery of the agent itself: back online and ready in Redis.
        const until = Date.now() + 30_000;
        while (Date.now() < until) {
          if (victim.status === "online" && (await checker.hget(keys.agent(jid), "state").catch(() => null)) === "ready") break;
          await sleep(100);
        }
        const s = (Date.now() - t0) / 1000;
        (recoverySeconds["agent-back-ready"] ??= []).push(Math.round(s * 100) / 100);
        log(`  ${jid} ready again after ${s.toFixed(2)} s`);
      } else {
        await Promise.all(Array.from({ length: 40 }, (_, k) => customer(k % 2 === 0)));
        await recovery(kind, t0);
      }
      await sleep(cycleSeconds * 1000);
    }

    // ---- settle ----
    flooding = false;
    await flood;
    log("faults stopped; settling");
    const settleDeadline = Date.now() + 60_000;
    await sleep(12_000); // XAUTOCLAIM picks up unacknowledged events after 10 s
    while (Date.now() < settleDeadline) {
      const open = customers.filter((t) => !t.closedByUs && !t.dropped && !t.endedNotice && !t.departNotice);
      if (open.length === 0) break;
      await sleep(500);
    }
    clearInterval(sampler);
    await sampleCapacity();
    stopping = true;

    // ---- classify ----
    const byCustomer = new Map<string, Array<Record<string, string>>>();
    let cursor = "0";
    do {
      const [next, found] = await checker.scan(cursor, "MATCH", `${config.redis.prefix}s:*`, "COUNT", "1000");
      cursor = next;
      const hashes = await Promise.all(found.map((k) => checker!.hgetall(k)));
      for (const h of hashes) if (h.customer) byCustomer.set(h.customer, [...(byCustomer.get(h.customer) ?? []), h]);
    } while (cursor !== "0");
    const queued = new Set(await checker.zrange(keys.queue("billing"), "0", "-1"));

    const report: ChaosReport = {
      cycles, faults, acknowledged: 0, assigned: 0, departedOrExpiredWithNotice: 0, droppedWithConnection: 0, stillQueued: 0,
      lost: 0, duplicated: 0, overCapacity: overCapacityDetails.length, maxRecoverySeconds: 0, recoverySeconds, servedWithoutBegin: 0, droppedEndReasons: {}, ghostsLeftLive: 0,
      lostDetails: [], servedWithoutBeginDetails: [], duplicatedDetails: [], overCapacityDetails: overCapacityDetails.slice(0, 20), durationSeconds: 0, componentLogs: logFile,
    };
    for (const t of customers) {
      report.acknowledged++;
      const sessions = byCustomer.get(t.jid) ?? [];
      const assignedSessions = sessions.filter((h) => h.assignedAt);
      const dupSeats = t.sessionId ? begins.get(t.sessionId) : undefined;
      if (t.assignedSeats.size > 1 || (dupSeats?.size ?? 0) > 1 || assignedSessions.length > 1) {
        report.duplicated++;
        report.duplicatedDetails.push(`${t.jid}: seats told ${[...t.assignedSeats]}, begins ${[...(dupSeats ?? [])]}, sessions ${sessions.map((h) => h.id)}`);
      }
      const live = sessions.find((h) => h.state !== "ended");
      if (t.assignedSeats.size) { report.assigned++; if (t.sessionId && !begins.has(t.sessionId)) {
        report.servedWithoutBegin++;
        const h = sessions.find((x) => x.id === t.sessionId);
        report.servedWithoutBeginDetails.push(`${t.jid}: session ${t.sessionId} state=${h?.state} seat=${h?.seat} endReason=${h?.endReason || "-"}; customer told ended=${t.endedNotice}, dropped=${t.dropped}`);
      } }
      else if (t.endedNotice || t.departNotice) report.departedOrExpiredWithNotice++;
      else if (live && live.state === "queued" && queued.has(live.id!) && !t.dropped && !t.closedByUs) report.stillQueued++;
      else if (t.dropped) {
        report.droppedWithConnection++;
        if (live) report.ghostsLeftLive++;
        for (const h of sessions) {
          const why = h.state === "ended" ? `${h.endReason || "?"}${h.assignedAt ? " (after being assigned)" : ""}` : "live";
          report.droppedEndReasons[why] = (report.droppedEndReasons[why] ?? 0) + 1;
        }
      }
      else {
        report.lost++;
        report.lostDetails.push(`customer #${t.n} ${t.jid}: ${sessions.length ? sessions.map((h) => `session ${h.id} state=${h.state} seat=${h.seat || "-"} endReason=${h.endReason || "-"} assignedAt=${h.assignedAt || "-"}`).join("; ") : "no session in Redis"}`);
      }
    }
    report.maxRecoverySeconds = Math.max(0, ...Object.values(recoverySeconds).flat());
    report.durationSeconds = Math.round((Date.now() - started) / 1000);
    return report;
  } finally {
    stopping = true;
    await Promise.all([...agents, ...customers.map((t) => t.client)].map((c) => (c.status !== "offline" ? c.stop().catch(() => {}) : undefined)));
    for (const c of components) c.proc.kill("SIGKILL");
    checker?.disconnect();
    await Promise.all([prosody?.stop(), redis?.stop()]);
    closeSync(logFd);
    if (!process.env.CHAOS_KEEP) rmSync(runDir, { recursive: true, force: true });
    else mkdirSync(runDir, { recursive: true });
  }
}
