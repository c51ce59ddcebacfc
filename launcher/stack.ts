/** Prosody + Redis (and Kamailio and rtpengine, with voice) on free ports in a temp dir, for integration tests. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { accountsOf, hasVoice, validateConfig, type Config, type ConfigInput } from "../component/config.js";
import { freePort, isPortFree, isUdpPortFree } from "./ports.js";
import { registerAccount, startProsody, type RunningProsody } from "./prosody.js";
import { startRedis, type RunningRedis } from "./redis.js";
import { startRtpengine, type RunningRtpengine } from "./rtpengine.js";
import { startSoftswitch, type RunningSoftswitch } from "./softswitch.js";

export interface TestStack {
  config: Config;
  redisUrl: string;
  /** Redis's process (a test may stop it with SIGSTOP, as an unreachable Redis, and let it go on). */
  redisPid: number;
  /** The generated Prosody config file. */
  prosodyConfig: string;
  /** Prosody's recent console output (log level "warn"). */
  prosodyOutput(): string;
  /**
   * Stops Prosody (SIGTERM: it says goodbye to everyone first; SIGKILL: a crash, nobody hears of anyone
   * leaving) and starts it again on the same ports and data: every client and the component are cut off.
   */
  restartProsody(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Kamailio's recent output (voice stacks). */
  softswitchOutput(): string;
  /**
   * Stops Kamailio (SIGKILL: a crash) and starts it again on the same ports: queued calls' transactions are
   * gone. rtpengine keeps running (the media of calls in service goes on).
   */
  restartSoftswitch(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Voice stacks: rtpengine's ng port (UDP, 127.0.0.1), for `ngCommand` (launcher/rtpengine.ts). */
  rtpengineNgPort?: number;
  /** rtpengine's recent output (voice stacks). */
  rtpengineOutput(): string;
  stop(): Promise<void>;
}

/** `voice`: Kamailio too, on ports of its own (the SIP port is free for UDP as well: freePort checks TCP). */
/** Waits (at most 5 s) until nothing listens on the port, TCP or UDP. */
async function portsReleased(port: number): Promise<void> {
  for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
    if ((await isPortFree(port)) && (await isUdpPortFree(port))) return;
    await new Promise((r) => setTimeout(r, 20)); // polling interval, not a stand-in for an event
  }
}

export async function startTestStack(overrides: Partial<ConfigInput> = {}, { voice = false, extraComponents = [] as Array<{ domain: string; secret: string }> } = {}): Promise<TestStack> {
  const runDir = mkdtempSync(join(tmpdir(), "switchboard-test-"));
  const ports = {
    c2s: await freePort(), http: await freePort(), component: await freePort(), redis: await freePort(), web: await freePort(),
    ...(voice ? { sip: await freePort({ udp: true }), sipWs: await freePort(), sipEvents: await freePort() } : {}),
  };
  // RTP from the kernel's ephemeral range, away from the ports freePort hands out (10000-32767); two stacks
  // may share it: rtpengine takes the next pair when one is taken.
  const media = { rtpMin: 40000, rtpMax: 49999, ...(voice ? { ngPort: await freePort({ udp: true }) } : {}) };
  const config = validateConfig(
    {
      domain: "acme.test",
      guestDomain: "guest.acme.test",
      component: { domain: "cc.acme.test", secret: "test-component-secret" },
      ports,
      admin: { token: "test-admin-token" },
      statusIntervalSeconds: 15,
      queues: [
        { name: "billing", title: "Billing", skills: ["billing"] },
        { name: "vip", title: "VIP desk", allowGuests: false },
      ],
      agents: [
        { jid: "alice@acme.test", name: "Alice", password: "alice-pw", skills: ["billing"], maxChats: 1 },
        { jid: "bob@acme.test", name: "Bob", password: "bob-pw", skills: ["billing"], maxChats: 2 },
      ],
      supervisors: [{ jid: "sam@acme.test", password: "sam-pw" }],
      customers: [{ jid: "carol@acme.test", password: "carol-pw" }],
      ...overrides,
      media: { ...media, ...(overrides.media as object | undefined) },
      runDir,
    },
    "test stack config",
  );
  let redis: RunningRedis | undefined;
  let prosody: RunningProsody | undefined;
  let softswitch: RunningSoftswitch | undefined;
  let rtpengine: RunningRtpengine | undefined;
  const stop = async () => {
    await softswitch?.stop();
    await rtpengine?.stop();
    await Promise.all([prosody?.stop(), redis?.stop()]);
    rmSync(runDir, { recursive: true, force: true });
  };
  try {
    redis = await startRedis({ port: config.ports.redis, dir: join(runDir, "redis"), persist: false });
    prosody = await startProsody({ config, runDir, insecure: true, logLevel: "warn", extraComponents });
    const { configFile } = prosody;
    if (hasVoice(config)) rtpengine = await startRtpengine({ media: config.media });
    const startSwitch = () => (hasVoice(config) ? startSoftswitch({ config, runDir, redisHost: "127.0.0.1", redisPort: config.ports.redis, rtpengine }) : undefined);
    softswitch = await startSwitch();
    await Promise.all(accountsOf(config).map((a) => registerAccount(configFile, a.jid, a.password)));
    const restartProsody = async (signal: "SIGTERM" | "SIGKILL" = "SIGTERM") => {
      if (signal === "SIGKILL" && prosody) { process.kill(prosody.pid, "SIGKILL"); await prosody.exited; } else await prosody?.stop();
      prosody = await startProsody({ config, runDir, insecure: true, logLevel: "warn", extraComponents });
    };
    const restartSoftswitch = async (signal: "SIGTERM" | "SIGKILL" = "SIGTERM") => {
      // A crash takes every Kamailio process (the main one and its workers, one process group) at once.
      if (signal === "SIGKILL" && softswitch) { process.kill(-softswitch.pid, "SIGKILL"); await softswitch.exited; } else await softswitch?.stop();
      // The workers' sockets close as they die, after the main process: each of the switch's ports (its evapi
      // port too, which the new Kamailio checks before it starts).
      for (const port of [config.ports.sip, config.ports.sipWs, config.ports.sipEvents]) await portsReleased(port!);
      softswitch = await startSwitch();
    };
    return {
      config, redisUrl: redis.url, redisPid: redis.pid, prosodyConfig: configFile, prosodyOutput: () => prosody?.output() ?? "", restartProsody,
      softswitchOutput: () => softswitch?.output() ?? "", restartSoftswitch, stop,
      rtpengineNgPort: rtpengine?.ngPort, rtpengineOutput: () => rtpengine?.output() ?? "",
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
