/**
 * The media phase of `npm run bench` (docs/benchmarks.md, "Media"): real browser calls through the soft
 * switch and rtpengine, on a voice stack of its own (Redis, Prosody, Kamailio and rtpengine; the
 * component in its own process), after the voice phase.
 *
 *  - Callers: headless Chromium (Debian's, playwright-core, a fake microphone: test/helpers/browser.ts),
 *    one browser context per caller, each on the customer page (`/chat/?queue=bench`) with its form
 *    filled; a call is a click on "Call us": the page asks for a call token over XMPP and calls with
 *    sip.js over the switch's WebSocket (WebRTC: ICE, DTLS-SRTP).
 *  - Phones: ONE SIPp (agent-call-load.xml, answering every INVITE at once with PCMU) with `-rtp_echo`:
 *    every RTP packet it gets back to its sender; another SIPp registers every agent's phone at it
 *    (register-load.xml), as bench/voice.ts does. rtpengine turns the browser's SRTP/ICE leg into the
 *    phone's plain RTP leg and back, so each page hears its own microphone, relayed twice by rtpengine.
 *  - Setup: 30 calls placed one after another (each answered, then hung up, before the next; seats
 *    free), on 10 pages in turn; per call, in the page (performance.now): the click on "Call us" -> the
 *    microphone, the call token over XMPP, the SIP WebSocket open, ICE gathered -> the INVITE on the
 *    WebSocket -> the switch's 180 -> the page showing it rings -> the 200 -> the page on the call.
 *  - Steps: calls placed 5 at a time and kept, and at 5, 10, 15, 20, 30, 40 calls held (BENCH_MEDIA_STEPS)
 *    a window in which every page's received audio bytes must rise (getStats inbound-rtp) and
 *    rtpengine's own packet counters (ng `list`, `query`) are read, with the CPU of rtpengine, Chromium
 *    (every process of the browser), Kamailio, the phones' SIPp and the whole machine. The ramp stops at
 *    the first step where a call fails to set up, a page gets no audio or the pages conceal over 5% of
 *    what they play (the machine no longer copes), or when the phase has run 75 s.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { getPriority, setPriority, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { Redis } from "ioredis";
import { spawnChild, type Child } from "../launcher/child.js";
import { freePort, isUdpPortFree } from "../launcher/ports.js";
import { ngCommand, type Bencoded } from "../launcher/rtpengine.js";
import { startTestStack, type TestStack } from "../launcher/stack.js";
import { keysFor } from "../cti/redis/keys.js";
import { type Client, connect, stopAll, xml } from "./clients.js";
import { cpuMeter, descendantPids, findPid, findPids, latency, machineMeter, sleep } from "./stats.js";

const SCENARIOS = fileURLToPath(new URL("../../softswitch/sipp/", import.meta.url)); // from dist/bench
const COMPONENT_MAIN = fileURLToPath(new URL("../component/main.js", import.meta.url));
const SIPP = process.env.SIPP_PATH ?? "sipp";
const HOST = "127.0.0.1";

/** Concurrent calls at which a window is measured; the largest is also the number of seats and pages. */
const STEPS = (process.env.BENCH_MEDIA_STEPS ?? "5,10,15,20,30,40").split(",").map(Number).filter((n) => n > 0).sort((a, b) => a - b);
const MAX_CALLS = STEPS[STEPS.length - 1]!;
/** Calls of the setup series, placed one after another on SETUP_PAGES pages in turn. */
const SETUP_CALLS = Number(process.env.BENCH_MEDIA_SETUP_CALLS ?? 30);
const SETUP_PAGES = Math.min(10, MAX_CALLS);
/**
 * Pages per Chromium: its audio service opens at most 16 capture streams at once (AudioManagerBase's
 * default; a page keeps its microphone for its call), and the 17th page's getUserMedia never completes.
 * Beyond that the pages go to another Chromium, as callers' pages would be in browsers of their own.
 */
const PAGES_PER_BROWSER = 15;
/** The ramp places its calls this many at a time (each batch waits for its calls to be answered). */
const RAMP_BATCH = 5;
/** How long each step's window lasts, after a settling second. */
const WINDOW_MS = Number(process.env.BENCH_MEDIA_WINDOW_MS ?? 3000);
/** A call whose switch 180 or answer has not come by then failed to set up. */
const SETUP_TIMEOUT_MS = 15_000;
/** No new step is started once the phase has run this long (the bench's other phases wait). */
const BUDGET_MS = Number(process.env.BENCH_MEDIA_BUDGET_MS ?? 75_000);
/**
 * The callers' (Chromium's) scheduling priority in the ramp: BENCH_MEDIA_NICE=10, say, makes the load
 * generator yield to what is measured. Not by default: on a machine shared with other work the niced
 * pages then starve and their calls time out, and rtpengine, which sleeps between packets, is woken
 * first by the scheduler either way.
 */
const NICE = Number(process.env.BENCH_MEDIA_NICE ?? 0);
/**
 * A step where the pages had to make up (conceal) more than this share of the audio they played no longer
 * counts as coping: audio came late or not at all, or the browsers had no CPU left to play it.
 */
const CONCEALED_MAX = 0.05;
/**
 * How long the freshly opened pages are left to settle at most (until Chromium uses under 0.1 core): each
 * page's audio keeps rendering until Chromium's shared audio output has been silent for a few seconds.
 */
const IDLE_SETTLE_MS = Number(process.env.BENCH_MEDIA_SETTLE_MS ?? 10_000);
/** PCMU, 20 ms packets: 160 payload bytes 50 times a second. A page whose bytes grew by less than half of that did not get its audio. */
const PCMU_BYTES_PER_SECOND = 8000;
/**
 * Streams per call: the call has two legs through rtpengine (the browser's SRTP leg, the phone's RTP leg),
 * each carrying audio both ways, so rtpengine receives two streams (the browser's, the phone's echo) and
 * sends two (to the phone, to the browser), each 50 packets/s.
 */
