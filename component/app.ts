/**
 * The component process, wired: Redis store, CTI, XEP-0114 connection to
 * Prosody, stanza handlers, event notifier, periodic tick and web server.
 * main.ts runs it; integration tests start it in-process the same way.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { component, xml } from "@xmpp/component";
import type { Element } from "@xmpp/xml";
import { Redis } from "ioredis";
import { pino, type Logger } from "pino";
import { createCti } from "../cti/cti.js";
import { nextMidnight } from "../cti/hours.js";
import { ensureRecorderGroup } from "../records/recorder.js";
import { EventReader, NOTIFIER_GROUP, trimEventLog } from "../cti/redis/events.js";
import { RedisStore } from "../cti/redis/store.js";
import { hasVoice, queueOf, skillLevels, skillNames, type Config } from "./config.js";
import { configDigests } from "./config-digest.js";
import { createHttpApp } from "./http/api.js";
import { homePage } from "./http/home.js";
import { WEB_DIR, webConfig } from "./http/web-config.js";
import { createMetrics } from "./metrics.js";
import { createNotifier } from "./notifier.js";
import { openHistory, sqliteFile, type History } from "../records/db.js";
import { createCalls, parseSwitchEvent, type Calls } from "./sip/calls.js";
import { createSwitchLink, type SwitchLink } from "./sip/switch-link.js";
import { startEntity } from "./xmpp/start-entity.js";
import { corkEachTick } from "./cork.js";
import { coalesceWrites, tuneSocket } from "./xmpp/tcp-socket.js";
import { registerHandlers } from "./xmpp/router.js";
import { createWallboard } from "./xmpp/wallboard.js";
import { supervisorScope } from "./authz.js";
import { asSent } from "./xmpp/stanzas.js";

/** How soon to try again when Prosody cannot be reached at all. */
const RECONNECT_MS = 1000;

export interface ComponentOptions {
  redisUrl: string;
  log?: Logger;
  /** Port for the web server; defaults to config.ports.web (tests pass 0). */
  webPort?: number;
}

