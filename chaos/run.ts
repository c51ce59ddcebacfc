/**
 * Fault injection with an invariant checker, against a real stack on free ports: Redis (AOF on),
 * Prosody, and two component processes (`node dist/component/main.js`, one active, one standby).
 * Real XMPP agents accept and end chats; real anonymous customers join, some leave. Faults are
 * injected in cycles; at the end every customer whose join was acknowledged is classified from
 * Redis and from the stanzas it received. Used by `npm run chaos` and by test/integration/chaos.test.ts.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { get as httpGet } from "node:http";
import { tmpdir } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
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
import { startEntity } from "../component/xmpp/start-entity.js";

export interface ChaosOptions {
  cycles: number;
  /** Background arrivals per second. */
  arrivalsPerSecond?: number;
  /** Seconds between one fault's recovery and the next fault (default 1.5; the recovery itself is waited for first). */
  cycleSeconds?: number;
  /**
   * Every this many cycles, customers gone for 30 s whose Redis sessions have all ended are classified and
   * their records dropped, so a long run keeps a bounded number (default 50).
   */
  foldEvery?: number;
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
  /**
   * Unhandled rejections and uncaught exceptions in the runner, component processes that exited without
   * being told to, and crash reports in their output (an invariant: 0).
   */
  crashes: number;
  crashDetails: string[];
  maxRecoverySeconds: number;
  recoverySeconds: Record<string, number[]>;
  /** Per fault kind: how many, median, 90th percentile and worst recovery (s). */
  recoverySummary: Record<string, { n: number; p50: number; p90: number; max: number }>;
  /** Customers classified (and dropped from memory) during the run rather than at the end. */
  classifiedDuringRun: number;
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
  /** Component processes started during the run (two at the start, one per kill or handover). */
  componentProcesses: number;
  /** Lines the component processes printed, by pino level name (warn, error, fatal) or "other" (not JSON). */
  componentLogLines: Record<string, number>;
  /** Resource figures at the start, every 100 cycles and at the end (to see nothing grows without bound). */
  resources: ResourceSample[];
  componentLogs: string;
}

export interface ResourceSample {
  cycle: number;
  seconds: number;
  runnerRssMB: number;
  runnerHeapMB: number;
  runnerFds: number;
  /** Customers with a live XMPP client in the runner. */
  connectedCustomers: number;
  /** Acknowledged customers tracked for the final check (a compact record each; the client is dropped when closed). */
  trackedCustomers: number;
  redisUsedMB: number | null;
  redisKeys: number | null;
  /** Entries in the event stream (XADD MAXLEN ~ 100000 caps it). */
  eventStreamLength: number | null;
  /** Consumers in the notifier's group: one per component process that ever read (none is ever deleted). */
  eventConsumers: number | null;
  /** Redis's append-only files on disk (rewritten by Redis when they double, from 64 MB). */
  redisAofMB: number;
  prosodyRssMB: number | null;
  componentRssMB: number[];
  componentLogMB: number;
}

const COMPONENT_MAIN = fileURLToPath(new URL("../component/main.js", import.meta.url));
const CC = "cc.chaos.test";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (a: number, b: number) => a + Math.random() * (b - a);
const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
/** The component processes' output kept in components.log at most (later lines are counted, not kept). */
const LOG_CAP_BYTES = 20 * 1048576;
/** Crash reports in a component's output: Node's for an unhandled rejection or uncaught exception, pino's fatal, V8's. */
const CRASH_LINE = /unhandled ?rejection|uncaught ?exception|node:internal\/process\/promises|triggerUncaughtException|"level":60|FATAL ERROR/i;
const LEVELS: Record<string, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

/**
 * A compact record per acknowledged customer: the XMPP client is dropped as soon as it is closed, so a
 * 1,000-cycle run keeps only a few hundred live clients and these small records.
 */
interface Tracked {
  n: number;
  client?: Client;
  jid: string;
  /** Seats the customer was told (more than one is a duplicate). */
  seats: string[];
  sessionId?: string;
  endedNotice: boolean;
  departNotice: boolean;
  dropped: boolean;
  closedByUs: boolean;
  /** When the client was let go (closed by us or dropped by a fault). */
  releasedAt?: number;
}