const STREAMS_PER_CALL = 4;

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
let phaseStart = performance.now();
const log = (...a: unknown[]) => console.error(`bench: media (${((performance.now() - phaseStart) / 1000).toFixed(1)} s):`, ...a);

// ---------------------------------------------------------------- SIPp (as bench/voice.ts)

interface SippRun { child: Child; done: Promise<string[]>; lines(): string[] }

function startSipp(name: string, args: string[], csv?: string[]): SippRun {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-bench-media-sipp-"));
  const logFile = join(dir, "events.log");
  writeFileSync(logFile, "");
  const inf = csv ? ["-inf", join(dir, "fields.csv")] : [];
  if (csv) writeFileSync(join(dir, "fields.csv"), ["SEQUENTIAL", ...csv, ""].join("\n"));
  const child = spawnChild(name, SIPP, [...args, ...inf, "-trace_logs", "-log_file", logFile, "-nostdin"], { cwd: dir });
  const read = () => (existsSync(logFile) ? readFileSync(logFile, "utf8").split("\n").filter(Boolean) : []);
  const done = child.exited.then(() => { const l = read(); rmSync(dir, { recursive: true, force: true }); return l; });
  return { child, done, lines: read };
}

const setAll = (vars: Record<string, string | number>) => Object.entries(vars).flatMap(([k, v]) => ["-set", k, String(v)]);

/** A program's version from what it prints (on stdout or stderr, whatever its exit code: sipp -v exits 99). */
function version(cmd: string, args: string[], pattern: RegExp): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return pattern.exec(`${r.stdout ?? ""}${r.stderr ?? ""}`)?.[1] ?? "unknown";
}

// ---------------------------------------------------------------- the page's side

/**
 * Put in every page before its scripts: keeps its RTCPeerConnections (for getStats), and times, with
 * performance.now, each call from the click on "Call us": the INVITE sent on the SIP WebSocket, the
 * switch's 100 and 180 and the 200 to it, the page showing it rings ("You hear ringing...") and on the
 * call. Nothing in the page is changed: the WebSocket and RTCPeerConnection are wrapped.
 */
const INSTRUMENT = `(() => {
  const bench = window.__bench = { calls: [], pcs: [] };
  const call = () => bench.calls[bench.calls.length - 1];
  const mark = (k) => { const c = call(); if (c && c[k] === undefined) c[k] = performance.now(); };
  const NativePC = window.RTCPeerConnection;
  if (NativePC) window.RTCPeerConnection = class extends NativePC {
    constructor(...a) {
      super(...a);
      bench.pcs.push(this);
      mark("pcCreated");
      this.addEventListener("icegatheringstatechange", () => { if (this.iceGatheringState === "complete") mark("iceGathered"); });
    }
  };
  const md = navigator.mediaDevices;
  if (md && md.getUserMedia) {
    const gum = md.getUserMedia.bind(md);
    md.getUserMedia = (c) => gum(c).then((s) => { mark("microphone"); return s; });
  }
  document.addEventListener("click", (e) => {
    const t = e.target;
    if (t && t.closest && t.closest("#call")) bench.calls.push({ click: performance.now() });
  }, true);
  const NativeWS = window.WebSocket;
  window.WebSocket = class extends NativeWS {
    constructor(url, protocols) {
      super(url, protocols);
      const has = (p) => protocols === p || (Array.isArray(protocols) && protocols.includes(p));
      if (has("xmpp")) {
        mark("xmppConnecting");
        this.addEventListener("message", (ev) => { if (typeof ev.data === "string" && ev.data.includes("<call ") && ev.data.includes("token=")) mark("token"); });
      }
      if (!has("sip")) return;
      mark("sipConnecting");
      this.addEventListener("open", () => mark("sipOpen"));
      this.addEventListener("message", (ev) => {
        if (typeof ev.data !== "string") return;
        const m = /^SIP\\/2\\.0 (\\d{3})/.exec(ev.data);
        if (m && /^CSeq:\\s*\\d+\\s+INVITE\\s*$/im.test(ev.data)) mark("r" + m[1]);
      });
    }
    send(data) {
      if (typeof data === "string" && data.startsWith("INVITE ")) mark("inviteSent");
      return super.send(data);
    }
  };
  const watch = () => {
    const detail = document.getElementById("call-detail");
    const ended = document.getElementById("call-ended");
    if (!detail) return;
    const text = detail.textContent || "";
    if (text.startsWith("You hear ringing")) mark("ringingShown");
    if (text.startsWith("You are connected")) mark("talkingShown");
    // The ended panel of the previous call may still be up at the click: only a new showing counts.
    const shown = !!ended && !ended.hidden && ended.offsetParent !== null;
    if (shown && !endedVisible && call()) { mark("endedShown"); call().endText = (document.getElementById("call-ended-text") || {}).textContent; }
    endedVisible = shown;
  };
  let endedVisible = false;
  new MutationObserver(watch).observe(document, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["hidden"] });
})();`;

interface PageCallTimes {
  click: number; microphone?: number; xmppConnecting?: number; token?: number; sipConnecting?: number; sipOpen?: number; pcCreated?: number; iceGathered?: number;
  inviteSent?: number; r100?: number; r180?: number; r200?: number; ringingShown?: number; talkingShown?: number; endedShown?: number; endText?: string }

interface Caller { ctx: BrowserContext; page: Page; errors: string[] }

