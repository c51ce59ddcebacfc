/**
 * The processes of the stack under test: Redis (AOF on), Prosody and Kamailio (the soft switch), which the
 * faults restart, and the component processes (`node dist/component/main.js`, one active and the others standbys), whose output comes
 * through pipes, is scanned for crash reports and is kept in a capped components.log.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, writeFileSync, writeSync } from "node:fs";
import { get as httpGet } from "node:http";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { VoiceConfig } from "../component/config.js";
import { eachLine } from "../launcher/child.js";
import { freePort, isPortFree, isUdpPortFree } from "../launcher/ports.js";
import { startProsody, type RunningProsody } from "../launcher/prosody.js";
import { startRedis, type RunningRedis } from "../launcher/redis.js";
import { startSoftswitch, type RunningSoftswitch } from "../launcher/softswitch.js";
import type { ChaosConfig } from "./config.js";
import { errorText } from "./crashes.js";

const COMPONENT_MAIN = fileURLToPath(new URL("../component/main.js", import.meta.url));
/** The component processes' output kept in components.log at most (later lines are counted, not kept). */
const LOG_CAP_BYTES = 20 * 1048576;
/** Crash reports in a component's output: Node's for an unhandled rejection or uncaught exception, pino's fatal, V8's. */
const CRASH_LINE = /unhandled ?rejection|uncaught ?exception|node:internal\/process\/promises|triggerUncaughtException|"level":60|FATAL ERROR/i;
const LEVELS: Record<string, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

type Log = (line: string) => void;

/** A restart that failed (a port not yet free, a slow start) is tried again before the run gives up. */
async function retrying<T>(what: string, start: () => Promise<T>, log: Log): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try { return await start(); } catch (err) {
      if (attempt >= 5) throw err;
      log(`  ${what} failed (attempt ${attempt}), retrying: ${errorText(err)}`);
      await sleep(500);
    }
  }
}

/** Kamailio's output kept in softswitch.log at most (later lines are counted, not kept). */
const SWITCH_LOG_CAP_BYTES = 5 * 1048576;

/** Waits (at most 5 s) until nothing listens on the port, TCP or UDP: a killed Kamailio's workers close theirs as they die. */
async function portsReleased(port: number): Promise<void> {
  for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
    if ((await isPortFree(port)) && (await isUdpPortFree(port))) return;
    await sleep(20);
  }
}

/**
 * Redis, Prosody and Kamailio. A restart replaces the handle: read `redis`, `prosody` and `softswitch` from
 * here each time.
 */
export interface Servers {
  redis?: RunningRedis;
  prosody?: RunningProsody;
  softswitch?: RunningSoftswitch;
  redisDir: string;
  /** Kamailio's output (its own log lines: errors and warnings). */
  softswitchLog: string;
  /**
   * Lines Kamailio printed; bytes of them kept in softswitch.log; lines not kept; starts; its CRITICAL lines
   * (Kamailio's own bug reports, such as a double free while stopping: reported, not counted as crashes).
   */
  softswitchStats: { lines: number; bytes: number; dropped: number; started: number; critical: number; criticalDetails: string[] };
  start(): Promise<void>;
  restartRedis(signal: "SIGKILL" | "SIGTERM"): Promise<void>;
  restartProsody(): Promise<void>;
  /**
   * Kamailio stopped (SIGKILL to its whole process group, as a crash takes the main process and its workers
   * at once; or SIGTERM, a clean stop) and started again on the same ports, config and Redis.
   */
  restartSoftswitch(signal: "SIGKILL" | "SIGTERM", onGone?: () => void): Promise<void>;
  stop(): Promise<void>;
  closeLog(): void;
}

