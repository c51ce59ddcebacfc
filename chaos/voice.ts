/**
 * Voice in the chaos run: the voice agents' phones (SIPp, test/helpers/sipp.ts's startAgentPhone, answering
 * every call and hanging up after a short hold) and the callers (one SIPp each, softswitch/sipp/chaos-caller.xml,
 * to sip:phone@CC through Kamailio). A call is acknowledged once the caller heard 180 Ringing (the switch has
 * it). What each caller heard is kept in a small record; the checker classifies them at the end (voice
 * checker below): served, told why, cancelled by the caller, still queued, lost with the switch (the documented
 * limit: queued when Kamailio went, docs/voice.md "Restarts"), or lost.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";
import type { Keys } from "../cti/redis/keys.js";
import { queuedIds } from "../cti/redis/store.js";
import { spawnChild } from "../launcher/child.js";
import { freePort } from "../launcher/ports.js";
import { parseSippLogLine } from "../launcher/sipp-log.js";
import { startAgentPhone, type AgentPhone } from "../test/helpers/sipp.js";
import { CALLERS, CC, PHONE_QUEUE, type AgentConfig, type ChaosConfig } from "./config.js";
import { errorText } from "./crashes.js";
import { rand } from "./population.js";

const CALLER_XML = fileURLToPath(new URL("../../softswitch/sipp/chaos-caller.xml", import.meta.url)); // from dist/chaos
const SIPP = process.env.SIPP_PATH ?? "sipp";
const HOST = "127.0.0.1";
/**
 * A caller who has heard no final response for this long gives up (its SIPp is stopped). Longer than any
 * call the contact center can still answer: maxWaitSeconds (25) and a ring (at most ringSeconds, 20) and a hold.
 */
const GIVE_UP_MS = 50_000;

export type CallKind = "background" | "burst" | "probe";

/** What one caller heard (times are epoch ms, SIPp's own clock readings). */
export interface CallRecord {
  n: number;
  kind: CallKind;
  /** sip:<user>@CALLERS, the session's `customer`. */
  customer: string;
  callId: string;
  startedAt: number;
  /** The first 180 Ringing: the call is acknowledged. */
  ringingAt?: number;
  finalCode?: number;
  /** The final response's Reason header ("" without one). */
  reason?: string;
  answeredAt?: number;
  endedAt?: number;
  hungUpBy?: string;
  /** The caller sent CANCEL (it hung up while waiting). */
  cancelled: boolean;
  /** No final response within GIVE_UP_MS: the caller hung up on its own timer. */
  gaveUp: boolean;
  /** Still waiting when the run ended: stopped by the runner after the drain. */
  stoppedAtEnd: boolean;
  /** SIPp could not run, or printed no event at all (not acknowledged, so not counted; reported). */
  error?: string;
  done: boolean;
}

/** A call's session hash in Redis, by its Call-ID (undefined before it is queued). */
export type SessionOf = (callId: string) => Promise<Record<string, string> | undefined>;

export interface RunningCall { record: CallRecord; finished: Promise<CallRecord>; stop(): void }

export interface Voice {
  calls: CallRecord[];
  /** SIPp callers running now. */
  inFlight(): number;
  phones: AgentPhone[];
  /**
   * The faults kamailio-kill9 and kamailio-restart: when the signal was sent, and when the process had exited
   * (a stopping Kamailio may still answer an INVITE with 180 in between).
   */
  switchFaults: Array<{ at: number; goneAt: number }>;
  startPhones(): Promise<void>;
  /** One call; resolves when it has ended (or the caller gave up). */
  call(kind: CallKind, opts?: { holdMs?: number; cancelAfterMs?: number }): RunningCall;
  /** Background callers, `perSecond` on average, until stopped (none while paused). */
  arrivals(perSecond: number): { stop(): Promise<void> };
  /**
   * No new background or burst call, and every call in flight ended, or hopeless (its session ended: lost with
   * the switch), at most 30 s: for faults run without calls.
   */
  pause(sessionOf: SessionOf): Promise<void>;
  resume(): void;
  readonly paused: boolean;
  /** Seconds from `since` until a fresh call is answered again (probes one after another, at most 60 s). */
  recovery(since: number): Promise<number>;
  /**
   * The end of the run: waits until every caller is done, or its session has ended (nobody can answer it
   * any more) or is still queued, or `deadline`; then stops the callers still waiting.
   */
  drain(deadline: number, sessionOf: SessionOf): Promise<void>;
  stop(): Promise<void>;
}