/** Audio received and sent so far by the page's live peer connections (inbound-rtp / outbound-rtp). */
const audioBytes = (page: Page) => page.evaluate(async () => {
  const pcs = ((window as unknown as { __bench: { pcs: RTCPeerConnection[] } }).__bench.pcs).filter((pc) => pc.connectionState !== "closed");
  let received = 0, sent = 0, lost = 0, packets = 0, samples = 0, concealed = 0, at = performance.timeOrigin + performance.now(), codec = "";
  for (const pc of pcs) {
    const stats = await pc.getStats();
    stats.forEach((s: { type: string; kind?: string; timestamp: number; codecId?: string; bytesReceived?: number; bytesSent?: number; packetsLost?: number; packetsReceived?: number; totalSamplesReceived?: number; concealedSamples?: number }) => {
    if (s.type === "inbound-rtp" && s.kind === "audio") {
      at = s.timestamp; // when these counters were read (ms since the epoch)
      codec = (s.codecId && (stats.get(s.codecId) as { mimeType?: string } | undefined)?.mimeType) || codec;
      received += s.bytesReceived ?? 0; lost += s.packetsLost ?? 0; packets += s.packetsReceived ?? 0;
      samples += s.totalSamplesReceived ?? 0; concealed += s.concealedSamples ?? 0;
    }
    if (s.type === "outbound-rtp" && s.kind === "audio") sent += s.bytesSent ?? 0;
    });
  }
  return { received, sent, lost, packets, samples, concealed, at, codec };
});

const lastCall = (page: Page) => page.evaluate(() => { const c = (window as unknown as { __bench: { calls: PageCallTimes[] } }).__bench.calls; return c[c.length - 1]; });

async function openCaller(browser: Browser, url: string, i: number): Promise<Caller> {
  // Reduced motion: the page then runs no CSS animation (its call art pulses, a spinner turns), which headless
  // Chromium would draw in software 60 times a second: the figures are the call's, not the animation's.
  const ctx = await browser.newContext({ viewport: { width: 480, height: 720 }, reducedMotion: "reduce" });
  await ctx.addInitScript(INSTRUMENT);
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // sip.js drops the switch's 180 (no Contact) with a console error: expected, as in the browser tests.
  page.on("console", (m) => { if (m.type() === "error" && !/without a Contact header|favicon/i.test(m.text())) errors.push(m.text()); });
  await page.goto(url);
  try {
    await fillForm(page, i);
  } catch (err) {
    const text = (await page.locator("body").innerText().catch(() => "?")).replace(/\s+/g, " ").slice(0, 300);
    throw new Error(`page ${i} did not show its form: "${text}" ${errors.slice(-3).join(" | ")} (${(err as Error).message.split("\n")[0]})`);
  }
  return { ctx, page, errors };
}

async function fillForm(page: Page, i: number): Promise<void> {
  const form = page.locator("#prechat");
  await form.getByLabel("Name").fill(`Caller ${i}`);
  await form.getByLabel("Subject").fill("Media bench");
  await page.locator("#call").waitFor();
}

// ---------------------------------------------------------------- rtpengine's view

const num = (v: Bencoded | undefined) => (typeof v === "number" ? v : 0);

/** rtpengine's calls (ng `list`) and, summed over them, the RTP packets and bytes it has received (ng `query` totals). */
async function rtpengineCounts(ngPort: number) {
  const t0 = performance.now();
  const list = await ngCommand(ngPort, { command: "list", limit: 10_000 });
  const ids = Array.isArray(list.calls) ? (list.calls as string[]) : [];
  let packets = 0, bytes = 0, errors = 0, rtcpPackets = 0;
  for (const id of ids) {
    const q = await ngCommand(ngPort, { command: "query", "call-id": id }).catch(() => undefined);
    const totals = q?.totals as Record<string, Record<string, Bencoded>> | undefined;
    packets += num(totals?.RTP?.packets); bytes += num(totals?.RTP?.bytes); errors += num(totals?.RTP?.errors);
    rtcpPackets += num(totals?.RTCP?.packets);
  }
  return { calls: ids.length, packets, bytes, errors, rtcpPackets, at: (t0 + performance.now()) / 2 };
}

// ---------------------------------------------------------------- the phase

export interface MediaResult {
  mediaSetupP50Ms: number;
  mediaSetupP99Ms: number;
  mediaCallsHeld: number;
  rtpengineCpuMsPerStreamSecond: number;
  media: Record<string, unknown>;
}