export function serverProcesses({ config, runDir, redisPort, log, recordCrash }: {
  config: VoiceConfig; runDir: string; redisPort: number; log: Log; recordCrash: (what: string) => void;
}): Servers {
  const redisDir = join(runDir, "redis");
  const startRedisHere = () => startRedis({ port: redisPort, dir: redisDir, persist: true });
  const startProsodyHere = () => startProsody({ config, runDir, insecure: true, logLevel: "error" });
  const softswitchLog = join(runDir, "softswitch.log");
  const switchLogFd = openSync(softswitchLog, "a");
  const switchStats = { lines: 0, bytes: 0, dropped: 0, started: 0, critical: 0, criticalDetails: [] as string[] };
  const switchLine = (l: string) => {
    if (!l) return;
    switchStats.lines++;
    // (Its TCP main process's "receive_fd(): EOF" as the workers go is how every stop ends: not counted.)
    if (/CRITICAL|ALERT|BUG:|segfault/.test(l) && !/receive_fd\(\): EOF/.test(l)) {
      switchStats.critical++;
      if (switchStats.criticalDetails.length < 20) switchStats.criticalDetails.push(`${new Date().toISOString()} ${l.slice(0, 400)}`);
      log(`  kamailio: ${l.slice(0, 300)}`);
    }
    const text = `${new Date().toISOString()} ${l}\n`;
    if (switchStats.bytes + text.length > SWITCH_LOG_CAP_BYTES) { switchStats.dropped++; return; }
    switchStats.bytes += text.length;
    writeSync(switchLogFd, text);
  };
  /** Kamailio going away without being told to is a crash of the run's stack. */
  let switchExpected = false;
  const startSwitchHere = async () => {
    const sw = await startSoftswitch({ config, runDir, redisHost: "127.0.0.1", redisPort, onLine: switchLine });
    switchStats.started++;
    switchExpected = false;
    void sw.exited.then((exit) => {
      if (!switchExpected && s.softswitch === sw) recordCrash(`kamailio (pid ${sw.pid}) exited unasked: ${exit.signal ?? `code ${exit.code}`}`);
    });
    return sw;
  };
  const s: Servers = {
    redisDir, softswitchLog, softswitchStats: switchStats,
    async start() {
      s.redis = await startRedisHere();
      s.prosody = await startProsodyHere();
      s.softswitch = await startSwitchHere();
    },
    async restartSoftswitch(signal, onGone) {
      const old = s.softswitch!;
      switchExpected = true;
      if (signal === "SIGKILL") { process.kill(-old.pid, "SIGKILL"); await old.exited; } else await old.stop();
      onGone?.();
      await portsReleased(config.ports.sip);
      s.softswitch = await retrying("Kamailio start", startSwitchHere, log);
    },
    // kill -9: no shutdown, no last fsync; what was acknowledged must be in the AOF already.
    async restartRedis(signal) {
      if (signal === "SIGKILL") { process.kill(s.redis!.pid, "SIGKILL"); await s.redis!.exited; } else await s.redis!.stop();
      s.redis = await retrying("Redis start", startRedisHere, log);
    },
    async restartProsody() {
      await s.prosody!.stop();
      s.prosody = await retrying("Prosody start", startProsodyHere, log);
    },
    async stop() {
      switchExpected = true;
      await s.softswitch?.stop();
      await Promise.all([s.prosody?.stop(), s.redis?.stop()]);
    },
    closeLog: () => closeSync(switchLogFd),
  };
  return s;
}

export interface Component { proc: ChildProcess; webPort: number; name: string; expected?: NodeJS.Signals }

export const running = (c: Component) => c.proc.exitCode === null && c.proc.signalCode === null;

export interface Components {
  /** The processes of the run, less those a fault retired. */
  list: Component[];
  logFile: string;
  /** Processes started; lines printed by pino level name (or "other"); bytes kept in the log; lines not kept. */
  stats: { started: number; logLines: Record<string, number>; logBytes: number; logDropped: number };
  start(name: string): Promise<Component>;
  /** Stops a process with `signal`, which its exit is then expected to answer (not a crash). */
  stop(c: Component, signal: NodeJS.Signals): void;
  /** Stops it and takes it off the list (a new process replaces it). */
  retire(c: Component, signal: NodeJS.Signals): void;
  /** The one whose /healthz answers 200. */
  active(): Promise<Component | undefined>;
  awaitActive(timeoutMs: number): Promise<void>;
  killAll(): Promise<void>;
  closeLog(): void;
}