export function voicePopulation({ config, agents, runDir, background, recordCrash, log }: Pick<ChaosConfig, "config" | "agents"> & {
  runDir: string;
  background: (p: Promise<unknown>, what: string) => void;
  recordCrash: (what: string) => void;
  log: (line: string) => void;
}): Voice {
  const calls: CallRecord[] = [];
  const running = new Set<RunningCall>();
  const phones: AgentPhone[] = [];
  const switchFaults: Array<{ at: number; goneAt: number }> = [];
  const callsDir = join(runDir, "calls");
  mkdirSync(callsDir, { recursive: true });
  const proxy = `${HOST}:${config.ports.sip}`;
  let n = 0;
  let stopping = false;
  let paused = false;

  const call = (kind: CallKind, { holdMs = 0, cancelAfterMs = 0 } = {}): RunningCall => {
    const i = ++n;
    const user = `c${i}`;
    const record: CallRecord = {
      n: i, kind, customer: `sip:${user}@${CALLERS}`, callId: `chaos-${i}-${Math.random().toString(36).slice(2, 10)}@${HOST}`,
      startedAt: Date.now(), cancelled: false, gaveUp: false, stoppedAtEnd: false, done: false,
    };
    calls.push(record);
    let child: ReturnType<typeof spawnChild> | undefined;
    let stopRequested = false;
    const finished = (async () => {
      const dir = join(callsDir, String(i));
      mkdirSync(dir, { recursive: true });
      const logFile = join(dir, "events.log");
      try {
        const port = await freePort({ udp: true });
        const vars = { service: PHONE_QUEUE, domain: CC, caller: user, callerDomain: CALLERS, displayName: "", holdMs, cancelAfterMs, auth: "no" };
        child = spawnChild(`caller ${user}`, SIPP, [
          proxy, "-sf", CALLER_XML, "-i", HOST, "-bind_local", "-p", String(port), "-m", "1", "-r", "1000",
          ...Object.entries(vars).flatMap(([k, v]) => ["-set", k, String(v)]), "-cid_str", record.callId,
          "-trace_logs", "-log_file", logFile, "-nostdin",
          // SIPP_TRACE_DIR=/some/dir keeps every SIP message of every caller (and phone: test/helpers/sipp.ts) there.
          ...(process.env.SIPP_TRACE_DIR ? ["-trace_msg", "-message_file", join(process.env.SIPP_TRACE_DIR, `caller-${user}.log`)] : []),
        ], { cwd: dir });
        if (stopRequested) void child.stop(1000);
        const timer = setTimeout(() => { record.gaveUp = true; void child!.stop(1000); }, GIVE_UP_MS);
        await child.exited;
        clearTimeout(timer);
        let text = "";
        try { text = readFileSync(logFile, "utf8"); } catch { /* no line at all */ }
        for (const line of text.split("\n")) {
          const l = parseSippLogLine(line);
          if (!l) continue;
          const at = Math.round(l.at);
          const [, ...rest] = l.rest.split(" "); // <Call-ID> [details]
          if (l.name === "ringing") record.ringingAt ??= at;
          else if (l.name === "final" && record.finalCode === undefined) { record.finalCode = Number(rest[0]); record.reason = rest.slice(1).join(" ").trim(); }
          else if (l.name === "answered") record.answeredAt ??= at;
          else if (l.name === "ended") { record.endedAt = at; record.hungUpBy = rest[0]; }
          else if (l.name === "cancelling") record.cancelled = true;
        }
        if (!text.trim() && !record.gaveUp && !record.stoppedAtEnd) record.error = `no event: ${child.output().split("\n").slice(-3).join(" | ")}`;
      } catch (err) {
        record.error = errorText(err);
      } finally {
        record.done = true;
        rmSync(dir, { recursive: true, force: true });
      }
      if (record.error) log(`  caller ${user}: ${record.error}`);
      return record;
    })();
    const rc: RunningCall = { record, finished, stop: () => { stopRequested = true; void child?.stop(1000); } };
    running.add(rc);
    void finished.finally(() => running.delete(rc));
    return rc;
  };

  /** Until every call in flight has ended, or its session has ended over 2 s ago (lost with the switch: only its caller's timer is left), or `deadline`. */
  const settle = async (deadline: number, sessionOf: SessionOf) => {
    while (Date.now() < deadline && running.size) {
      let waiting = 0;
      for (const rc of running) {
        const s = await sessionOf(rc.record.callId).catch(() => undefined);
        if (s?.state === "ended" && Date.now() - Number(s.endedAt) > 2000) continue;
        waiting++;
      }
      if (!waiting) break;
      await sleep(200);
    }
  };

  /** Most callers wait for the seat to hang up; some hang up themselves after a while; a few give up waiting. */
  const backgroundCall = () => {
    const r = Math.random();
    return r < 0.1 ? call("background", { cancelAfterMs: Math.round(rand(300, 3000)) })
      : r < 0.5 ? call("background", { holdMs: Math.round(rand(500, 2500)) })
      : call("background");
  };

  const startPhones = async () => {
    const voiceAgents = agents.filter((a: AgentConfig) => a.voice);
    for (const a of voiceAgents) {
      const user = a.jid.split("@")[0]!;
      const phone = await startAgentPhone({
        proxy: { host: HOST, port: config.ports.sip }, user, password: a.password, domain: config.domain, mode: "answer",
        hangupMs: Math.round(rand(1000, 3000)), expires: 3600,
      });
      phones.push(phone);
      await phone.registered;
      // A phone that ends on its own (SIPp gave up) would silently take a seat out of the run: a crash of the run.
      phone.waitFor("__exit__", 1, 2 ** 31 - 1).catch((err: Error) => {
        if (!stopping) recordCrash(`phone ${user}: ${err.message.split("\n")[0]}`);
      });
    }
  };

  return {
    calls, phones, switchFaults, call, startPhones, inFlight: () => running.size,
    arrivals(perSecond) {
      let arriving = true;
      const loop = (async () => {
        while (arriving) {
          if (!paused) backgroundCall();
          await sleep(rand(0.5, 1.5) * (1000 / perSecond));
        }
      })();
      return { stop: () => { arriving = false; return loop; } };
    },
    get paused() { return paused; },
    async pause(sessionOf) {
      paused = true;
      await settle(Date.now() + 30_000, sessionOf);
    },
    resume() { paused = false; },
    async recovery(since) {
      const deadline = Date.now() + 60_000;
      let answeredAt: number | undefined;
      const probes: RunningCall[] = [];
      while (answeredAt === undefined && Date.now() < deadline) {
        const probe = call("probe", { holdMs: 300 });
        probes.push(probe);
        background(probe.finished, "a voice probe");
        // The next probe when this one is refused or has not been answered within 3 s (it goes on meanwhile).
        const until = Date.now() + 3000;
        while (!probe.record.done && Date.now() < until) {
          await sleep(100);
          const answered = probes.map((p) => p.record.answeredAt).filter((t): t is number => t !== undefined);
          if (answered.length) { answeredAt = Math.min(...answered); break; }
        }
        const answered = probes.map((p) => p.record.answeredAt).filter((t): t is number => t !== undefined);
        if (answered.length) answeredAt = Math.min(...answered);
        else if (probe.record.done) await sleep(200);
      }
      return Math.round((((answeredAt ?? Date.now()) - since) / 1000) * 100) / 100;
    },
    async drain(deadline, sessionOf) {
      await settle(deadline, sessionOf);
      for (const rc of running) { rc.record.stoppedAtEnd = true; rc.stop(); }
      await Promise.all([...running].map((rc) => rc.finished));
    },
    async stop() {
      stopping = true;
      for (const rc of running) { rc.record.stoppedAtEnd = true; rc.stop(); }
      await Promise.all([...running].map((rc) => rc.finished));
      await Promise.all(phones.map((p) => p.stop(3000).catch(() => undefined)));
    },
  };
}