export async function benchMedia(): Promise<MediaResult> {
  const phaseT0 = (phaseStart = performance.now());
  // Loaded here, not at the top: without playwright-core (a dev dependency) only this phase fails.
  const { CHROMIUM, launchBrowser } = await import("../test/helpers/browser.js");
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (CHROMIUM_PATH): the media phase needs it`);
  const agentsConfig = Array.from({ length: MAX_CALLS }, (_, i) => ({ jid: `agent${i}@acme.test`, name: `Agent ${i}`, password: `agent${i}-pw`, skills: ["bench"], maxChats: 1, voice: true }));
  log("starting Redis, Prosody, rtpengine and Kamailio");
  const stack: TestStack = await startTestStack({
    queues: [{ name: "bench", title: "Bench", skills: ["bench"] }],
    agents: agentsConfig, supervisors: [], customers: [], customerGraceSeconds: 5,
    rateLimit: { burst: 1_000_000, perSecond: 1_000_000 },
  }, { voice: true });
  const { config } = stack;
  const sipPort = config.ports.sip!;
  const keys = keysFor(config.redis.prefix);
  const ngPort = stack.rtpengineNgPort;
  const rtpenginePid = ngPort !== undefined ? findPid(`--listen-ng=127.0.0.1:${ngPort}`) : undefined;
  const kamailioPids = findPids(join(resolve(config.runDir), "softswitch", "kamailio.cfg"));
  const redis = new Redis(stack.redisUrl);
  const open: Client[] = [];
  const sipps: SippRun[] = [];
  const callers: Caller[] = [];
  let component: Child | undefined;
  const browsers: Browser[] = [];
  try {
    if (ngPort === undefined || rtpenginePid === undefined) throw new Error("the voice stack has no rtpengine (launcher/stack.ts)");
    // ---- the component, its own process as in production
    const configFile = join(config.runDir, "bench-media-component.json");
    const webPort = await freePort();
    writeFileSync(configFile, JSON.stringify({ ...config, ports: { ...config.ports, web: webPort } }));
    component = spawnChild("component", process.execPath, [COMPONENT_MAIN], {
      env: { ...process.env, SWITCHBOARD_CONFIG: configFile, SWITCHBOARD_REDIS_URL: stack.redisUrl, LOG_LEVEL: "warn" },
    });
    const healthDeadline = Date.now() + 15_000;
    for (;;) {
      const h: Record<string, unknown> = await fetch(`http://127.0.0.1:${webPort}/healthz`).then((r) => r.json() as Promise<Record<string, unknown>>, () => ({}));
      if (h.status === "ok" && h.softswitch === true) break;
      if (Date.now() > healthDeadline) throw new Error(`the component did not become healthy with the soft switch:\n${component.output()}`);
      await sleep(100);
    }

    // ---- agents: XMPP available, phones registered at one SIPp that echoes RTP
    log(`${MAX_CALLS} agents log in; their phones register at one SIPp echoing RTP`);
    for (const a of agentsConfig) {
      const c = await connect(config.ports.c2s, config.domain, a.jid.split("@")[0], a.password);
      open.push(c);
      await c.send(xml("presence"));
    }
    const phonePort = await freePort({ udp: true });
    let echoPort = 0;
    for (let tries = 0; tries < 20 && !echoPort; tries++) {
      const p = await freePort({ udp: true });
      if (p < 65_000 && (await isUdpPortFree(p + 2))) echoPort = p; // -rtp_echo takes this port and the one 2 above
    }
    const phones = startSipp("phones", [
      "-sf", join(SCENARIOS, "agent-call-load.xml"), "-i", HOST, "-bind_local", "-p", String(phonePort),
      "-rtp_echo", "-mp", String(echoPort), ...setAll({ user: "bench" }),
    ]);
    sipps.push(phones);
    await sleep(300);
    if (phones.child.hasExited()) throw new Error(`the phones' SIPp stopped at once:\n${phones.child.output().split("\n").slice(-5).join("\n")}`);
    const regPort = await freePort({ udp: true });
    const reg = startSipp("register", [
      `${HOST}:${sipPort}`, "-sf", join(SCENARIOS, "register-load.xml"), "-i", HOST, "-bind_local", "-p", String(regPort),
      "-m", String(agentsConfig.length), "-r", "1000", "-rp", "1000", "-l", String(agentsConfig.length), "-recv_timeout", "10000",
      ...setAll({ domain: config.domain, contactPort: phonePort, expires: 3600 }),
    ], agentsConfig.map((a) => { const u = a.jid.split("@")[0]!; return `${u};[authentication username=${u} password=${a.password}]`; }));
    const registered = (await reg.done).filter((l) => l.startsWith("registered ")).length;
    if (registered !== agentsConfig.length) throw new Error(`only ${registered} of ${agentsConfig.length} phones registered\n${reg.child.output()}`);
    const readyDeadline = Date.now() + 15_000;
    for (const a of agentsConfig) {
      for (;;) {
        const [state, phone] = await redis.hmget(keys.agent(a.jid), "state", "phone");
        if (state === "ready" && phone === "1") break;
        if (Date.now() > readyDeadline) throw new Error(`${a.jid} never became ready with a phone (state ${state}, phone ${phone})`);
        await sleep(20);
      }
    }

    // ---- the callers' pages, opened and filled before any call
    // In the ramp the callers are the load generator, not what is measured: at a lower priority (nice), so
    // that when the two cores are full the switch and rtpengine still run when their packets come, as they
    // would beside browsers on other machines. Processes forked later (renderers) inherit it from their
    // parents. The setup series runs at the ordinary priority (a customer's browser is not niced).
    let niced = false;
    const renice = () => {
      if (!niced) return;
      for (const p of descendantPids(process.pid)) {
        if (!/chrom/i.test(p.comm)) continue;
        try { if (getPriority(p.pid) < NICE) setPriority(p.pid, NICE); } catch { /* gone */ }
      }
    };
    const url = `http://127.0.0.1:${webPort}/chat/?queue=bench`;
    /** Customer pages up to n, opened a few at a time (each step opens its own before its calls). */
    const ensurePages = async (n: number) => {
      if (callers.length < n) log(`Chromium: customer pages ${callers.length + 1}-${n}`);
      while (callers.length < n) {
        const from = callers.length;
        const count = Math.min(4, n - from);
        while (browsers.length * PAGES_PER_BROWSER < from + count) browsers.push(await launchBrowser({ media: true }));
        callers.push(...(await Promise.all(Array.from({ length: count }, (_, k) => openCaller(browsers[Math.floor((from + k) / PAGES_PER_BROWSER)]!, url, from + k)))));
      }
      renice();
    };
    await ensurePages(SETUP_PAGES);
    log("pages open");
    const chromiumPids = () => descendantPids(process.pid).filter((p) => /chrom/i.test(p.comm)).map((p) => p.pid);
    if (process.env.BENCH_MEDIA_DEBUG) {
      for (let k = 0; k < 12; k++) {
        const ps = descendantPids(process.pid).filter((p) => /chrom/i.test(p.comm));
        const ms = ps.map((p) => ({ ...p, m: cpuMeter(p.pid) }));
        await sleep(1000);
        log(`idle second ${k}:`, ms.map((p) => ({ pid: p.pid, c: round(p.m().otherCores) })).filter((p) => p.c > 0.02).map((p) => `${p.pid}:${p.c}`).join(" "));
      }
    }
    // Freshly opened pages keep Chromium busy for a few seconds: let it settle, then measure it idle.
    for (const deadline = Date.now() + IDLE_SETTLE_MS; Date.now() < deadline;) {
      const m = cpuMeter(chromiumPids());
      await sleep(500);
      if (m().otherCores < 0.1) break;
    }
    log("pages settled");
    const idleChromium = cpuMeter(chromiumPids());
    const idleRtpengine = cpuMeter(rtpenginePid);
    const idleMachine = machineMeter();
    await sleep(2000);
    const idle = { chromiumCores: round(idleChromium().otherCores, 3), rtpengineCores: round(idleRtpengine().otherCores, 3), machineBusyCores: round(idleMachine().busyCores) };

    /** One click on "Call us" and its setup, timed in the page; a failure is explained. */
    const placeCall = async (caller: Caller, concurrent: number, series: "first" | "setup" | "ramp"): Promise<string | undefined> => {
      const { page } = caller;
      await page.locator("#call").click();
      const ok = await page.waitForFunction(() => {
        const c = (window as unknown as { __bench: { calls: PageCallTimes[] } }).__bench.calls;
        const last = c[c.length - 1];
        return !!last && ((last.talkingShown !== undefined && last.r180 !== undefined) || last.endedShown !== undefined);
      }, null, { timeout: SETUP_TIMEOUT_MS, polling: 5 }).then(() => true, () => false);
      const t = await lastCall(page);
      const good = ok && t?.talkingShown !== undefined && t.endedShown === undefined;
      setups.push({ ...(t ?? { click: NaN }), concurrent, series, ok: good });
      if (good) return undefined;
      const state = await page.locator("#call-state").textContent().catch(() => "?");
      const why = t?.endText ?? `not on the call within ${SETUP_TIMEOUT_MS / 1000} s: "${state}"`;
      log(`a call did not set up (${why})`, JSON.stringify(t), caller.errors.slice(-5).join(" | "));
      if (process.env.BENCH_MEDIA_DEBUG) {
        const sessions = await fetch(`http://127.0.0.1:${webPort}/api/sessions`, { headers: { authorization: `Bearer ${config.admin.token}` } }).then((r) => r.text(), (e) => String(e));
        log("sessions:", sessions, "\ncomponent:", component!.output().slice(-3000), "\nkamailio:", stack.softswitchOutput().slice(-5000), "\nrtpengine:", stack.rtpengineOutput().slice(-3000), "\nphones:", phones.child.output().slice(-2000));
      }
      return why;
    };
    /**
     * Hang up (the page's button) and wait for the page to say the call ended. A page whose button was not
     * there, or whose click did not go through, is counted (hangUpsNotClicked): a call left up by the bench
     * is then told apart from one the switch or the CTI failed to end.
     */
    let hangUpsNotClicked = 0;
    const hangUp = async (caller: Caller, wait = true): Promise<void> => {
      const { page } = caller;
      const button = page.locator("#hang-up");
      const failed = (err: Error) => { log(`hang-up: ${err.message.split("\n")[0]}`); return false; };
      // A loaded page may never pass Playwright's actionability checks (every click of a 15-call ramp timed
      // out at 10 s, leaving the calls up): the click event itself then, which runs the same handler.
      const clicked = (await button.isVisible().catch(failed))
        && (await button.click({ timeout: 5000 }).then(() => true, () => button.dispatchEvent("click").then(() => true, failed)));
      if (!clicked) hangUpsNotClicked++;
      if (wait) await page.locator("#call-back").waitFor({ timeout: 10_000 }).catch(() => undefined);
    };
    /** From the ended call back to the form, filled again, ready for the next call. */
    const backToStart = async (caller: Caller, i: number): Promise<void> => {
      const { page } = caller;
      await page.locator("#call-back").click();
      await fillForm(page, i);
    };
    const setups: Array<PageCallTimes & { concurrent: number; series: "first" | "setup" | "ramp"; ok: boolean }> = [];

    // ---- setup: SETUP_CALLS calls one after another, each hung up once it is answered (seats free, no
    // other call up), on SETUP_PAGES pages in turn
    log(`setup: a first call (not counted), then ${SETUP_CALLS} calls one after another, each hung up once answered`);
    // The browser's first call starts its audio service and fake microphone: timed, but apart.
    let setupFailure = await placeCall(callers[SETUP_PAGES - 1]!, 0, "first");
    await hangUp(callers[SETUP_PAGES - 1]!);
    await backToStart(callers[SETUP_PAGES - 1]!, SETUP_PAGES - 1);
    for (let k = 0; k < SETUP_CALLS && !setupFailure; k++) {
      const i = k % SETUP_PAGES;
      const caller = callers[i]!;
      if (k >= SETUP_PAGES) await backToStart(caller, i);
      setupFailure = await placeCall(caller, 0, "setup");
      await hangUp(caller, false); // its end is waited for before the page's next call
    }
    for (let i = 0; i < Math.min(SETUP_PAGES, SETUP_CALLS); i++) await backToStart(callers[i]!, i);
    // The last calls' media sessions are gone before the ramp measures anything.
    for (const deadline = Date.now() + 5000; (await rtpengineCounts(ngPort)).calls > 0 && Date.now() < deadline;) await sleep(100);

    // ---- the ramp: calls placed one after another and kept; at each step a window with media checked
    niced = NICE > 0;
    renice();
    const steps: Array<Record<string, unknown>> = [];
    let placed = 0;
    let failure: string | undefined = setupFailure ? `setup: ${setupFailure}` : undefined;
    let held = 0;
    for (const target of failure ? [] : STEPS) {
      if (performance.now() - phaseT0 > BUDGET_MS) { failure = `time budget (${BUDGET_MS / 1000} s) spent before ${target} calls`; break; }
      // Pages that do not open (Chromium too busy with the calls held) end the ramp as any other limit does.
      const opened = await ensurePages(target).then(() => undefined, (err: Error) => err.message.split("\n")[0]);
      if (opened !== undefined) { failure = `customer pages up to ${target} did not open (${opened})`; break; }
      log(`calls ${placed + 1}-${target}, ${RAMP_BATCH} at a time`);
      while (placed < target && !failure) {
        const batch = callers.slice(placed, Math.min(target, placed + RAMP_BATCH));
        const up = placed;
        const whys = await Promise.all(batch.map((c) => placeCall(c, up, "ramp")));
        placed += batch.length;
        const bad = whys.filter((w) => w !== undefined);
        if (bad.length) failure = `${bad.length} of calls ${up + 1}-${placed} did not set up (${bad[0]})`;
      }
      if (failure) break;
      // Settle, then the window.
      renice();
      await sleep(1000);
      const pids = chromiumPids();
      const before = await Promise.all(callers.slice(0, placed).map((c) => audioBytes(c.page)));
      const rtpBefore = await rtpengineCounts(ngPort);
      const meters = { rtpengine: cpuMeter(rtpenginePid), chromium: cpuMeter(pids), kamailio: cpuMeter(kamailioPids), phones: cpuMeter(phones.child.pid), component: cpuMeter(component.pid) };
      const machine = machineMeter();
      const perPid = process.env.BENCH_MEDIA_DEBUG ? pids.map((pid) => {
        let type = "?";
        try { const a = readFileSync(`/proc/${pid}/cmdline`, "utf8").split(/[\0 ]/); type = [a.find((x) => x.startsWith("--type=")), a.find((x) => x.startsWith("--utility-sub-type="))].filter(Boolean).join(" ") || a[0]!.slice(-30); } catch { /* gone */ }
        return { pid, type, m: cpuMeter(pid) };
      }) : [];
      await sleep(WINDOW_MS);
      const cpu = Object.fromEntries(Object.entries(meters).map(([k, m]) => [k, m()]));
      if (process.env.BENCH_MEDIA_DEBUG) log("per process:", perPid.map((p) => ({ pid: p.pid, c: round(p.m().otherCores, 3), type: p.type })).filter((p) => p.c > 0.005).map((p) => `${p.pid} ${p.type}: ${p.c}`).join("; "));
      const busy = machine();
      const rtpAfter = await rtpengineCounts(ngPort);
      const after = await Promise.all(callers.slice(0, placed).map((c) => audioBytes(c.page)));
      const seconds = cpu.rtpengine!.wallSeconds;
      // Rates over each page's own interval (its statistics' timestamps): reading 40 pages takes a while.
      const perPage = after.map((a, i) => (a.received - before[i]!.received) / Math.max(0.001, (a.at - before[i]!.at) / 1000));
      const pageSeconds = after.reduce((acc, a, i) => acc + (a.at - before[i]!.at) / 1000, 0) / Math.max(1, after.length);
      const flowing = perPage.filter((b) => b >= PCMU_BYTES_PER_SECOND / 2).length;
      const packetsPerSecond = (rtpAfter.packets - rtpBefore.packets) / ((rtpAfter.at - rtpBefore.at) / 1000);
      const sum = (xs: Array<Awaited<ReturnType<typeof audioBytes>>>, k: "lost" | "packets" | "samples" | "concealed" | "sent") => xs.reduce((a, x) => a + x[k], 0);
      const pageSamples = sum(after, "samples") - sum(before, "samples");
      const rtpengineCpuMs = cpu.rtpengine!.otherCpuSeconds * 1000;
      const step = {
        calls: placed, windowSeconds: round(seconds), pagesWithAudio: flowing,
        pageReceivedBytesPerSecond: latency(perPage),
        // What the pages heard: RTP packets received and lost, and the share of audio samples the receiver
        // had to make up (concealment: late or missing packets, or a renderer too busy to play them in time).
        pages: {
          codecs: [...new Set(after.map((a) => a.codec))],
          packetsReceivedPerSecond: round((sum(after, "packets") - sum(before, "packets")) / pageSeconds, 1),
          packetsLost: sum(after, "lost") - sum(before, "lost"),
          concealedShare: pageSamples > 0 ? round((sum(after, "concealed") - sum(before, "concealed")) / pageSamples, 4) : null,
          sentBytesPerSecond: round((sum(after, "sent") - sum(before, "sent")) / pageSeconds / placed),
        },
        rtpengine: {
          calls: rtpAfter.calls, rtpPacketsPerSecond: round(packetsPerSecond, 1), rtpErrors: rtpAfter.errors - rtpBefore.errors,
          cores: round(cpu.rtpengine!.otherCores, 3),
          cpuMsPerCallSecond: round(rtpengineCpuMs / seconds / placed, 3),
          cpuMsPerStreamSecond: round(rtpengineCpuMs / seconds / (placed * STREAMS_PER_CALL), 3),
          cpuMicrosPerPacket: packetsPerSecond > 0 ? round((rtpengineCpuMs * 1000) / (packetsPerSecond * seconds), 2) : null,
        },
        cores: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(v.otherCores, 3)])),
        cpuMsPerCallSecond: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round((v.otherCpuSeconds * 1000) / seconds / placed, 2)])),
        chromiumProcesses: pids.length,
        machine: { cores: busy.cores, busyCores: round(busy.busyCores) },
      };
      steps.push(step);
      log(`${placed} calls: ${flowing} pages with audio (concealed ${step.pages.concealedShare}), rtpengine ${step.rtpengine.cores} cores (${step.rtpengine.cpuMsPerStreamSecond} ms/s per stream), ${step.rtpengine.rtpPacketsPerSecond} packets/s, Chromium ${step.cores.chromium} cores, machine ${step.machine.busyCores}`);
      if (flowing < placed) { failure = `${placed - flowing} of ${placed} pages got no audio in the window`; break; }
      if ((step.pages.concealedShare ?? 0) > CONCEALED_MAX) { failure = `the pages made up ${round(step.pages.concealedShare! * 100, 1)}% of the audio they played (over ${CONCEALED_MAX * 100}%): the machine no longer copes`; break; }
      if (rtpAfter.calls < placed) { failure = `rtpengine lists ${rtpAfter.calls} calls for ${placed}`; break; }
      held = placed;
    }

    // ---- every caller hangs up; the media sessions and the CTI's sessions must go
    log(`hanging up ${placed} calls`);
    niced = false;
    for (const p of descendantPids(process.pid)) if (/chrom/i.test(p.comm)) try { setPriority(p.pid, 0); } catch { /* gone */ }
    await Promise.all(callers.slice(0, placed).map((c) => hangUp(c, false)));
    let leftInRtpengine = -1, liveSessions = -1;
    for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
      leftInRtpengine = (await rtpengineCounts(ngPort)).calls;
      liveSessions = await redis.scard(keys.live());
      if (leftInRtpengine === 0 && liveSessions === 0) break;
      await sleep(200);
    }
    const pageErrors = callers.flatMap((c) => c.errors).slice(0, 5);

    const ok = setups.filter((s) => s.ok && s.series === "setup");
    const d = (f: (s: PageCallTimes) => number | undefined) => latency(ok.map(f).filter((v): v is number => v !== undefined && Number.isFinite(v)));
    const setup = {
      calls: setups.filter((s) => s.series === "setup").length, failed: setups.filter((s) => s.series === "setup" && !s.ok).length,
      clickTo180Ms: d((s) => (s.r180 !== undefined ? s.r180 - s.click : undefined)),
      clickToRingingShownMs: d((s) => (s.ringingShown !== undefined ? s.ringingShown - s.click : undefined)),
      clickToInviteSentMs: d((s) => (s.inviteSent !== undefined ? s.inviteSent - s.click : undefined)),
      inviteTo180Ms: d((s) => (s.r180 !== undefined && s.inviteSent !== undefined ? s.r180 - s.inviteSent : undefined)),
      // Where the time before the INVITE goes (from the click): the microphone granted, the XMPP WebSocket
      // opened (the login), the call token received, the SIP WebSocket opened, ICE gathering complete.
      clickToMicrophoneMs: d((s) => (s.microphone !== undefined ? s.microphone - s.click : undefined)),
      clickToXmppConnectingMs: d((s) => (s.xmppConnecting !== undefined ? s.xmppConnecting - s.click : undefined)),
      clickToTokenMs: d((s) => (s.token !== undefined ? s.token - s.click : undefined)),
      clickToSipOpenMs: d((s) => (s.sipOpen !== undefined ? s.sipOpen - s.click : undefined)),
      clickToIceGatheredMs: d((s) => (s.iceGathered !== undefined ? s.iceGathered - s.click : undefined)),
      clickTo200Ms: d((s) => (s.r200 !== undefined ? s.r200 - s.click : undefined)),
      clickToTalkingShownMs: d((s) => (s.talkingShown !== undefined ? s.talkingShown - s.click : undefined)),
    };
    const first = setups.find((x) => x.series === "first");
    const firstCall = first ? Object.fromEntries(Object.entries(first).filter(([k]) => k !== "click" && typeof first[k as keyof typeof first] === "number" && k !== "concurrent").map(([k, v]) => [`clickTo_${k}_Ms`, round((v as number) - first.click, 1)])) : null;
    // The ramp's calls, placed RAMP_BATCH at a time while the earlier ones carry audio: click -> 180 by how many were up.
    const rampSetup = STEPS.map((to, k) => {
      const from = k === 0 ? 0 : STEPS[k - 1]!;
      const xs = setups.filter((s) => s.series === "ramp" && s.ok && s.concurrent >= from && s.concurrent < to && s.r180 !== undefined);
      return { callsUp: `${from}-${to - 1}`, clickTo180Ms: latency(xs.map((s) => s.r180! - s.click)) };
    }).filter((x) => x.clickTo180Ms.count > 0);
    // The headline cost per stream: from the largest step held while the machine still had CPU to spare
    // (under 95% of its cores busy). On a full machine rtpengine is woken less often and handles several
    // packets per wake-up, so its CPU per packet drops: a figure of the load generator's making.
    type Step = { calls: number; rtpengine: { cpuMsPerStreamSecond: number; cpuMicrosPerPacket: number | null }; machine: { cores: number; busyCores: number } };
    const heldSteps = (steps as unknown as Step[]).filter((x) => x.calls <= held);
    const withHeadroom = heldSteps.filter((x) => x.machine.busyCores < 0.95 * x.machine.cores);
    const top = withHeadroom.pop() ?? heldSteps.pop();
    return {
      mediaSetupP50Ms: setup.clickTo180Ms.p50,
      mediaSetupP99Ms: setup.clickTo180Ms.p99,
      mediaCallsHeld: held,
      rtpengineCpuMsPerStreamSecond: top?.rtpengine.cpuMsPerStreamSecond ?? NaN,
      media: {
        versions: { chromium: version(CHROMIUM, ["--version"], /Chromium (\S+)/), rtpengine: version("rtpengine", ["--version"], /Version: (\S+)/), sipp: version(SIPP, ["-v"], /SIPp v(\d+\.\d+\.\d+)/) },
        how: "headless Chromium pages (one context each) clicking Call us -> Kamailio (WebSocket) -> CTI -> one SIPp phone answering PCMU with -rtp_echo; rtpengine relays SRTP (browser) <-> RTP (phone)",
        streamsPerCall: STREAMS_PER_CALL,
        streamMeans: "one direction of one leg at rtpengine: browser->rtpengine (SRTP), rtpengine->phone (RTP), phone->rtpengine (RTP echo), rtpengine->browser (SRTP); 50 packets/s each (PCMU, 20 ms)",
        steps: STEPS, rampBatch: RAMP_BATCH, windowSeconds: WINDOW_MS / 1000, chromiumNiceInRamp: NICE, concealedMax: CONCEALED_MAX, callsHeld: held, stoppedBecause: failure ?? null,
        idle, firstCall, setup, rampSetup, atStep: steps,
        rtpengineCpuFrom: top ? { calls: top.calls, machineBusyCores: top.machine.busyCores, machineHadHeadroom: top.machine.busyCores < 0.95 * top.machine.cores, cpuMicrosPerPacket: top.rtpengine.cpuMicrosPerPacket } : null,
        afterHangUp: { rtpengineCalls: leftInRtpengine, liveSessions, hangUpsNotClicked, pageErrors },
        seconds: round((performance.now() - phaseT0) / 1000, 1),
      },
    };
  } finally {
    for (const c of callers) await c.ctx.close().catch(() => undefined);
    for (const b of browsers) await b.close().catch(() => undefined);
    for (const s of sipps) if (!s.child.hasExited()) await s.child.stop(2000);
    await stopAll(open);
    await component?.stop();
    redis.disconnect();
    await stack.stop();
  }
}