/** A full garbage collection before each resource sample, so the heap figure is what is really kept. */
const collectGarbage: () => void = (() => {
  try {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return () => undefined;
  }
})();

const errorText = (err: unknown) => (err instanceof Error ? (err.stack ?? err.message) : String(err)).split("\n").slice(0, 6).join(" | ");

export async function runChaos({ cycles, arrivalsPerSecond = 8, cycleSeconds = 1.5, foldEvery = 50, log = () => {} }: ChaosOptions): Promise<ChaosReport> {
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

  // ---- crashes: recorded, and they fail the run ----
  const crashDetails: string[] = [];
  const crash = (what: string) => {
    if (crashDetails.length < 200) crashDetails.push(`${new Date().toISOString()} ${what}`);
    else crashDetails[199] = `... and more (the last: ${what})`;
    log(`  CRASH: ${what}`);
  };
  let crashCount = 0;
  const recordCrash = (what: string) => { crashCount++; crash(what); };
  const onRejection = (reason: unknown) => recordCrash(`runner: unhandled rejection: ${errorText(reason)}`);
  const onException = (err: unknown) => recordCrash(`runner: uncaught exception: ${errorText(err)}`);
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onException);
  /** A task nobody awaits: its failure is a bug of the runner, recorded as a crash. */
  const background = (p: Promise<unknown>, what: string) => void p.catch((err) => recordCrash(`runner: ${what} failed: ${errorText(err)}`));

  let redis: RunningRedis | undefined;
  let prosody: RunningProsody | undefined;
  interface Component { proc: ChildProcess; webPort: number; name: string; expected?: NodeJS.Signals }
  const components: Component[] = [];
  const agents: Client[] = [];
  const customers: Tracked[] = [];
  const begins = new Map<string, string>(); // session -> the seat that got its beginning message
  const beginConflicts = new Map<string, Set<string>>(); // session -> seats, when more than one got it
  const faults: Record<string, number> = {};
  const recoverySeconds: Record<string, number[]> = {};
  const overCapacityDetails: string[] = [];
  let overCapacity = 0;
  const resources: ResourceSample[] = [];
  const componentLogLines: Record<string, number> = {};
  let logBytes = 0;
  let logDropped = 0;
  let componentProcesses = 0;
  let checker: Redis | undefined;
  let stopping = false;
  let customerN = 0;

  const componentLine = (name: string, line: string) => {
    if (!line) return;
    const level = LEVELS[/^\{"level":(\d+)/.exec(line)?.[1] ?? ""] ?? "other";
    componentLogLines[level] = (componentLogLines[level] ?? 0) + 1;
    if (CRASH_LINE.test(line)) recordCrash(`component ${name}: ${line.slice(0, 400)}`);
    const text = `[${name}] ${line}\n`;
    if (logBytes + text.length > LOG_CAP_BYTES) { logDropped++; return; }
    logBytes += text.length;
    writeSync(logFd, text);
  };
  const startComponentProcess = async (name: string) => {
    const webPort = await freePort();
    const file = join(runDir, `component-${name}.json`);
    writeFileSync(file, JSON.stringify({ ...doc, ports: { ...ports, web: webPort } }));
    const proc = spawn(process.execPath, [COMPONENT_MAIN], {
      env: { ...process.env, SWITCHBOARD_CONFIG: file, SWITCHBOARD_REDIS_URL: `redis://127.0.0.1:${ports.redis}`, LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    componentProcesses++;
    const c: Component = { proc, webPort, name };
    for (const stream of [proc.stdout!, proc.stderr!]) {
      let partial = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        const lines = (partial + chunk).split("\n");
        partial = lines.pop() ?? "";
        for (const l of lines) componentLine(name, l);
      });
      stream.on("end", () => componentLine(name, partial));
      stream.on("error", () => undefined); // the pipe of a killed process
    }
    proc.on("error", (err) => recordCrash(`component ${name}: cannot run: ${err.message}`));
    proc.on("exit", (code, signal) => {
      // Told to go: SIGKILL, or SIGTERM answered by a clean stop (exit code 0).
      if (c.expected === "SIGKILL" && signal === "SIGKILL") return;
      if (c.expected === "SIGTERM" && code === 0) return;
      recordCrash(`component ${name} (pid ${proc.pid}) exited ${signal ? `on ${signal}` : `with code ${code}`}${c.expected ? ` after ${c.expected}` : " unasked"}`);
    });
    components.push(c);
    return proc;
  };
  const stopComponent = (c: Component, signal: NodeJS.Signals) => {
    c.expected = signal;
    c.proc.kill(signal);
  };
  // Plain http.get without an agent, not fetch: fetch's global dispatcher keeps some state per origin, and every
  // component process has its own port: ~32 KB of heap per process, 12 MB over a 1,000-cycle run.
  const healthy = (c: { webPort: number }) => new Promise<boolean>((resolve) => {
    const req = httpGet({ host: "127.0.0.1", port: c.webPort, path: "/healthz", agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(false));
  });
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
    c.on("error", () => {}); // a lost connection is an event: "disconnect"/"offline" below
    try {
      await startEntity(c);
    } catch (err) {
      c.reconnect.stop();
      (c as unknown as { socket?: { destroy(): void } | null }).socket?.destroy();
      c.stop().catch(() => {});
      throw err;
    }
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
    const serving = new Set<string>(); // sessions this agent is serving (their end loops run)
    const endedSessions = new Set<string>(); // of those, the ones the CTI has ended meanwhile
    c.on("online", () => { c.send(xml("presence")).catch(() => {}); });
    c.on("stanza", (s: Element) => {
      if (s.is("message")) {
        const ended = s.getChild("ended", NS.SB);
        if (ended && serving.has(String(ended.attrs.session))) endedSessions.add(String(ended.attrs.session));
        const begin = s.getChild("begin", NS.SB);
        if (!begin) return;
        const id = begin.attrs.session as string;
        const first = begins.get(id);
        if (first === undefined) begins.set(id, a.jid);
        else if (first !== a.jid) beginConflicts.set(id, new Set([...(beginConflicts.get(id) ?? [first]), a.jid]));
        if (serving.has(id)) return; // a repeated begin (re-grant, at-least-once outbox): already serving
        serving.add(id);
        // Accept: serve a little, then end the chat (retrying through faults).
        background((async () => {
          await sleep(rand(800, 2500)); // slower than arrivals at times: a queue builds
          try {
            for (let i = 0; i < 30 && !endedSessions.has(id) && !stopping; i++) {
              const reply = c.status === "online" ? await iq(c, CC, xml("end", { xmlns: NS.SB, session: id }), 3000) : null;
              if (reply?.attrs.type === "result") return;
              const cond = reply?.getChild("error")?.getChildElements()[0]?.name;
              if (cond === "item-not-found" || cond === "forbidden") return; // already ended / no longer ours
              await sleep(1000);
            }
          } finally {
            serving.delete(id);
            endedSessions.delete(id);
          }
        })(), `${a.jid} ending session ${id}`);
      }
    });
    await c.send(xml("presence"));
    agents[index] = c;
  };

  const customer = async (leave: boolean): Promise<Tracked | undefined> => {
    let c: Client;
    try { c = await connect(config.guestDomain); } catch { return undefined; }
    const t: Tracked = { n: ++customerN, client: c, jid: c.jid!.toString(), seats: [], endedNotice: false, departNotice: false, dropped: false, closedByUs: false };
    /** Lets the client go (closing it if still connected): only the record stays. */
    const release = () => {
      if (!t.client) return;
      t.client = undefined;
      t.releasedAt = Date.now();
      c.stop().catch(() => {});
    };
    const close = () => { t.closedByUs = true; release(); };
    const gone = () => { if (!t.closedByUs) { t.dropped = true; release(); } };
    c.on("offline", gone);
    c.on("disconnect", gone);
    c.on("stanza", (s: Element) => {
      if (!s.is("message")) return;
      const assigned = s.getChild("assigned", NS.SB);
      if (assigned) {
        const seat = String(assigned.attrs.seat);
        if (!t.seats.includes(seat)) t.seats.push(seat);
        t.sessionId = assigned.attrs.session;
        c.send(xml("message", { to: assigned.attrs.seat, type: "chat" }, xml("body", {}, "hello"))).catch(() => {});
      }
      if (s.getChild("ended", NS.SB)) { t.endedNotice = true; setTimeout(close, 200); }
      if (s.getChild("depart-queue", NS.WG)) { t.departNotice = true; setTimeout(close, 200); }
    });
    const reply = await iq(c, `billing@${CC}`, xml("join-queue", { xmlns: NS.WG }, xml("queue-notifications")), 5000);
    if (reply?.attrs.type !== "result") { close(); return undefined; }
    customers.push(t);
    if (leave) {
      setTimeout(() => {
        if (t.seats.length || t.closedByUs || t.dropped) return;
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
        if (Number(active ?? 0) > a.maxChats || members > a.maxChats) {
          overCapacity++;
          if (overCapacityDetails.length < 100) overCapacityDetails.push(`${new Date().toISOString()} ${a.jid}: active=${active} sessions=${members} maxChats=${a.maxChats}`);
        }
      }
    } catch { /* Redis restarting */ }
  };

  // ---- classification (during the run for customers long gone, at the end for the rest) ----
  const counts = {
    acknowledged: 0, assigned: 0, departedOrExpiredWithNotice: 0, droppedWithConnection: 0, stillQueued: 0, lost: 0, duplicated: 0,
    servedWithoutBegin: 0, ghostsLeftLive: 0, classifiedDuringRun: 0, droppedEndReasons: {} as Record<string, number>,
    lostDetails: [] as string[], servedWithoutBeginDetails: [] as string[], duplicatedDetails: [] as string[],
  };
  const detail = (list: string[], line: string) => { if (list.length < 100) list.push(line); };
  /** Session hashes by customer JID, for the customers in `jids`. */
  const readSessions = async (jids: Set<string>) => {
    const byCustomer = new Map<string, Array<Record<string, string>>>();
    let cursor = "0";
    do {
      const [next, found] = await checker!.scan(cursor, "MATCH", `${config.redis.prefix}s:*`, "COUNT", "1000");
      cursor = next;
      const owners = await Promise.all(found.map((k) => checker!.hget(k, "customer")));
      const mine = found.filter((_, i) => jids.has(owners[i] ?? ""));
      const hashes = await Promise.all(mine.map((k) => checker!.hgetall(k)));
      for (const h of hashes) if (h.customer) byCustomer.set(h.customer, [...(byCustomer.get(h.customer) ?? []), h]);
    } while (cursor !== "0");
    return byCustomer;
  };
  const classify = (t: Tracked, sessions: Array<Record<string, string>>, queued: Set<string>) => {
    counts.acknowledged++;
    const assignedSessions = sessions.filter((h) => h.assignedAt);
    const conflict = t.sessionId ? beginConflicts.get(t.sessionId) : undefined;
    if (t.seats.length > 1 || conflict || assignedSessions.length > 1) {
      counts.duplicated++;
      detail(counts.duplicatedDetails, `${t.jid}: seats told ${t.seats}, begins ${[...(conflict ?? [])]}, sessions ${sessions.map((h) => h.id)}`);
    }
    const live = sessions.find((h) => h.state !== "ended");
    if (t.seats.length) {
      counts.assigned++;
      if (t.sessionId && !begins.has(t.sessionId)) {
        counts.servedWithoutBegin++;
        const h = sessions.find((x) => x.id === t.sessionId);
        detail(counts.servedWithoutBeginDetails, `${t.jid}: session ${t.sessionId} state=${h?.state} seat=${h?.seat} endReason=${h?.endReason || "-"}; customer told ended=${t.endedNotice}, dropped=${t.dropped}`);
      }
    } else if (t.endedNotice || t.departNotice) counts.departedOrExpiredWithNotice++;
    else if (live && live.state === "queued" && queued.has(live.id!) && !t.dropped && !t.closedByUs) counts.stillQueued++;
    else if (t.dropped) {
      counts.droppedWithConnection++;
      if (live) counts.ghostsLeftLive++;
      for (const h of sessions) {
        const why = h.state === "ended" ? `${h.endReason || "?"}${h.assignedAt ? " (after being assigned)" : ""}` : "live";
        counts.droppedEndReasons[why] = (counts.droppedEndReasons[why] ?? 0) + 1;
      }
    } else {
      counts.lost++;
      detail(counts.lostDetails, `customer #${t.n} ${t.jid}: ${sessions.length ? sessions.map((h) => `session ${h.id} state=${h.state} seat=${h.seat || "-"} endReason=${h.endReason || "-"} assignedAt=${h.assignedAt || "-"}`).join("; ") : "no session in Redis"}`);
    }
  };
  /**
   * Classifies the customers whose client was let go over 30 s ago and whose Redis sessions have all ended:
   * nothing can change for them any more (a new session needs a join from their JID, which is gone; a begin
   * is only ever re-sent for a live session). Their records are dropped; the others wait for the next fold.
   */
  const fold = async () => {
    const now = Date.now();
    const ready = new Set(customers.filter((t) => !t.client && t.releasedAt !== undefined && now - t.releasedAt > 30_000).map((t) => t.jid));
    if (!ready.size) return;
    let byCustomer: Map<string, Array<Record<string, string>>>;
    try { byCustomer = await readSessions(ready); } catch { return; } // Redis restarting: at the next fold
    const keep: Tracked[] = [];
    for (const t of customers) {
      const sessions = ready.has(t.jid) ? (byCustomer.get(t.jid) ?? []) : undefined;
      if (!sessions || sessions.some((h) => h.state !== "ended")) { keep.push(t); continue; }
      classify(t, sessions, new Set());
      counts.classifiedDuringRun++;
      if (t.sessionId) { begins.delete(t.sessionId); beginConflicts.delete(t.sessionId); }
    }
    customers.length = 0;
    for (const t of keep) customers.push(t);
  };

  const rssMB = (pid: number | undefined) => {
    try { return mb(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024); } catch { return null; }
  };
  const sampleResources = async (cycle: number) => {
    collectGarbage();
    const mem = process.memoryUsage();
    let fds = -1;
    try { fds = readdirSync("/proc/self/fd").length; } catch { /* not Linux */ }
    const [info, dbsize, xlen, groups] = await Promise.all([
      checker?.info("memory").catch(() => null), checker?.dbsize().catch(() => null), checker?.xlen(keys.events()).catch(() => null),
      checker?.xinfo("GROUPS", keys.events()).catch(() => null) as Promise<unknown[][] | null | undefined>,
    ]);
    const group = groups?.find((g) => g[1] === "notifier");
    let aof = 0;
    const du = (dir: string) => { try { for (const e of readdirSync(dir, { withFileTypes: true })) { const f = join(dir, e.name); if (e.isDirectory()) du(f); else aof += statSync(f).size; } } catch { /* restarting */ } };
    du(redisDir);
    const used = info ? /used_memory:(\d+)/.exec(info)?.[1] : undefined;
    const sample: ResourceSample = {
      cycle, seconds: Math.round((Date.now() - started) / 1000),
      runnerRssMB: mb(mem.rss), runnerHeapMB: mb(mem.heapUsed), runnerFds: fds,
      connectedCustomers: customers.filter((t) => t.client).length, trackedCustomers: customers.length,
      redisUsedMB: used ? mb(Number(used)) : null, redisKeys: dbsize ?? null, eventStreamLength: xlen ?? null,
      eventConsumers: group ? Number(group[group.indexOf("consumers") + 1]) : null, redisAofMB: mb(aof),
      prosodyRssMB: rssMB(prosody?.pid),
      componentRssMB: components.filter((c) => c.proc.exitCode === null && c.proc.signalCode === null).map((c) => rssMB(c.proc.pid) ?? 0),
      componentLogMB: mb(logBytes),
    };
    resources.push(sample);
    log(`  resources at cycle ${cycle}: runner ${sample.runnerRssMB} MB rss, ${sample.runnerHeapMB} MB heap, ${fds} fds; ` +
      `${sample.connectedCustomers} connected / ${sample.trackedCustomers} tracked customers; Redis ${sample.redisUsedMB} MB, ${sample.redisKeys} keys, ` +
      `${sample.eventStreamLength} events, ${sample.eventConsumers} consumers, AOF ${sample.redisAofMB} MB; Prosody ${sample.prosodyRssMB} MB; components ${sample.componentRssMB.join(", ")} MB; log ${sample.componentLogMB} MB`);
  };

  /** A restart that failed (a port not yet free, a slow start) is tried again before the run gives up. */
  const retrying = async <T>(what: string, start: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try { return await start(); } catch (err) {
        if (attempt >= 5) throw err;
        log(`  ${what} failed (attempt ${attempt}), retrying: ${errorText(err)}`);
        await sleep(500);
      }
    }
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
    await sampleResources(0);

    const sampler = setInterval(() => void sampleCapacity(), 200);
    let flooding = true;
    const flood = (async () => {
      while (flooding) {
        background(customer(Math.random() < 0.3), "a customer");
        await sleep(1000 / arrivalsPerSecond);
      }
    })();

    let nextName = 0;
    const kinds = ["kill9-component", "prosody-restart", "redis-restart", "agent-tcp-cut", "flood", "active-handover", "redis-kill9", "overlap"] as const;
    // In the middle of assignments: a burst of joins, then the active instance goes (the caller starts a new
    // process, which becomes the standby).
    const burstThenKillActive = async (signal: "SIGKILL" | "SIGTERM") => {
      for (let k = 0; k < 8; k++) background(customer(false), "a burst customer");
      await sleep(rand(50, 400));
      const victim = await active();
      if (!victim) return;
      stopComponent(victim, signal);
      log(`  ${victim.name} (pid ${victim.proc.pid}) ${signal === "SIGKILL" ? "killed with SIGKILL" : "stopped with SIGTERM"}`);
      components.splice(components.indexOf(victim), 1);
    };
    const newComponent = () => startComponentProcess(`r${++nextName}`);
    // kill -9: no shutdown, no last fsync; what was acknowledged must be in the AOF already.
    const restartRedis = async (signal: "SIGKILL" | "SIGTERM") => {
      if (signal === "SIGKILL") { process.kill(redis!.pid, "SIGKILL"); await redis!.exited; } else await redis!.stop();
      redis = await retrying("Redis start", () => startRedis({ port: ports.redis, dir: redisDir, persist: true }));
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
        prosody = await retrying("Prosody start", () => startProsody({ config, runDir, insecure: true, logLevel: "error" }));
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
      if ((i + 1) % foldEvery === 0) await fold();
      if ((i + 1) % 100 === 0 && i + 1 < cycles) await sampleResources(i + 1);
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
    await sampleResources(cycles);
    stopping = true;

    // ---- classify ----
    const byCustomer = await readSessions(new Set(customers.map((t) => t.jid)));
    const queued = new Set(await checker.zrange(keys.queue("billing"), "0", "-1"));
    for (const t of customers) classify(t, byCustomer.get(t.jid) ?? [], queued);

    const report: ChaosReport = {
      cycles, faults, ...counts, overCapacity, crashes: 0, crashDetails: [],
      maxRecoverySeconds: 0, recoverySeconds, recoverySummary: {},
      overCapacityDetails: overCapacityDetails.slice(0, 20), durationSeconds: 0,
      componentProcesses, componentLogLines, resources, componentLogs: logFile,
    };
    for (const [kind, values] of Object.entries(recoverySeconds)) {
      const sorted = [...values].sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
      report.recoverySummary[kind] = { n: sorted.length, p50: at(0.5), p90: at(0.9), max: sorted[sorted.length - 1]! };
    }
    report.maxRecoverySeconds = Math.max(0, ...Object.values(recoverySeconds).flat());
    if (logDropped) componentLogLines.notKeptInLog = logDropped;
    // Give the components' last output (a crash report) a moment to arrive before counting.
    await sleep(200);
    report.crashes = crashCount;
    report.crashDetails = [...crashDetails];
    report.durationSeconds = Math.round((Date.now() - started) / 1000);
    return report;
  } finally {
    stopping = true;
    await Promise.all([...agents, ...customers.map((t) => t.client)].map((c) => (c && c.status !== "offline" ? c.stop().catch(() => {}) : undefined)));
    for (const c of components) stopComponent(c, "SIGKILL");
    await Promise.all(components.map((c) => (c.proc.exitCode === null && c.proc.signalCode === null ? new Promise((r) => c.proc.once("exit", r)) : undefined)));
    checker?.disconnect();
    await Promise.all([prosody?.stop(), redis?.stop()]);
    closeSync(logFd);
    process.off("unhandledRejection", onRejection);
    process.off("uncaughtException", onException);
    if (!process.env.CHAOS_KEEP) rmSync(runDir, { recursive: true, force: true });
    else mkdirSync(runDir, { recursive: true });
  }
}
