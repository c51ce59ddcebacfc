/**
 * Every Redis key, built in one place. The same table generates the key
 * functions of the Lua scripts, so TypeScript and Lua cannot drift apart.
 * A prefix with a hash tag, e.g. "{sb}:", keeps all keys in one Cluster slot.
 */
export const KEY_TEMPLATES = {
  /** hash: one session (see RedisStore.parseSession for the fields) */
  session: "s:{id}",
  /** string: the live session id of a customer's full JID */
  customer: "c:{jid}",
  /** sorted set: the routable waiting session ids of one routing line (allocation.ts lineKey), by arrival number */
  line: "l:{line}",
  /**
   * sorted set: the waiting session ids of one queue and base priority ("<queue>|<priority>"), by queuedAt; a
   * queue's waiting customers are the union of its levels. A customer's position is its rank here plus a
   * count in each other priority of the queue (includes.lua positionOf)
   */
  level: "ql:{level}",
  /** set: the base priorities that have waiting sessions in a queue */
  levels: "qls:{queue}",
  /** sorted set: waiting session ids of one queue by when their next queue-status is due (ms) */
  statusDue: "sd:{queue}",
  /** hash: queue -> lowest queuedAt that left the queue since the last status pass ("0": everyone moved); "<queue>:at" -> that pass's time */
  moved: "moved",
  /** sorted set: live session ids by their next deadline (ms): max wait, offer, assign and answer timeouts (the sweep reads what is due) */
  due: "due",
  /** set: the routing lines that have routable sessions */
  lines: "lines",
  /**
   * sorted set: agents ready with room that have a skill ("*": any agent), in allocation's default order:
   * score active x 1e13 + freeSince (fewest active, then longest free; equal scores by JID). A join then
   * reads the first few, not every free agent (free-seats.lua)
   */
  freeSeats: "fs:{skill}",
  /** set: logged-in agents that have a skill ("*": any agent) */
  onSeats: "o:{skill}",
  /** set: agents that have a skill ("*": any agent) */
  allSeats: "k:{skill}",
  /** counter: arrival numbers, so FIFO holds across instances */
  seq: "seq",
  /** hash: one agent (profile, state, active, freeSince) */
  agent: "a:{jid}",
  /** set: the live session ids of one agent */
  agentSessions: "as:{jid}",
  /** hash: a supervisor's change to an agent's skills and/or maxChats for the rest of the day (expires then) */
  agentDay: "ad:{jid}",
  /** hash: the digest of each configuration item ("queues/billing", "timezone") as the last start saw it */
  config: "config",
  /** set: every agent's JID */
  agents: "agents",
  /** set: every live (not ended) session id */
  live: "live",
  /** sorted set: ended session ids by end time (their hashes expire) */
  ended: "ended",
  /** sorted set: sessions whose customer is offline, by the end of their grace period */
  away: "away",
  /** list: messages left for agents, newest first (JSON) */
  messages: "messages",
  /** string: the seat that last served a customer's bare JID (sticky routing; expires) */
  lastSeat: "last:{jid}",
  /** hash: "<queue>:last" the last claim's time, "<queue>:gap" moving average ms between claims while customers wait */
  pace: "pace",
  /** hash: queue name -> moving average handle time in seconds */
  handle: "handle",
  /** stream: the append-only event log (the patent's log server) */
  events: "events",
  /** string: the session id of an adapter's handle for a customer's connection (a call's Call-ID) */
  callHandle: "h:{handle}",
  /** string (JSON): the join a page's call token stands for (taken once; expires a minute after it was given) */
  callToken: "ct:{token}",
  /** string: the session a plain customer (bare JID) was just asked to rate; taken once (GETDEL), expires after RATING_WINDOW_MS */
  rating: "rate:{jid}",
  /** stream: what the soft switch reports (calls, registrations), written by Kamailio (softswitch/kamailio.cfg) */
  softswitch: "sip",
  /** hash: Call-ID -> what the soft switch needs to answer a call queued in it after its own restart (softswitch/kamailio.cfg, route[PENDING]) */
  softswitchPending: "sip-pending",
  /** string: the session an expert (bare JID) was invited into (issue 15; expert.lua) */
  expertOf: "x:{jid}",
  /** set: the JIDs subscribed to a wallboard node (XEP-0060; component/xmpp/wallboard.ts), e.g. "wb:queue/billing" */
  wallboard: "wb:{node}",
} as const;

type Templates = typeof KEY_TEMPLATES;
type Param<T extends string> = T extends `${string}{${infer P}}${string}` ? P : never;
export type Keys = { [K in keyof Templates]: Param<Templates[K]> extends never ? () => string : (arg: string) => string };

export function keysFor(prefix: string): Keys {
  const keys = {} as Record<string, (arg?: string) => string>;
  for (const [name, template] of Object.entries(KEY_TEMPLATES)) {
    keys[name] = (arg?: string) => prefix + template.replace(/\{\w+\}/, arg ?? "");
  }
  return keys as unknown as Keys;
}

/** Lua source defining K.<name>(arg) for every template, with the prefix P (set by each function as it starts: library.ts). */
export function luaKeyFunctions(): string {
  const lines = ["local K = {}"];
  for (const [name, template] of Object.entries(KEY_TEMPLATES)) {
    const [before, after] = template.split(/\{\w+\}/);
    lines.push(after === undefined
      ? `K.${name} = function() return P .. ${JSON.stringify(before)} end`
      : `K.${name} = function(a) return P .. ${JSON.stringify(before)} .. a .. ${JSON.stringify(after)} end`);
  }
  return lines.join("\n");
}