/** The media rows of the bench's table. */
export function mediaRows(r: any): Array<[string, string]> {
  const m = r.media;
  if (m?.error) return [["media", `failed: ${m.error}`]];
  const s = m.setup;
  const pp = (l: { p50: number; p99: number }) => `${l.p50} / ${l.p99}`;
  const rows: Array<[string, string]> = [
    [`media: setup, Call us -> 180, p50/p99 ms (${s.calls - s.failed} of ${s.calls} calls one by one)`, `${r.mediaSetupP50Ms} / ${r.mediaSetupP99Ms}  (-> page rings ${pp(s.clickToRingingShownMs)}; -> on the call ${pp(s.clickToTalkingShownMs)}; the browser's first call, apart: ${m.firstCall?.clickTo_r180_Ms ?? "?"})`],
    ["media: setup, click -> mic / token / SIP WebSocket / ICE / INVITE, p50 ms", `${s.clickToMicrophoneMs.p50} / ${s.clickToTokenMs.p50} / ${s.clickToSipOpenMs.p50} / ${s.clickToIceGatheredMs.p50} / ${s.clickToInviteSentMs.p50}  (INVITE -> 180 ${pp(s.inviteTo180Ms)})`],
    [`media: setup in the ramp (${m.rampBatch} at a time), Call us -> 180 p50/p99 ms`, m.rampSetup.map((x: { callsUp: string; clickTo180Ms: { p50: number; p99: number } }) => `${x.callsUp} up: ${pp(x.clickTo180Ms)}`).join("; ")],
  ];
  for (const st of m.atStep) {
    rows.push([`media: ${st.calls} browser calls held (${st.pagesWithAudio} with audio), rtpengine`, `${st.rtpengine.cores} cores: ${st.rtpengine.cpuMsPerCallSecond} ms/s per call, ${st.rtpengine.cpuMsPerStreamSecond} per stream, ${st.rtpengine.cpuMicrosPerPacket} us/packet (${st.rtpengine.rtpPacketsPerSecond} packets/s); Chromium ${st.cores.chromium}, Kamailio ${st.cores.kamailio}, SIPp ${st.cores.phones}; machine ${st.machine.busyCores} of ${st.machine.cores}; pages lost ${st.pages.packetsLost} packets, concealed ${round((st.pages.concealedShare ?? 0) * 100, 2)}%`]);
  }
  if (m.rtpengineCpuFrom) rows.push(["media: rtpengine CPU ms per second of one stream (headline)", `${r.rtpengineCpuMsPerStreamSecond}  (at ${m.rtpengineCpuFrom.calls} calls, machine ${m.rtpengineCpuFrom.machineBusyCores} busy${m.rtpengineCpuFrom.machineHadHeadroom ? "" : ": full, so low"}; ${m.rtpengineCpuFrom.cpuMicrosPerPacket} us per packet relayed)`]);
  rows.push(["media: calls held with audio in every page", `${r.mediaCallsHeld}${m.stoppedBecause ? ` (stopped: ${m.stoppedBecause})` : ""}; after hang-up: ${m.afterHangUp.rtpengineCalls} calls in rtpengine, ${m.afterHangUp.liveSessions} live sessions${m.afterHangUp.hangUpsNotClicked ? ` (${m.afterHangUp.hangUpsNotClicked} hang-ups not clicked)` : ""}`]);
  return rows;
}
