/**
 * Real SIP phones for the tests and the benchmark: SIPp (Debian's sip-tester) running the scenarios
 * in softswitch/sipp/, over UDP on 127.0.0.1. An agent's phone is one long-lived SIPp (agent.xml
 * registers, agent-call.xml takes each call); a customer's call is one short-lived SIPp (caller.xml).
 *
 * What happened is read from the scenarios' <log> lines, "<event> <seconds> <microseconds> [detail]",
 * which SIPp writes to a file of its own (-trace_logs), flushed line by line: its stdout is a screen
 * it draws at the end, its stderr carries its warnings, and it opens the log by name (a Node child's
 * /dev/stdout is a socket, which cannot be opened). Times are SIPp's own clock readings.
 */
import { randomUUID } from "node:crypto";
import { createSocket } from "node:dgram";
import { closeSync, openSync, readSync, watch, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { fileURLToPath } from "node:url";
import { describeExit, spawnChild, type Child } from "../../launcher/child.js";
import { freePort } from "../../launcher/ports.js";
import { parseSippLogLine } from "../../launcher/sipp-log.js";

const SCENARIOS = fileURLToPath(new URL("../../../softswitch/sipp/", import.meta.url)); // from dist/test/helpers
const SIPP = process.env.SIPP_PATH ?? "sipp";
/** SIPP_TRACE_DIR=/some/dir keeps every SIP message each SIPp sent and received there (-trace_msg). */
const TRACE_DIR = process.env.SIPP_TRACE_DIR;
const HOST = "127.0.0.1";

export interface HostPort { host: string; port: number }

/** One <log> line of a scenario. */
export interface SippEvent {
  name: string;
  /** Epoch milliseconds, from SIPp's gettimeofday. */
  at: number;
  detail: string;
}

function parseEvent(line: string): SippEvent | undefined {
  const l = parseSippLogLine(line);
  return l && { name: l.name, at: Math.round(l.at), detail: l.rest };
}

/** Follows the file SIPp writes its <log> lines to (inotify, so each line arrives as it is written). */
function followLog(file: string, onLine: (line: string) => void): { close(): void } {
  writeFileSync(file, "");
  const fd = openSync(file, "r");
  const chunk = Buffer.alloc(64 * 1024);
  const decoder = new StringDecoder("utf8");
  let partial = "";
  let open = true;
  const drain = () => {
    if (!open) return;
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0;) {
      const lines = (partial + decoder.write(chunk.subarray(0, n))).split("\n");
      partial = lines.pop() ?? "";
      lines.forEach(onLine);
    }
  };
  const watcher = watch(file, drain);
  watcher.on("error", () => undefined); // the file goes with its folder once SIPp is done
  return {
    close() {
      drain();
      if (partial) onLine(partial);
      open = false;
      watcher.close();
      closeSync(fd);
    },
  };
}

interface Sipp {
  child: Child;
  events: SippEvent[];
  /** Waits for SIPp to exit, then reads the last log lines and removes its folder. */
  finished: Promise<void>;
  onEvent(listener: (event: SippEvent) => void): () => void;
  output(): string;
}