export function componentProcesses({ runDir, doc, ports, recordCrash }: Pick<ChaosConfig, "doc" | "ports"> & { runDir: string; recordCrash: (what: string) => void }): Components {
  const list: Component[] = [];
  const stats = { started: 0, logLines: {} as Record<string, number>, logBytes: 0, logDropped: 0 };
  const logFile = join(runDir, "components.log");
  const logFd = openSync(logFile, "a");

  const line = (name: string, l: string) => {
    if (!l) return;
    const level = LEVELS[/^\{"level":(\d+)/.exec(l)?.[1] ?? ""] ?? "other";
    stats.logLines[level] = (stats.logLines[level] ?? 0) + 1;
    if (CRASH_LINE.test(l)) recordCrash(`component ${name}: ${l.slice(0, 400)}`);
    const text = `[${name}] ${l}\n`;
    if (stats.logBytes + text.length > LOG_CAP_BYTES) { stats.logDropped++; return; }
    stats.logBytes += text.length;
    writeSync(logFd, text);
  };
  const start = async (name: string) => {
    const webPort = await freePort();
    const file = join(runDir, `component-${name}.json`);
    writeFileSync(file, JSON.stringify({ ...doc, ports: { ...ports, web: webPort } }));
    const proc = spawn(process.execPath, [COMPONENT_MAIN], {
      env: { ...process.env, SWITCHBOARD_CONFIG: file, SWITCHBOARD_REDIS_URL: `redis://127.0.0.1:${ports.redis}`, LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    stats.started++;
    const c: Component = { proc, webPort, name };
    for (const stream of [proc.stdout!, proc.stderr!]) eachLine(stream, (l) => line(name, l)); // a killed process's pipe errors are ignored
    proc.on("error", (err) => recordCrash(`component ${name}: cannot run: ${err.message}`));
    proc.on("exit", (code, signal) => {
      // Told to go: SIGKILL, or SIGTERM answered by a clean stop (exit code 0).
      if (c.expected === "SIGKILL" && signal === "SIGKILL") return;
      if (c.expected === "SIGTERM" && code === 0) return;
      recordCrash(`component ${name} (pid ${proc.pid}) exited ${signal ? `on ${signal}` : `with code ${code}`}${c.expected ? ` after ${c.expected}` : " unasked"}`);
    });
    list.push(c);
    return c;
  };
  const stop = (c: Component, signal: NodeJS.Signals) => {
    c.expected = signal;
    c.proc.kill(signal);
  };
  // Plain http.get without an agent, not fetch: fetch's global dispatcher keeps some state per origin, and every
  // component process has its own port: ~32 KB of heap per process, 12 MB over a 1,000-cycle run.
  const healthy = (c: Component) => new Promise<boolean>((resolve) => {
    const req = httpGet({ host: "127.0.0.1", port: c.webPort, path: "/healthz", agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(false));
  });
  const active = async () => {
    for (const c of list) if (running(c) && (await healthy(c))) return c;
    return undefined;
  };
  return {
    list, logFile, stats, start, stop, active,
    retire(c, signal) {
      stop(c, signal);
      list.splice(list.indexOf(c), 1);
    },
    async awaitActive(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!(await active())) { if (Date.now() > deadline) throw new Error("no component became healthy"); await sleep(200); }
    },
    async killAll() {
      for (const c of list) stop(c, "SIGKILL");
      await Promise.all(list.map((c) => (running(c) ? new Promise((r) => c.proc.once("exit", r)) : undefined)));
    },
    closeLog: () => closeSync(logFd),
  };
}