const detail = (list: string[], line: string) => { if (list.length < 100) list.push(line); };

export interface VoiceCounts {
  /** Calls placed (background, bursts and recovery probes). */
  callsPlaced: number;
  /** Calls whose caller heard no 180 (the switch down, a refusal before queueing): no promise, not counted. */
  callsNotAcknowledged: number;
  callsAcknowledged: number;
  /** 200, then ended by a BYE (either side). */
  callsServed: number;
  /** A final 4xx/5xx with a Reason header. */
  callsToldWhy: number;
  /** The caller hung up while waiting (CANCEL, 487). */
  callsCancelled: number;
  /** No final response, and its session still queued in Redis at the end. */
  callsStillQueued: number;
  /**
   * No final response; queued in Kamailio, or ringing a seat, when Kamailio was killed or stopped, and its
   * session ended `call-failed` after that: the documented limit (docs/voice.md, Restarts). Not counted as lost.
   */
  callsLostWithSwitch: number;
  /** Of those, the calls whose seat's phone was already ringing when the switch went. */
  callsLostWithSwitchRinging: number;
  callsLost: number;
  /** A call with two sessions, or answered by two phones. */
  callsDuplicated: number;
  /** Final responses with a Reason, by "code text". */
  toldWhyReasons: Record<string, number>;
  /** Voice sessions neither ended nor queued after the drain (an invariant: 0). */
  voiceSessionsLeftLive: number;
  /** Seats with `calls` or `active` above 0 at the end while they have no live session (an invariant: 0). */
  seatsNotFreed: number;
  /**
   * Sessions queued for a call after its first session had ended (a replayed `invite` report; no phone rang
   * for them): an invariant (0) since 99393a1 fixed it; see docs/chaos.md.
   */
  callSessionsReplayed: number;
  callSessionsReplayedDetails: string[];
  /** Served calls whose Redis session nonetheless ended as `call-failed` (the switch restarted while they rang). */
  servedButCallFailed: number;
  servedButCallFailedDetails: string[];
  callerErrors: number;
  lostWithSwitchDetails: string[];
  callsLostDetails: string[];
  callsDuplicatedDetails: string[];
  voiceSessionsLeftLiveDetails: string[];
  seatsNotFreedDetails: string[];
}