/** Runs SIPp in a temp folder of its own (it writes files named after the scenario in its cwd). */
async function startSipp(name: string, args: string[]): Promise<Sipp> {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-sipp-"));
  const events: SippEvent[] = [];
  const logLines: string[] = [];
  const listeners = new Set<(event: SippEvent) => void>();
  const log = followLog(join(dir, "events.log"), (line) => {
    logLines.push(line);
    const event = parseEvent(line);
    if (!event) return; // SIPp writes some of its errors here too
    events.push(event);
    for (const listener of listeners) listener(event);
  });
  const trace = TRACE_DIR ? ["-trace_msg", "-message_file", join(TRACE_DIR, `${name.replace(/\W+/g, "-")}-${randomUUID().slice(0, 8)}.log`)] : [];
  const child = spawnChild(name, SIPP, [...args, "-trace_logs", "-log_file", join(dir, "events.log"), "-nostdin", ...trace], { cwd: dir });
  const finished = child.exited.then(async () => {
    log.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    child,
    events,
    finished,
    onEvent(listener) {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
    output: () => `${name} events:\n${logLines.join("\n") || "(none)"}\n${name} output:\n${child.output()}`,
  };
}

/** SIPp places its first call one call period (1/rate) after it starts: 100 ms at its default 10/s. */
const FIRST_CALL_AT_ONCE = ["-r", "1000"];

/** -set NAME VALUE for each variable the scenario declares as <Global>. */
const setAll = (vars: Record<string, string | number>) => Object.entries(vars).flatMap(([k, v]) => ["-set", k, String(v)]);
const scenario = (file: string) => join(SCENARIOS, file);

export type AgentMode = "answer" | "noanswer" | "busy";

export interface AgentPhoneOptions {
  /** Where the phone registers; not needed with register: false. */
  proxy?: HostPort;
  user: string;
  password: string;
  /** The registrar's domain (the digest realm): sip:user@domain. */
  domain: string;
  mode: AgentMode;
  /** answer: ring this long before answering. */
  answerMs?: number;
  /** answer: hang up this long after the call is set up (0: wait for the caller's BYE). */
  hangupMs?: number;
  /** Registration lifetime asked for, in seconds. */
  expires?: number;
  /** false: no REGISTER (a phone called directly, as in the self-test). */
  register?: boolean;
  /** Fails `registered` after this long. */
  registerTimeoutMs?: number;
}

export interface AgentPhone {
  /** The UDP port it listens on (its Contact). */
  port: number;
  /** Resolves when the REGISTER got its 200 (with register: false, when the phone is listening). */
  registered: Promise<void>;
  /** INVITEs received so far. */
  calls(): number;
  /** Everything the phone logged: invite, answered, cancelled, busy, ended (detail "<Call-ID> agent|caller"), options... */
  events(): SippEvent[];
  /** The `count`-th event called `name` (counting those already logged). */
  waitFor(name: string, count?: number, timeoutMs?: number): Promise<SippEvent>;
  /** Unregisters and ends SIPp, which hangs up a call in progress with a BYE (killed if it takes longer than `graceMs`). */
  stop(graceMs?: number): Promise<void>;
  output(): string;
}

/** An agent's phone: registers, then takes every call the way `mode` says until stopped. */
export async function startAgentPhone(options: AgentPhoneOptions): Promise<AgentPhone> {
  const { user, password, domain, mode, answerMs = 0, hangupMs = 0, expires = 3600, register = true, registerTimeoutMs = 10_000 } = options;
  if (register && !options.proxy) throw new Error("startAgentPhone: a phone that registers needs a proxy");
  const port = await freePort({ udp: true });
  const proxy = options.proxy ?? { host: HOST, port }; // SIPp wants a remote host even if it never sends there
  // The main scenario's only call (-m 1) is the registration; its Call-ID is how stop() reaches it.
  const stopCallId = `stop-${randomUUID()}@${HOST}`;
  const sipp = await startSipp(`phone ${user}`, [
    `${proxy.host}:${proxy.port}`, "-sf", scenario("agent.xml"), "-oocsf", scenario("agent-call.xml"),
    "-i", HOST, "-bind_local", "-p", String(port), "-m", "1", ...FIRST_CALL_AT_ONCE, "-cid_str", stopCallId, "-au", user, "-ap", password,
    // SIPp keeps an ended call's Call-ID for 33 s and drops what comes for it; but the switch offers a
    // queued call again (same Call-ID, new branch) after a busy or unanswered ring.
    "-deadcall_wait", "0",
    ...setAll({ user, domain, register: register ? "yes" : "no", expires, mode, answerMs, hangupMs }),
  ]);
  const exitedEarly = (what: string) => sipp.child.exited.then((exit) => {
    throw new Error(`phone ${user} ended (${describeExit(exit)}) before ${what}\n${sipp.output()}`);
  });

  const waitFor = (name: string, count = 1, timeoutMs = 5000): Promise<SippEvent> => {
    const seen = sipp.events.filter((e) => e.name === name);
    if (seen.length >= count) return Promise.resolve(seen[count - 1]!);
    let stopListening = () => {};
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      new Promise<SippEvent>((resolve) => {
        let n = seen.length;
        stopListening = sipp.onEvent((e) => { if (e.name === name && ++n === count) resolve(e); });
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`phone ${user}: no ${name} #${count} within ${timeoutMs} ms\n${sipp.output()}`)), timeoutMs);
      }),
      exitedEarly(`${name} #${count}`),
    ]).finally(() => { stopListening(); clearTimeout(timer); });
  };

  const registered = waitFor("ready", 1, registerTimeoutMs).then(() => undefined);
  registered.catch(() => undefined); // a test that never awaits it must not see an unhandled rejection

  return {
    port,
    registered,
    calls: () => sipp.events.filter((e) => e.name === "invite").length,
    events: () => [...sipp.events],
    waitFor,
    async stop(graceMs = 5000) {
      if (!sipp.child.hasExited()) {
        await sendStop(port, stopCallId);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([sipp.child.exited, new Promise((resolve) => { timer = setTimeout(resolve, graceMs); })]);
        clearTimeout(timer);
        await sipp.child.stop();
      }
      await sipp.finished;
    },
    output: sipp.output,
  };
}

