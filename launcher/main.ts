/**
 * `npm start`: Redis, Prosody, rtpengine and Kamailio (with voice), the component and the recorder as children of this process,
 * in that order, and stopped in the reverse order on Ctrl-C or SIGTERM. If any
 * child dies on its own, the rest are stopped and we exit 1.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { accountsOf, ConfigError, DEFAULT_CONFIG_PATH, hasVoice, loadConfig, type Config } from "../component/config.js";
import { describeExit, spawnChild, type ChildExit } from "./child.js";
import { assertPortsFree, waitForPorts } from "./ports.js";
import { ensureCertificates } from "./certificates.js";
import { registerAccount, startProsody } from "./prosody.js";
import { startRedis } from "./redis.js";
import { startRtpengine } from "./rtpengine.js";
import { startSoftswitch } from "./softswitch.js";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Running {
  name: string;
  exited: Promise<ChildExit>;
  stop(): Promise<void>;
}

const say = (line: string) => console.log(`[launcher] ${line}`);
const prefixed = (name: string) => (line: string) => console.log(`[${name}] ${line}`);

const children: Running[] = []; // in start order
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const child of [...children].reverse()) {
      await child.stop().catch((err: Error) => say(`stopping ${child.name}: ${err.message}`));
    }
  }
  process.exit(code);
}

function adopt(child: Running): void {
  children.push(child);
  void child.exited.then((exit) => {
    if (stopping) return;
    say(`${child.name} exited unexpectedly (${describeExit(exit)}); stopping the rest`);
    void shutdown(1);
  });
}

function banner(config: Config, redisUrl: string, webUp: boolean, ca: string, ngPort?: number): string {
  const cc = config.component.domain;
  const [first] = config.agents;
  return [
    "",
    "Switchboard is running.",
    `  XMPP (c2s)     127.0.0.1:${config.ports.c2s}  (STARTTLS; ${config.domain}'s certificate is issued by the demo's own authority)`,
    `  WebSocket      ws://127.0.0.1:${config.ports.http}/xmpp-websocket  (BOSH: http://127.0.0.1:${config.ports.http}/http-bind)`,
    `  Web            http://127.0.0.1:${config.ports.web}/${webUp ? "" : "  (not answering yet)"}`,
    `  Customer chat  http://127.0.0.1:${config.ports.web}/chat/?queue=${config.queues[0]!.name}`,
    `  Agent desk     http://127.0.0.1:${config.ports.web}/agent/`,
    `  Widget         <script src="http://127.0.0.1:${config.ports.web}/widget.js" data-queue="${config.queues[0]!.name}" async></script>`,
    `  Health         http://127.0.0.1:${config.ports.web}/healthz`,
    `  Redis          ${redisUrl}`,
    `  History        ${config.database.url ? "PostgreSQL (database.url)" : join(config.runDir, "records.sqlite")}  (statistics: /api/stats/realtime, /api/stats/history)`,
    ...(hasVoice(config) ? [
      `  SIP            ${config.softswitch.host}:${config.ports.sip} (UDP, TCP)  WebSocket ws://${config.softswitch.host}:${config.ports.sipWs}/`,
      `  Media          rtpengine on ${config.media.host}, RTP ports ${config.media.rtpMin}-${config.media.rtpMax} (UDP), ng control udp:127.0.0.1:${ngPort}`,
      `  Call a queue   ${config.queues.filter((q) => q.media.includes("voice")).map((q) => `sip:${q.name}@${cc}`).join(", ")}`,
    ] : []),
    `  Queues         ${config.queues.map((q) => `${q.name}@${cc}`).join(", ")}`,
    `  Guests         anonymous login on ${config.guestDomain}`,
    "  Agents:",
    ...config.agents.map((a) => `    ${a.jid}  password ${a.password}${a.name ? `  (${a.name})` : ""}`),
    ...(config.supervisors.length ? ["  Supervisors:", ...config.supervisors.map((s) => `    ${s.jid}  password ${s.password}`)] : []),
    ...(config.customers.length ? ["  Customer accounts:", ...config.customers.map((c) => `    ${c.jid}  password ${c.password}`)] : []),
    first
      ? `Try it: profanity, then /connect ${first.jid} server 127.0.0.1 port ${config.ports.c2s} tls trust (password ${first.password}); go available, and have a customer write to ${config.queues[0]!.name}@${cc}.`
      : `Try it: log in as a guest on ${config.guestDomain} at 127.0.0.1:${config.ports.c2s} and write to ${config.queues[0]!.name}@${cc}.`,
    "To use your own XMPP client (docs/clients.md has the steps for Gajim, Dino, poezio, mcabber, profanity):",
    `  ${"trust the demo's authority once:".padEnd(33)} sudo cp ${ca} /usr/local/share/ca-certificates/switchboard-demo.crt && sudo update-ca-certificates`,
    `  ${`reach ${config.domain} by name:`.padEnd(33)} echo "127.0.0.1 ${config.domain} ${config.guestDomain} ${cc}" | sudo tee -a /etc/hosts`,
    "Ctrl-C stops everything.",
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const configPath = resolve(process.env.SWITCHBOARD_CONFIG || DEFAULT_CONFIG_PATH);
  const config = loadConfig(configPath);
  const runDir = resolve(REPO_ROOT, config.runDir);
  // The component's entry point; overridable so the launcher can be tried with a stand-in.
  const componentEntry = resolve(process.env.SWITCHBOARD_COMPONENT_ENTRY || join(REPO_ROOT, "dist/component/main.js"));
  if (!existsSync(componentEntry)) throw new Error(`${componentEntry} does not exist: is component/main.ts written and built?`);

  // All at once, before starting anything: one clear message instead of a half-started stack.
  const { redis: redisPort, ...ours } = config.ports;
  await assertPortsFree({
    ...(config.redis.url ? {} : { "ports.redis": redisPort }),
    ...Object.fromEntries(Object.entries(ours).map(([key, port]) => [`ports.${key}`, port])),
  });
  const certificates = await ensureCertificates(runDir, config.domain);

  let redisUrl = config.redis.url;
  if (redisUrl) {
    say(`using the Redis at ${redisUrl} (redis.url)`);
  } else {
    const redis = await startRedis({ port: config.ports.redis, dir: join(runDir, "redis"), persist: true, onLine: prefixed("redis") });
    adopt({ name: "redis", ...redis });
    redisUrl = redis.url;
  }

  const prosody = await startProsody({ config, runDir, insecure: false, logLevel: "info", onLine: prefixed("prosody") });
  adopt({ name: "prosody", ...prosody });
  for (const a of accountsOf(config)) await registerAccount(prosody.configFile, a.jid, a.password);

  let ngPort: number | undefined;
  if (hasVoice(config)) {
    // The media relay first: the switch anchors calls with a browser leg there from its first call on.
    const rtpengine = await startRtpengine({ media: config.media, onLine: prefixed("rtpengine") });
    adopt({ name: "rtpengine", ...rtpengine });
    ngPort = rtpengine.ngPort;
    const redis = new URL(redisUrl);
    const softswitch = await startSoftswitch({
      config, runDir, redisHost: redis.hostname || "127.0.0.1", redisPort: Number(redis.port || 6379), onLine: prefixed("kamailio"), rtpengine,
    });
    adopt({ name: "kamailio", ...softswitch });
  }

  const component = spawnChild("component", process.execPath, [componentEntry], {
    cwd: REPO_ROOT,
    env: { ...process.env, SWITCHBOARD_CONFIG: configPath, SWITCHBOARD_REDIS_URL: redisUrl },
    onLine: prefixed("component"),
  });
  adopt({ name: "component", exited: component.exited, stop: () => component.stop() });
  // The recorder: the event log into the history database (SQLite in the run folder unless database.url is set).
  const recorder = spawnChild("recorder", process.execPath, [join(REPO_ROOT, "dist/records/main.js")], {
    cwd: REPO_ROOT,
    env: { ...process.env, SWITCHBOARD_CONFIG: configPath, SWITCHBOARD_REDIS_URL: redisUrl },
    onLine: prefixed("recorder"),
  });
  adopt({ name: "recorder", exited: recorder.exited, stop: () => recorder.stop() });

  let webUp = true;
  await waitForPorts([config.ports.web], { timeoutMs: 15_000, abort: () => (component.hasExited() ? "component exited" : undefined) }).catch(() => (webUp = false));
  if (!stopping && !component.hasExited()) console.log(banner(config, redisUrl, webUp, certificates.ca, ngPort));
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    if (!stopping) say(`${signal}: stopping`);
    void shutdown(0);
  });
}

main().catch((err: Error) => {
  if (stopping) return;
  say(err instanceof ConfigError ? err.message : `cannot start: ${err.message}`);
  void shutdown(1);
});
