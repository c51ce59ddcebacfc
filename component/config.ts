/**
 * The one YAML configuration file (JSON is YAML too): schema, defaults and a
 * loader whose errors name the bad key. Unknown keys are kept, so later
 * features can add theirs without breaking older files.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { z } from "zod";
import { STRATEGIES } from "../cti/allocation.js";
import { DAYS, parseRange, type Hours } from "../cti/hours.js";
import { LIMITS } from "../cti/policy.js";
import { SCOPES } from "./http/scopes.js";
import type { Queue } from "../cti/types.js";

const validTimezone = (tz: string) => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const hostname = z
  .string()
  .regex(/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, "must be a lowercase DNS name");
// Lower case, as Prosody prepares the JIDs it stamps on stanzas (a configured "Alice@..." would match none).
const bareJid = z.string().regex(/^[^@/\s"&'<>:]{1,64}@[a-z0-9.-]{1,253}$/, "must be a bare JID such as alice@example.test").transform((j) => j.toLowerCase());
const port = z.number().int().min(1).max(65535);
/** A skill name: short, so a customer cannot send an absurd one. */
export const skillName = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,31}$/i, "must be 1-32 letters, digits, '_', '.' or '-'");

/** Skills as a list ([billing, fr]) or with levels 1-10 ({billing: 8, fr: 3}). */
const skillSet = z.union([
  z.array(skillName),
  z.record(skillName, z.number().int().min(1).max(10)),
], { error: "must be a list of skills, e.g. [billing], or skills with levels 1-10, e.g. {billing: 8}" }).default([]);
/** The names of a skill set, and the levels it gives. */
export const skillNames = (set: string[] | Record<string, number>) => (Array.isArray(set) ? set : Object.keys(set));
export const skillLevels = (set: string[] | Record<string, number>) => (Array.isArray(set) ? {} : set);

const queue = z
  .looseObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, "must be lowercase letters, digits, '_', '.' or '-'"),
    title: z.string().max(100).optional(),
    /** Skills every seat must have; with levels, the minimum level of each. */
    skills: skillSet,
    /** How to choose among the seats that can serve. */
    strategy: z.enum(STRATEGIES).optional(),
    /** Customers of this queue start with this priority (higher first). */
    priority: z.number().int().min(-100).max(100).optional(),
    /** A waiting customer gains one priority step per this many seconds. */
    agingSeconds: z.number().int().min(1).optional(),
    /** A returning customer is kept for the seat that served it last, if it is free within this many seconds. */
    stickySeconds: z.number().int().min(1).max(3600).optional(),
    allowGuests: z.boolean().default(true),
    /** JIDs or domains refused by this queue. */
    deny: z.array(z.string().min(1).max(300)).default([]),
    /** A closed queue refuses joins with service-unavailable. */
    open: z.boolean().default(true),
    /** Seconds an assigned customer has to write to the seat before it is released (unset: no limit). */
    assignTimeout: z.number().int().min(1).max(3600).optional(),
    /** Seconds a seat is not allocated after each session of this queue (after-chat work); the agent may end it early. */
    wrapUpSeconds: z.number().int().min(0).max(3600).optional(),
    /** Seconds a seat has to answer an assigned customer before the customer goes to another seat. */
    firstResponseTimeout: z.number().int().min(1).max(3600).optional(),
    /** Seconds an XEP-0142 offer to an agent's client stands (default 20). */
    offerTimeout: z.number().int().min(1).max(600).optional(),
    /** Unanswered customers in a row after which the seat is set not ready (with firstResponseTimeout). */
    maxNoAnswer: z.number().int().min(1).max(100).optional(),
    /** At most this many customers wait; more are refused. */
    maxWaiting: z.number().int().min(1).optional(),
    /** A customer who waited this long leaves the queue with a notice. */
    maxWaitSeconds: z.number().int().min(1).optional(),
    /** Business hours: { timezone, weekly: { mon: ["09:00-17:00"], ... }, holidays: ["YYYY-MM-DD"] }. */
    hours: z.looseObject({
      timezone: z.string().refine(validTimezone, "must be an IANA time zone such as Europe/Paris"),
      weekly: z.partialRecord(z.enum(DAYS), z.array(z.string().refine((r) => parseRange(r) !== null, "must be a range such as 09:00-17:00"))),
      holidays: z.array(z.string().regex(/^\d{4}-\d\d-\d\d$/, "must be a date such as 2026-12-25")).default([]),
    }).optional(),
    /** After waiting overflowAfter seconds, seats with overflowTo's skills (or those of the queue it names) may serve too. */
    overflowAfter: z.number().int().min(1).optional(),
    overflowTo: z.union([z.looseObject({ skills: z.array(skillName).min(1) }), z.looseObject({ queue: z.string() })]).optional(),
    /** Days the history (records/) keeps this queue's sessions, transcripts and events; older ones are deleted. */
    retentionDays: z.number().int().min(1).max(36500).default(365),
    /** Service level: the share of offered customers answered within this many seconds (statistics). */
    serviceLevelSeconds: z.number().int().min(1).max(3600).default(20),
    /** What the queue takes: chats (XMPP) and calls (SIP, sip:<queue>@<component domain>). */
    media: z.array(z.enum(["chat", "voice"])).min(1).default(["chat", "voice"]),
    /** Extra pre-chat form fields the customer page shows (name and subject are always there). */
    fields: z.array(z.looseObject({
      var: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/i, "must be a form field name"),
      label: z.string().min(1).max(100),
      required: z.boolean().default(false),
    })).default([]),
  });