/** Reads every voice session (by customer URI) and classifies the calls; checks sessions and seats after the drain. */
export async function checkVoice({ inspector, prefix, keys, agents, voice }: { inspector: Redis; prefix: string; keys: Keys; agents: AgentConfig[]; voice: Voice }): Promise<VoiceCounts> {
  const c: VoiceCounts = {
    callsPlaced: voice.calls.length, callsNotAcknowledged: 0, callsAcknowledged: 0, callsServed: 0, callsToldWhy: 0, callsCancelled: 0,
    callsStillQueued: 0, callsLostWithSwitch: 0, callsLostWithSwitchRinging: 0, callsLost: 0, callsDuplicated: 0, toldWhyReasons: {}, voiceSessionsLeftLive: 0, seatsNotFreed: 0,
    callSessionsReplayed: 0, callSessionsReplayedDetails: [], servedButCallFailed: 0, servedButCallFailedDetails: [], callerErrors: 0, lostWithSwitchDetails: [], callsLostDetails: [], callsDuplicatedDetails: [], voiceSessionsLeftLiveDetails: [],
    seatsNotFreedDetails: [],
  };
  // Every voice session, by customer.
  const byCustomer = new Map<string, Array<Record<string, string>>>();
  const voiceSessions: Array<Record<string, string>> = [];
  let cursor = "0";
  do {
    const [next, found] = await inspector.scan(cursor, "MATCH", `${prefix}s:*`, "COUNT", "1000");
    cursor = next;
    const media = await Promise.all(found.map((k) => inspector.hget(k, "media")));
    const hashes = await Promise.all(found.filter((_, i) => media[i] === "voice").map((k) => inspector.hgetall(k)));
    for (const h of hashes) {
      if (!h.customer) continue;
      voiceSessions.push(h);
      byCustomer.set(h.customer, [...(byCustomer.get(h.customer) ?? []), h]);
    }
  } while (cursor !== "0");
  const queued = new Set(await queuedIds(inspector, keys, PHONE_QUEUE));
  // Which phones answered each call, and when each phone was first rung with it (from the phones' own logs).
  const answeredBy = new Map<string, Set<number>>();
  const phoneLog = new Map<string, string[]>();
  const firstRungAt = new Map<string, number>();
  voice.phones.forEach((p, i) => {
    for (const e of p.events()) {
      const callId = e.detail.split(" ")[0]!;
      if (e.name === "answered") answeredBy.set(callId, new Set([...(answeredBy.get(callId) ?? []), i]));
      if (e.name === "invite" && !(firstRungAt.get(callId)! <= e.at)) firstRungAt.set(callId, e.at);
      if (["invite", "answered", "cancelled", "busy", "ended"].includes(e.name)) phoneLog.set(callId, [...(phoneLog.get(callId) ?? []), `phone ${i} ${e.name} ${new Date(e.at).toISOString().slice(11, 23)}`]);
    }
  });
  const iso = (ms: number | string | undefined) => (ms ? new Date(Number(ms)).toISOString().slice(11, 23) : "-");
  const describe = (r: CallRecord, sessions: Array<Record<string, string>>) =>
    `call #${r.n} (${r.kind}) ${r.customer} ${r.callId}: started ${iso(r.startedAt)}, ringing ${iso(r.ringingAt)}, final ${r.finalCode ?? "-"} ${r.reason ?? ""}` +
    `${r.answeredAt ? `, answered ${iso(r.answeredAt)}` : ""}${r.endedAt ? `, ended ${iso(r.endedAt)} by ${r.hungUpBy}` : ""}${r.cancelled ? ", cancelled" : ""}` +
    `${r.gaveUp ? ", gave up" : ""}${r.stoppedAtEnd ? ", stopped at the end" : ""}; Redis: ` +
    (sessions.length ? sessions.map((h) => `session ${h.id} state=${h.state} seat=${h.seat || "-"} endReason=${h.endReason || "-"} queued ${iso(h.queuedAt)} assigned ${iso(h.assignedAt)} ended ${iso(h.endedAt)}`).join("; ") : "no session") +
    `; phones: ${phoneLog.get(r.callId)?.join(", ") ?? "never rung"}` +
    (voice.switchFaults.length ? `; switch faults at ${voice.switchFaults.map((f) => `${iso(f.at)}-${iso(f.goneAt)}`).join(", ")}` : "");

  for (const r of voice.calls) {
    if (r.error) c.callerErrors++;
    if (r.ringingAt === undefined) { c.callsNotAcknowledged++; continue; }
    c.callsAcknowledged++;
    const all = (byCustomer.get(r.customer) ?? []).sort((a, b) => Number(a.queuedAt) - Number(b.queuedAt));
    // A session queued for this call after its first one had ended: the switch's `invite` report handled
    // again (a component killed before acknowledging it; claimed 10 s later by another). No phone rings for
    // it (the switch no longer holds the call): counted apart from duplicates (an invariant of its own since
    // 99393a1 fixed it).
    const first = all[0];
    const replays = all.slice(1).filter((h) => first?.state === "ended" && Number(h.queuedAt) >= Number(first.endedAt) && !h.inServiceAt);
    if (replays.length) {
      c.callSessionsReplayed += replays.length;
      detail(c.callSessionsReplayedDetails, describe(r, all));
    }
    const sessions = all.filter((h) => !replays.includes(h));
    const phonesAnswering = answeredBy.get(r.callId)?.size ?? 0;
    if (sessions.length > 1 || phonesAnswering > 1) {
      c.callsDuplicated++;
      detail(c.callsDuplicatedDetails, `${describe(r, all)}; answered by ${phonesAnswering} phones`);
    }
    const code = r.finalCode;
    if (code === 200 && r.endedAt !== undefined) {
      c.callsServed++;
      if (sessions.some((h) => h.endReason === "call-failed")) {
        c.servedButCallFailed++;
        detail(c.servedButCallFailedDetails, describe(r, all));
      }
    } else if (code === 487 && r.cancelled) c.callsCancelled++;
    else if (code !== undefined && code >= 400 && r.reason) {
      c.callsToldWhy++;
      const text = /text="([^"]*)"/.exec(r.reason)?.[1] ?? r.reason;
      const key = `${code} ${text}`;
      c.toldWhyReasons[key] = (c.toldWhyReasons[key] ?? 0) + 1;
    } else if (code === undefined) {
      const live = sessions.find((h) => h.state !== "ended");
      const ended = sessions.find((h) => h.state === "ended");
      // The documented limit (docs/voice.md, Restarts): handed to a seat (ringing, or about to) when the switch
      // went (its transaction is in memory only); the CTI ended it as call-failed afterwards. A call still queued
      // then is answered 480 by the switch after it, so it is told why (since dc38141); one not told is counted
      // here too, and listed. Whether a seat's phone had been rung is told apart (the phones' logs, not the
      // session's assignedAt: the CTI may have allocated a seat a few ms before without the switch ringing it).
      const rungAt = firstRungAt.get(r.callId);
      const fault = ended?.endReason === "call-failed" ? voice.switchFaults.find(({ at, goneAt }) => r.ringingAt! <= goneAt && Number(ended.endedAt) >= at) : undefined;
      const withSwitch = fault !== undefined;
      if (live && live.state === "queued" && queued.has(live.id!) && !r.gaveUp) c.callsStillQueued++;
      else if (withSwitch && !live) {
        c.callsLostWithSwitch++;
        if (rungAt !== undefined && rungAt < fault.at) c.callsLostWithSwitchRinging++;
        detail(c.lostWithSwitchDetails, describe(r, sessions));
      } else {
        c.callsLost++;
        detail(c.callsLostDetails, describe(r, sessions));
      }
    } else {
      c.callsLost++;
      detail(c.callsLostDetails, describe(r, sessions));
    }
  }

  // After the drain: every voice session ended, or queued (its caller was still waiting).
  const liveBySeat = new Map<string, number>();
  for (const h of voiceSessions) {
    if (h.state === "ended") continue;
    if (h.seat) liveBySeat.set(h.seat, (liveBySeat.get(h.seat) ?? 0) + 1);
    if (h.state === "queued" && queued.has(h.id!)) continue;
    c.voiceSessionsLeftLive++;
    detail(c.voiceSessionsLeftLiveDetails, `session ${h.id} ${h.customer} state=${h.state} seat=${h.seat || "-"} queued ${iso(h.queuedAt)} assigned ${iso(h.assignedAt)}`);
  }
  // Seats: no call counted on a seat that has no live session, and nothing active on an idle seat.
  for (const a of agents) {
    const [calls, active, members] = await Promise.all([
      inspector.hget(keys.agent(a.jid), "calls"), inspector.hget(keys.agent(a.jid), "active"), inspector.scard(keys.agentSessions(a.jid)),
    ]);
    const liveCalls = liveBySeat.get(a.jid) ?? 0;
    if (Number(calls ?? 0) > liveCalls || (members === 0 && Number(active ?? 0) > 0)) {
      c.seatsNotFreed++;
      detail(c.seatsNotFreedDetails, `${a.jid}: calls=${calls ?? 0} active=${active ?? 0} live sessions=${members} live calls=${liveCalls}`);
    }
  }
  return c;
}
