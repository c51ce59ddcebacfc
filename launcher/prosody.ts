/** Prosody from our own config, in the foreground, as a child of the launcher. */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { filesBaseUrl, uploadDomainOf, type Config } from "../component/config.js";
import { spawnChild, type ChildExit } from "./child.js";
import { assertPortsFree, waitForPorts } from "./ports.js";

const run = promisify(execFile);

/** The repo's prosody/ folder (template and plugins); this file runs as dist/launcher/prosody.js. */
export const PROSODY_DIR = fileURLToPath(new URL("../../prosody/", import.meta.url));
const TEMPLATE = join(PROSODY_DIR, "prosody.cfg.lua.in");

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface ProsodyOptions {
  runDir: string;
  /** Plain TCP only, PLAIN allowed (tests); otherwise STARTTLS is offered and PLAIN needs it. */
  insecure: boolean;
  logLevel: LogLevel;
  /** Addresses to listen on; loopback by default. A container passes ["*"] (every IPv4 interface). */
  interfaces?: string[];
  /** More XEP-0114 components (the bench's load generator: thousands of customers on one connection). */
  extraComponents?: Array<{ domain: string; secret: string }>;
}

/**
 * Debian's libjemalloc2, where it is installed (launcher/ensure-deps.sh installs it). With glibc's malloc,
 * Prosody stopped for 20-30 ms every few hundred milliseconds under load, freeing what its garbage
 * collector had swept (`malloc_consolidate` under `perf`), and every stanza in flight waited: most of the
 * surge's join p99 (docs/benchmarks.md). Preloading another allocator changes Prosody's environment, not
 * Prosody.
 */
const JEMALLOC = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"]
  .map((dir) => join(dir, "libjemalloc.so.2")).find((path) => existsSync(path)) ?? null;

/** Prosody's environment: ours, with jemalloc preloaded when it is there. */
export function prosodyEnv(env: NodeJS.ProcessEnv = process.env, jemalloc: string | null = JEMALLOC): NodeJS.ProcessEnv {
  if (!jemalloc) return env;
  return { ...env, LD_PRELOAD: [jemalloc, env.LD_PRELOAD].filter(Boolean).join(" ") };
}

type LuaValue = string | number | boolean | string[];

/** A Lua string literal; control characters as \ddd so nothing can break out. */
function luaString(s: string): string {
  return `"${s.replace(/[\\"\x00-\x1f\x7f]/g, (c) => (c === "\\" || c === '"' ? `\\${c}` : `\\${c.charCodeAt(0).toString().padStart(3, "0")}`))}"`;
}

function luaLiteral(v: LuaValue): string {
  if (Array.isArray(v)) return `{ ${v.map(luaString).join(", ")} }`;
  return typeof v === "string" ? luaString(v) : String(v);
}

let template: string | undefined;

/** The Prosody config for `config`: every {{name}} in the template becomes a Lua literal. */
export function renderProsodyConfig(config: Config, { runDir, insecure, logLevel, interfaces, extraComponents = [] }: ProsodyOptions): string {
  const dir = resolve(runDir);
  const exampleQueue = config.queues.find((q) => q.allowGuests) ?? config.queues[0]!;
  const values: Record<string, LuaValue> = {
    pidfile: join(dir, "prosody.pid"),
    dataPath: join(dir, "data"),
    certificates: join(dir, "certs"),
    pluginPath: PROSODY_DIR,
    logLevel,
    c2sPort: config.ports.c2s,
    componentPort: config.ports.component,
    httpPort: config.ports.http,
    interfaces: interfaces ?? ["127.0.0.1", "::1"],
    componentInterfaces: interfaces ?? ["127.0.0.1"],
    domain: config.domain,
    guestDomain: config.guestDomain,
    componentDomain: config.component.domain,
    componentSecret: config.component.secret,
    seats: config.agents.map((a) => a.jid),
    staff: config.supervisors.map((s) => s.jid),
    exampleQueue: `${exampleQueue.name}@${config.component.domain}`,
    allowPlain: insecure,
    // Stream management only when a resumption window is configured (xmpp.resumeSeconds, default 60), the
    // archive only when a retention is (xmpp.archiveDays, default 0): docs/clients.md.
    modulesDisabled: [...(insecure ? ["s2s", "offline", "tls"] : ["s2s", "offline"]), ...(config.xmpp.resumeSeconds === 0 ? ["smacks"] : [])],
    domainModules: ["pep", "bookmarks", ...(config.xmpp.archiveDays > 0 ? ["mam"] : [])],
    resumeSeconds: config.xmpp.resumeSeconds,
    archiveExpiresAfter: `${Math.max(1, config.xmpp.archiveDays)}d`, // unused when 0 (no mod_mam)
    uploadDomain: uploadDomainOf(config),
    filesEnabled: config.files.enabled,
    filesBaseUrl: filesBaseUrl(config),
    filesAccess: [config.domain, config.guestDomain],
    filesMaxBytes: config.files.maxBytes,
    filesTypes: config.files.types,
    filesDailyBytes: config.files.dailyBytes,
    filesTotalBytes: config.files.totalBytes,
    filesExpireSeconds: config.files.expireDays * 86400,
  };
  template ??= readFileSync(TEMPLATE, "utf8");
  const extra = extraComponents.map((c) => `\nComponent ${luaString(c.domain)}\n\tcomponent_secret = ${luaString(c.secret)}\n`).join("");
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${TEMPLATE}: unknown placeholder {{${name}}}`);
    return luaLiteral(value);
  }) + extra;
}

export interface RunningProsody {
  configFile: string;
  pid: number;
  exited: Promise<ChildExit>;
  output(): string;
  stop(): Promise<void>;
}

export async function startProsody({ config, onLine, timeoutMs = 15_000, ...options }: ProsodyOptions & { config: Config; onLine?: (line: string) => void; timeoutMs?: number }): Promise<RunningProsody> {
  await assertPortsFree({ "ports.c2s": config.ports.c2s, "ports.component": config.ports.component, "ports.http": config.ports.http });
  const dir = resolve(options.runDir);
  for (const sub of ["data", "certs"]) mkdirSync(join(dir, sub), { recursive: true }); // an empty certs/ silences a warning
  const configFile = join(dir, "prosody.cfg.lua");
  writeFileSync(configFile, renderProsodyConfig(config, options));
  rmSync(join(dir, "prosody.pid"), { force: true }); // left behind by a crash; the ports were free, so it is stale
  const child = spawnChild("prosody", "prosody", ["--config", configFile, "-F"], { onLine, env: prosodyEnv() });
  try {
    await waitForPorts([config.ports.c2s, config.ports.component], {
      timeoutMs,
      abort: () => (child.hasExited() ? "prosody stopped during startup" : undefined),
    });
  } catch (err) {
    await child.stop();
    throw new Error(`${(err as Error).message} (${configFile})\n${child.output()}`);
  }
  return { configFile, pid: child.pid, exited: child.exited, output: child.output, stop: () => child.stop() };
}

/** Creates or updates an account (works while Prosody runs). */
export async function registerAccount(configFile: string, jid: string, password: string): Promise<void> {
  const [user, host] = jid.split("@") as [string, string];
  try {
    await run("prosodyctl", ["--config", configFile, "register", user, host, password]);
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`prosodyctl register ${jid} failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}