/** The NOTIFY agent.xml waits for in the registration's dialog; nothing answers it. */
function sendStop(port: number, callId: string): Promise<void> {
  const message = [
    `NOTIFY sip:phone@${HOST}:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP ${HOST}:9;branch=z9hG4bK-${randomUUID()}`,
    `From: <sip:test@${HOST}>;tag=stop`,
    `To: <sip:phone@${HOST}>`,
    `Call-ID: ${callId}`,
    "CSeq: 1 NOTIFY",
    "Event: stop",
    "Max-Forwards: 70",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
  const socket = createSocket("udp4");
  return new Promise((resolve, reject) => {
    socket.send(message, port, HOST, (err) => {
      socket.close();
      if (err) reject(err);
      else resolve();
    });
  });
}

export interface CallOptions {
  /** Where the INVITE goes (the soft switch, or an agent's phone directly). */
  proxy: HostPort;
  /** sip:service@domain, e.g. a queue: billing@cc.acme.test. */
  service: string;
  domain: string;
  /** From: sip:caller@callerDomain. */
  caller: string;
  callerDomain: string;
  displayName?: string;
  /** Credentials for a 401/407; without them the caller is anonymous and a challenge ends the call. */
  user?: string;
  password?: string;
  /** Answered: hang up this long after the 200 (0: wait for the other side's BYE). */
  holdMs?: number;
  /** CANCEL when this long has passed since the INVITE, once it rings (any provisional response), if no final response came by then. */
  cancelAfterMs?: number;
  /** Fails the call (and kills SIPp) if it has not ended by then. */
  timeoutMs?: number;
  /** The Call-ID (SIPp makes one up by default). */
  callId?: string;
  /** RFC 7433 User-to-User data (hex) in the INVITE: a page's call token (docs/protocol.md). */
  userToUser?: string;
  /** Called once the caller has the 200 (the switch reports the answer as it relays it, a moment before). */
  onAnswered?: () => void;
  /** Answered: ACK the 200 this long after it came (a slow phone). */
  ackDelayMs?: number;
}

export interface CallResult {
  /** The INVITE's final response: 200, 486, 487 (cancelled), 480... */
  code: number;
  /** The text of that response's Reason header (the whole value if it has no text), "" without one. */
  reason: string;
  answeredAt?: number;
  /** When the caller sent its ACK of the 200. */
  ackedAt?: number;
  /** When the final response came (refused) or the BYE was answered (answered). */
  endedAt: number;
  /** Who sent the BYE of an answered call. */
  hungUpBy?: "caller" | "agent";
}

/** One call from a customer's phone; resolves once it has ended. */
export async function call(options: CallOptions): Promise<CallResult> {
  const { proxy, service, domain, caller, callerDomain, displayName = "", user, password = "", holdMs = 0, cancelAfterMs = 0, timeoutMs = 10_000, callId, userToUser, onAnswered, ackDelayMs = 0 } = options;
  const port = await freePort({ udp: true });
  const sipp = await startSipp(`call ${caller} to ${service}`, [
    `${proxy.host}:${proxy.port}`, "-sf", scenario("caller.xml"), "-i", HOST, "-bind_local", "-p", String(port), "-m", "1", ...FIRST_CALL_AT_ONCE,
    ...setAll({ service, domain, caller, callerDomain, displayName: displayName.replace(/["\\]/g, "\\$&"), holdMs, cancelAfterMs, ackDelayMs, auth: user ? "yes" : "no",
      extraHeader: userToUser === undefined ? "" : `User-to-User: ${userToUser};encoding=hex` }), // SIPp drops a line left empty
    ...(user ? ["-au", user, "-ap", password] : []),
    ...(callId ? ["-cid_str", callId.replace(/%/g, "%%")] : []),
  ]);
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; void sipp.child.stop(); }, timeoutMs);
  const stopWatching = sipp.onEvent((e) => { if (e.name === "answered") onAnswered?.(); });
  const exit = await sipp.child.exited;
  clearTimeout(timer);
  stopWatching();
  await sipp.finished;
  const fail = (why: string) => new Error(`call from ${caller} to ${service}@${domain} ${why}\n${sipp.output()}`);
  if (timedOut) throw fail(`did not end within ${timeoutMs} ms`);
  const event = (name: string) => sipp.events.find((e) => e.name === name);
  const final = event("final");
  if (!final) throw fail(`ended without a final response (${describeExit(exit)})`);
  const [, code, ...reason] = final.detail.split(" "); // <Call-ID> <code> <Reason...>
  const answered = event("answered");
  const ended = event("ended");
  if (answered && !ended) throw fail(`was answered but SIPp ended (${describeExit(exit)}) before a BYE`);
  return {
    code: Number(code),
    reason: reasonText(reason.join(" ").trim()),
    answeredAt: answered?.at,
    ackedAt: event("acking")?.at,
    endedAt: (ended ?? final).at,
    hungUpBy: ended?.detail.split(" ")[1] as CallResult["hungUpBy"],
  };
}

/** `SIP;cause=480;text="No agent is logged in"` -> `No agent is logged in`. */
function reasonText(header: string): string {
  const text = /;\s*text\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(header);
  return text ? text[1]!.replace(/\\(.)/g, "$1") : header;
}