const agent = z.looseObject({
  jid: bareJid,
  password: z.string().min(1),
  name: z.string().max(100).optional(),
  /** Skills as a list, or with levels 1-10. */
  skills: skillSet,
  maxChats: z.number().int().min(1).max(LIMITS.maxChats).default(1),
  /** Takes calls on the SIP phones registered with its account (sip:user@domain, same password). */
  voice: z.boolean().default(false),
});

export const configSchema = z.looseObject({
  domain: hostname,
  guestDomain: hostname,
  component: z.looseObject({
    domain: hostname,
    secret: z.string().min(1),
    /** Where Prosody's component port listens. */
    host: z.string().default("127.0.0.1"),
  }),
  /** Address the web server binds to. */
  web: z.looseObject({
    host: z.string().default("127.0.0.1"),
    /** Prosody's WebSocket as browsers reach it; default ws://127.0.0.1:<ports.http>/xmpp-websocket. */
    websocketUrl: z.string().regex(/^wss?:\/\//, "must be a ws:// or wss:// URL").optional(),
  }).default({ host: "127.0.0.1" }),
  /**
   * sip (UDP and TCP, phones), sipWs (WebSocket, browsers) and sipEvents (the switch's evapi socket, for
   * the component) switch voice on: npm start then runs Kamailio.
   */
  ports: z.looseObject({ c2s: port, http: port, component: port, redis: port, web: port, sip: port.optional(), sipWs: port.optional(), sipEvents: port.optional() }),
  /** The soft switch (Kamailio): where it listens, and how calls share a seat with chats. */
  softswitch: z.looseObject({
    host: z.string().default("127.0.0.1"),
    /** Seconds a seat's phones ring before the call goes back to the head of its queue (a queue's firstResponseTimeout wins). */
    ringSeconds: z.number().int().min(5).max(300).default(20),
    /** Seconds a seat whose phone missed a call (no answer, busy) is not offered calls or chats again. */
    retrySeconds: z.number().int().min(0).max(300).default(5),
    /** A seat on a call may still be given chats (by default a call takes the whole seat). */
    chatsDuringCalls: z.boolean().default(false),
  }).default({ host: "127.0.0.1", ringSeconds: 20, retrySeconds: 5, chatsDuringCalls: false }),
  /**
   * The media relay (rtpengine) that calls with a browser leg go through when voice is on: the address it
   * relays on (and writes into SDP), the UDP ports it takes RTP and RTCP from, and its ng control port
   * (loopback, for the soft switch; a free one is picked at start when unset). `anchor`: "webrtc" (calls
   * between SIP phones are direct, no media server in their path) or "all" (every call through rtpengine,
   * for phones that cannot reach each other, e.g. behind NAT).
   */
  media: z.looseObject({
    host: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, "must be an IPv4 address such as 127.0.0.1").default("127.0.0.1"),
    rtpMin: port.default(30000),
    rtpMax: port.default(39999),
    ngPort: port.optional(),
    anchor: z.enum(["webrtc", "all"]).default("webrtc"),
  }).default({ host: "127.0.0.1", rtpMin: 30000, rtpMax: 39999, anchor: "webrtc" }),
  /**
   * The admin API's bearer tokens: `token` (plain text, kept for compatibility) is one full-power token named
   * "admin"; `tokens` are stored as the sha256 (hex) of the token, each with its scopes (read, supervise,
   * admin; admin has every scope). `npm run new-token` makes one. docs/threat-model.md: roles and scopes.
   */
  admin: z.looseObject({
    token: z.string().min(8, "must be at least 8 characters"),
    tokens: z.array(z.looseObject({
      name: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/i, "must be 1-64 letters, digits, '_', '.' or '-'"),
      sha256: z.string().regex(/^[0-9a-f]{64}$/i, "must be the sha256 of the token, 64 hex digits").transform((h) => h.toLowerCase()),
      scopes: z.array(z.enum(SCOPES)).min(1, "must name at least one scope (read, supervise, admin)"),
    })).default([]),
  }),
  /** The audit log (records/, table audit): what supervisors and admins did, kept this many days. */
  audit: z.looseObject({ retentionDays: z.number().int().min(1).max(36500).default(730) }).default({ retentionDays: 730 }),
  redis: z.looseObject({ url: z.string().url().optional(), prefix: z.string().default("sb:") }).default({ prefix: "sb:" }),
  /**
   * The history (records/): SQLite in runDir (records.sqlite) unless url names a PostgreSQL database
   * (postgres://user:password@host:port/db). Redis stays the live state.
   */
  database: z.looseObject({ url: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL").optional() }).default({}),
  /**
   * The contact center's time zone: a supervisor's change to an agent's skills or capacity lasts until
   * midnight there. Default: the machine's.
   */
  timezone: z.string().refine(validTimezone, "must be an IANA time zone such as Europe/Paris").default(() => Intl.DateTimeFormat().resolvedOptions().timeZone),
  /**
   * What Prosody offers modern XMPP clients (issue 15, docs/clients.md): the message archive's retention on the
   * users' domain (XEP-0313; the guest domain keeps none; 0, the default: no archive, for its cost in Prosody
   * and its file storage's limits: see docs/clients.md) and how long a dropped client's session waits for
   * stream resumption (XEP-0198) before it counts as offline (default 60 s, short because a dropped agent's
   * customers wait that long; 0: no stream management). A hibernating seat is reported not ready (docs/clients.md).
   */
  xmpp: z.looseObject({
    archiveDays: z.number().int().min(0).max(3650).default(0),
    resumeSeconds: z.number().int().min(0).max(3600).default(60),
  }).default({ archiveDays: 0, resumeSeconds: 60 }),
  /**
   * Files in conversations (XEP-0363, Prosody's mod_http_file_share on upload.<domain>): agents and guests may
   * upload files of these media types ("image/*" matches every image; empty: any type) up to maxBytes each,
   * dailyBytes per account a day, totalBytes stored in all; a file is deleted expireDays after its upload.
   * baseUrl: where clients reach Prosody's http port (default: from web.websocketUrl, else http://127.0.0.1:<ports.http>/).
   */
  files: z.looseObject({
    enabled: z.boolean().default(true),
    maxBytes: z.number().int().min(1).default(10 * 1024 * 1024),
    types: z.array(z.string().regex(/^[a-z0-9.+-]+\/([a-z0-9.+-]+|\*)$/i, "must be a media type such as image/png or image/*")).default(["image/*", "application/pdf", "text/plain"]),
    dailyBytes: z.number().int().min(1).default(100 * 1024 * 1024),
    totalBytes: z.number().int().min(1).default(1024 * 1024 * 1024),
    expireDays: z.number().int().min(1).max(3650).default(7),
    baseUrl: z.string().regex(/^https?:\/\/[^/?#]+\/?$/, "must be an http:// or https:// origin such as https://chat.example.com").optional(),
  }).default({ enabled: true, maxBytes: 10 * 1024 * 1024, types: ["image/*", "application/pdf", "text/plain"], dailyBytes: 100 * 1024 * 1024, totalBytes: 1024 * 1024 * 1024, expireDays: 7 }),
  /** Where the launcher writes Prosody's config, data and pid files. */
  runDir: z.string().default("run"),
  /** An assigned customer who goes offline may resume within this many seconds (a page reload). */
  customerGraceSeconds: z.number().min(0).max(600).default(30),
  /** Reasons an agent may pick when pausing (ad-hoc command "pause"); free text is allowed too. */
  pauseReasons: z.array(z.string().min(1).max(100)).default(["Break", "Lunch", "Meeting", "Training", "After-call work"]),
  /** Ready-made replies offered on the agent desk. */
  cannedResponses: z.array(z.string().min(1).max(1000)).default([]),
  /** Stanzas one client (full JID) may send the component: a burst, then so many a second. */
  rateLimit: z.looseObject({ burst: z.number().int().min(1), perSecond: z.number().min(0.1) }).default({ burst: 50, perSecond: 20 }),
  /** Seconds between unconditional queue-status pushes (protocol: at most 15). */
  statusIntervalSeconds: z.number().min(1).max(15).default(15),
  queues: z.array(queue).min(1),
  agents: z.array(agent).default([]),
  /** Customer tiers: priority added for a bare JID or a whole domain. */
  priorities: z.record(z.string().min(1).max(300), z.number().int().min(-100).max(100)).default({}),
  /** Supervisors: staff who may write to any seat and run the supervisor ad-hoc commands. */
  /**
   * Supervisors: staff who may write to any seat and run the supervisor ad-hoc commands. `queues` limits one
   * to those queues' sessions and the agents with their skills (default: every queue); `role: admin` marks an
   * administrator (every queue; no `queues`).
   */
  supervisors: z.array(z.looseObject({
    jid: bareJid, password: z.string().min(1), name: z.string().max(100).optional(),
    role: z.enum(["supervisor", "admin"]).default("supervisor"),
    queues: z.array(z.string().min(1).max(64)).min(1, "must name at least one queue (leave it out for every queue)").optional(),
  })).default([]),
  /** Registered customer accounts the launcher provisions (demo and tests); customers may also use their own. */
  customers: z.array(z.looseObject({ jid: bareJid, password: z.string().min(1) })).default([]),
});

export type Config = z.infer<typeof configSchema>;
/** A configuration as written, before defaults are filled in. */
export type ConfigInput = z.input<typeof configSchema>;
export type QueueConfig = Config["queues"][number];
export type AgentConfig = Config["agents"][number];

/** A configured queue as the CTI sees it (overflowTo resolved to skills). */
export function queueOf(config: Config, q: QueueConfig): Queue {
  const to = q.overflowTo;
  const overflowSkills = !to ? undefined
    : typeof to.queue === "string" ? skillNames(config.queues.find((other) => other.name === to.queue)!.skills)
    : (to.skills as string[]);
  return {
    name: q.name, title: q.title, skills: skillNames(q.skills), minLevels: skillLevels(q.skills), strategy: q.strategy,
    priority: q.priority, agingSeconds: q.agingSeconds, stickySeconds: q.stickySeconds,
    allowGuests: q.allowGuests, deny: q.deny, open: q.open,
    assignTimeout: q.assignTimeout, wrapUpSeconds: q.wrapUpSeconds, maxWaiting: q.maxWaiting, maxWaitSeconds: q.maxWaitSeconds,
    firstResponseTimeout: q.firstResponseTimeout, maxNoAnswer: q.maxNoAnswer, offerTimeout: q.offerTimeout,
    hours: q.hours as Hours | undefined, overflowAfter: q.overflowAfter, overflowSkills, media: q.media,
  };
}

/** The XEP-0363 upload service's domain (a Prosody component). */
export const uploadDomainOf = (config: Config): string => `upload.${config.domain}`;

/**
 * Where clients reach Prosody's http port, so where upload slots point: files.baseUrl, else the origin of
 * web.websocketUrl (ws -> http, wss -> https), else loopback.
 */
export function filesBaseUrl(config: Config): string {
  if (config.files.baseUrl) return config.files.baseUrl.replace(/\/?$/, "/");
  if (config.web.websocketUrl) {
    const ws = new URL(config.web.websocketUrl);
    return `${ws.protocol === "wss:" ? "https:" : "http:"}//${ws.host}/`;
  }
  return `http://127.0.0.1:${config.ports.http}/`;
}

/** Every account the launcher registers in Prosody: agents, supervisors, customers. */
export const accountsOf = (config: Config) => [...config.agents, ...config.supervisors, ...config.customers];

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Validates a parsed document; the message lists every bad key by path. */
export function validateConfig(doc: unknown, source = "config"): Config {
  const result = configSchema.safeParse(doc);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${formatPath(i.path) || "(top level)"}: ${i.message}`);
    throw new ConfigError(`${source} is invalid:\n${lines.join("\n")}`);
  }
  const config = result.data;
  const dup = (names: string[]) => names.find((n, i) => names.indexOf(n) !== i);
  const dq = dup(config.queues.map((q) => q.name));
  if (dq) throw new ConfigError(`${source} is invalid:\n  queues: the name "${dq}" is used twice`);
  const da = dup(config.agents.map((a) => a.jid));
  if (da) throw new ConfigError(`${source} is invalid:\n  agents: the jid "${da}" is used twice`);
  for (const [i, q] of config.queues.entries()) {
    const to = q.overflowTo;
    if (to && "queue" in to && !config.queues.some((other) => other.name === to.queue))
      throw new ConfigError(`${source} is invalid:\n  queues[${i}].overflowTo.queue: there is no queue "${to.queue}"`);
    if (Boolean(q.overflowAfter) !== Boolean(to))
      throw new ConfigError(`${source} is invalid:\n  queues[${i}]: overflowAfter and overflowTo go together`);
  }
  for (const [list, accounts] of [["agents", config.agents], ["supervisors", config.supervisors], ["customers", config.customers]] as const) {
    for (const [i, a] of accounts.entries()) {
      if (a.jid.split("@")[1] !== config.domain)
        throw new ConfigError(`${source} is invalid:\n  ${list}[${i}].jid: must be on the domain ${config.domain}`);
    }
  }
  for (const [i, s] of config.supervisors.entries()) {
    const unknown = s.queues?.find((name) => !config.queues.some((q) => q.name === name));
    if (unknown !== undefined) throw new ConfigError(`${source} is invalid:\n  supervisors[${i}].queues: there is no queue "${unknown}"`);
    if (s.role === "admin" && s.queues) throw new ConfigError(`${source} is invalid:\n  supervisors[${i}]: an admin has every queue (leave out queues)`);
  }
  const dt = dup(config.admin.tokens.map((t) => t.name));
  if (dt || config.admin.tokens.some((t) => t.name === "admin")) throw new ConfigError(`${source} is invalid:\n  admin.tokens: the name "${dt ?? "admin"}" is used twice ("admin" is admin.token's)`);
  const sipPorts = [config.ports.sip, config.ports.sipWs, config.ports.sipEvents].filter((p) => p !== undefined).length;
  if (sipPorts !== 0 && sipPorts !== 3) throw new ConfigError(`${source} is invalid:\n  ports: sip, sipWs and sipEvents go together (voice)`);
  // rtpengine takes two ports per stream (RTP and RTCP): a range of fewer than 2 cannot carry one call leg.
  if (config.media.rtpMax - config.media.rtpMin < 3) throw new ConfigError(`${source} is invalid:\n  media: rtpMax must be at least rtpMin + 3 (two ports per stream, two streams per call)`);
  return config;
}

/** Whether the configuration switches voice on (the soft switch runs). */
export const hasVoice = (config: Config): config is VoiceConfig => config.ports.sip !== undefined;
export type VoiceConfig = Config & { ports: { sip: number; sipWs: number; sipEvents: number } };

function formatPath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`)).join("");
}

export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL("../../config/demo.yaml", import.meta.url));

/** Reads SWITCHBOARD_CONFIG (or the demo config) and validates it. */
export function loadConfig(path = process.env.SWITCHBOARD_CONFIG || DEFAULT_CONFIG_PATH): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read the configuration ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError(`${path} is not valid YAML: ${(err as Error).message}`);
  }
  return validateConfig(doc, path);
}