export async function startComponent(config: Config, { redisUrl, log = pino({ level: process.env.LOG_LEVEL ?? "info" }), webPort = config.ports.web }: ComponentOptions) {
  const tuneRedis = (conn: Redis, name: string) => {
    // Commands of the same tick share one socket write, and each leaves in the tick it is issued. ioredis's
    // auto-pipelining shares writes too, but sends a connection's next batch only once every reply of the
    // batch before it is in: a join waited for a routing pass's replies, and each batch's commands and
    // replies lived as long as its slowest, long enough to reach V8's old generation (docs/benchmarks.md).
    conn.on("connect", () => corkEachTick(conn.stream));
    // A lost Redis connection is an event (ioredis reconnects by itself), not an unhandled 'error'.
    conn.on("error", (err: Error) => log.warn({ err: err.message, connection: name }, "redis connection error; reconnecting"));
    return conn;
  };
  const redis = tuneRedis(new Redis(redisUrl, { maxRetriesPerRequest: 2 }), "commands");
  const blocking = tuneRedis(redis.duplicate(), "events"); // XREADGROUP BLOCK holds its connection
  const store = new RedisStore(redis, config.redis.prefix);
  /** The configured agents' profiles (under a supervisor's change for the day, until it expires). */
  const syncAgents = async () => {
    for (const a of config.agents) {
      await store.upsertAgent({
        jid: a.jid, name: a.name, skills: skillNames(a.skills), levels: skillLevels(a.skills), maxChats: a.maxChats,
        voice: a.voice && hasVoice(config), chatsDuringCalls: config.softswitch.chatsDuringCalls,
      });
    }
  };
  // Started while Redis restarts (a standby replacing a killed instance): wait for it rather than exit.
  for (let attempt = 1; ; attempt++) {
    try {
      await syncAgents();
      await store.configSeen(configDigests(config), Date.now()); // an edited configuration is audited (issue 13)
      await store.reindex();
      // From the first event on, the log keeps what the recorder (a process of its own) has not read yet.
      await ensureRecorderGroup(redis, store.keys);
      break;
    } catch (err) {
      if (attempt >= 60) throw err;
      log.warn({ err: (err as Error).message, attempt }, "redis not ready at start; retrying");
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const cti = createCti({
    store, guestDomain: config.guestDomain, now: Date.now, graceSeconds: config.customerGraceSeconds, tiers: config.priorities,
    queues: config.queues.map((q) => queueOf(config, q)),
  });

  const agents = new Map(config.agents.map((a) => [a.jid, a]));
  const supervisorsByJid = new Map(config.supervisors.map((s) => [s.jid, s]));
  const nameOf = (jid: string) => agents.get(jid)?.name ?? supervisorsByJid.get(jid)?.name ?? jid.split("@")[0]!.replace(/^./, (c) => c.toUpperCase());
  const cc = config.component.domain;

  const entity = component({ service: `xmpp://${config.component.host}:${config.ports.component}`, domain: cc, password: config.component.secret });
  tuneSocket(entity);
  coalesceWrites(entity);
  const sendRaw = entity.send.bind(entity);
  entity.send = (stanza: Element) => sendRaw(asSent(stanza)); // the iq callee's replies pass here too
  const send = (stanza: Element) => entity.send(stanza);
  /** Stanzas written while the socket is corked leave in one write when it is uncorked (a status pass's hundreds). */
  const sendMany = async (stanzas: Element[]) => {
    const socket = (entity as unknown as { socket?: { cork?: () => void; uncork?: () => void } }).socket;
    socket?.cork?.();
    const sent = Promise.all(stanzas.map(send)); // each send writes synchronously, before its first await
    socket?.uncork?.();
    await sent;
  };
  // Voice: the soft switch's reports come through a stream of their own, read like the event log.
  let link: SwitchLink | undefined;
  let calls: Calls | undefined;
  const consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  const switchBlocking = hasVoice(config) ? tuneRedis(redis.duplicate(), "softswitch reports") : undefined;
  if (hasVoice(config)) {
    const voiceAgents = config.agents.filter((a) => a.voice).map((a) => a.jid);
    link = createSwitchLink({
      host: config.softswitch.host, port: config.ports.sipEvents, log,
      onConnect: () => void calls?.resync(voiceAgents).catch((err: Error) => log.warn({ err: err.message }, "soft switch resync failed")),
    });
    calls = createCalls({ cti, link, domain: config.domain, componentDomain: cc, ringSeconds: config.softswitch.ringSeconds,
      retrySeconds: config.softswitch.retrySeconds, send, log });
  }
  const switchReports = calls && switchBlocking
    ? calls.run(new EventReader(switchBlocking, store.keys, "softswitch", consumer, { stream: store.keys.softswitch(), parse: parseSwitchEvent }))
    : undefined;
  let online = false;
  const health = async () => ({ xmpp: online, redis: await redis.ping().then(() => true, () => false), ...(link ? { softswitch: link.isUp() } : {}) });
  const metrics = createMetrics({ cti, redis, eventsKey: store.keys.events(), health, voice: !!link });
  const isSupervisor = (jid: string) => config.supervisors.some((s) => s.jid === jid);
  // The XEP-0060 wallboard: told of every event the notifier handled, it publishes at most once a second.
  const scope = supervisorScope(config, cti);
  const wallboard = createWallboard({
    cti, redis, keys: store.keys, componentDomain: cc, send, log,
    mayFollow: (jid, queues) => isSupervisor(jid) && queues.every((q) => scope.mayQueue(jid, q)),
  });
  const onHandled = (e: Parameters<typeof metrics.observe>[0]) => { metrics.observe(e); wallboard.observe(e); };
  const notifier = createNotifier({ cti, componentDomain: cc, send, nameOf, log, calls, retrySeconds: config.softswitch.retrySeconds, onHandled,
    statusIntervalMs: config.statusIntervalSeconds * 1000, sendMany });
  registerHandlers(entity, {
    cti, config, log, send, nameOf, isAgent: (jid) => agents.has(jid), isSupervisor, wallboard,
    request: (iq, timeoutMs) => entity.iqCaller.request(iq, timeoutMs),
    // A lost first status is not lost for long: the status pass tells every waiting customer at least every statusIntervalSeconds.
    greet: (queue, id, known) => notifier.pushStatus(queue, { only: id, known }).catch((err: Error) => log.warn({ err: err.message }, "queue-status not sent")),
  });

  let connections = 0; // streams opened with Prosody: one more means this instance was cut off and came back
  let wake: () => void = () => undefined;
  entity.on("error", (err) => log.warn({ err: err.message, condition: err.condition }, "xmpp connection error"));
  entity.on("offline", () => { online = false; });
  entity.on("disconnect", () => { online = false; });
  entity.on("online", () => {
    online = true;
    connections++;
    log.info({ domain: cc }, "connected to the XMPP server");
    // After any restart the truth about agents is in Prosody: ask the seat module.
    for (const jid of agents.keys()) void send(xml("presence", { from: cc, to: jid, type: "probe" })).catch(() => undefined);
    notifier.regrant().catch((err: Error) => log.warn({ err: err.message }, "grants not restored"));
    wake();
  });
  const whenOnline = () => new Promise<void>((resolve) => { wake = resolve; });

  const reader = new EventReader(blocking, store.keys, NOTIFIER_GROUP, consumer);
  const events = notifier.run(reader, () => online, whenOnline);
  // Supervisors' changes for the day end at midnight (their keys expire): the configured profiles come back.
  let dayTimer: ReturnType<typeof setTimeout> | undefined;
  const atMidnight = () => {
    dayTimer = setTimeout(() => {
      syncAgents().then(() => cti.route()).catch((err: Error) => log.warn({ err: err.message }, "agents' profiles not restored at midnight"));
      atMidnight();
    }, nextMidnight(config.timezone, Date.now()) - Date.now() + 1000);
    dayTimer.unref();
  };
  atMidnight();
  const ticker = setInterval(() => {
    if (online) notifier.tick().catch((err) => log.warn({ err }, "periodic tick failed"));
    trimEventLog(redis, store.keys).catch((err: Error) => log.warn({ err: err.message }, "event log not trimmed"));
  }, config.statusIntervalSeconds * 1000);

  // The history the recorder writes, for the API's statistics, recorded sessions and transcripts. Opened
  // without waiting, and again on the next read after a failure: a database away must not stop routing.
  let opening: Promise<History> | undefined;
  const history = () => (opening ??= openHistory({ url: config.database.url, file: sqliteFile(config.runDir) })
    .catch((err: Error) => { opening = undefined; throw err; }));
  history().catch((err: Error) => log.warn({ err: err.message }, "history database not reachable yet; the history API answers 503 until it is"));
  const http = createHttpApp({
    cti, home: homePage(config), webConfig: webConfig(config), webDir: WEB_DIR, admin: config.admin, log, health, metrics, history, timezone: config.timezone,
    serviceLevelSeconds: Object.fromEntries(config.queues.map((q) => [q.name, q.serviceLevelSeconds])),
  });
  const server = http.listen(webPort, config.web.host);
  await once(server, "listening");

  // Prosody takes one connection per component name: while another instance holds it (or Prosody is
  // away) this one keeps trying, as a standby that shares the Redis state. A refused stream disconnects
  // and xmpp.js's reconnect retries; a refused TCP connection leaves the entity offline, so we retry.
  let stopping = false;
  const connect = (): Promise<void> => startEntity(entity).then(() => undefined, (err: Error) => {
    log.info({ err: err.message }, "not connected to the XMPP server (another instance holds it, or it is away); retrying");
    if (!stopping && entity.status === "offline") setTimeout(() => void connect(), RECONNECT_MS);
  });
  await connect();

  return {
    cti, store, redis, metrics, wallboard,
    webPort: (server.address() as AddressInfo).port,
    isOnline: () => online,
    connections: () => connections,
    async stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(ticker);
      clearTimeout(dayTimer);
      wallboard.stop();
      await new Promise((r) => server.close(r));
      server.closeAllConnections();
      entity.reconnect.stop();
      await entity.stop().catch(() => undefined);
      online = false;
      wake();
      blocking.disconnect();
      switchBlocking?.disconnect();
      link?.stop();
      await Promise.all([events.stop(), switchReports?.stop()]);
      redis.disconnect();
      await opening?.then((h) => h.close(), () => undefined);
    },
  };
}

export type RunningComponent = Awaited<ReturnType<typeof startComponent>>;
