/**
 * Reading the event log as a work queue: a Redis Stream consumer group, so
 * each event's stanzas are sent once by whichever instance reads it, and the
 * events of an instance that died before acknowledging are claimed by another.
 */
import type { Redis } from "ioredis";
import type { CtiEvent } from "../types.js";
import type { Keys } from "./keys.js";

/** An entry of a stream as read; `redelivered`: taken over from a reader that read it before (it may have acted on it). */
export interface LoggedEvent<T = CtiEvent> { id: string; event: T; redelivered?: boolean }

/** The event log's consumer groups: the notifier (stanzas, calls) and the recorder (history, records/). */
export const NOTIFIER_GROUP = "notifier";
export const RECORDER_GROUP = "recorder";

/** An unacknowledged event idle this long belongs to a dead reader and is taken over. */
export const STALE_MS = 10_000;
/**
 * How often a reader looks for a dead reader's events (they are STALE_MS old by then anyway): a claim before
 * every read cost one more round trip per batch, and at a call's rate the batches are small.
 */
export const CLAIM_EVERY_MS = 1000;
/** A consumer with nothing pending and idle this long is a reader gone for good (or a standby that reads again later). */
export const IDLE_CONSUMER_MS = 60_000;

/**
 * One script, so that no consumer can take an event between the check (nothing pending) and the
 * deletion (which would drop that event from the pending list, and with it its redelivery).
 * KEYS[1] the stream; ARGV: group, the caller's own consumer, minimum idle ms. Returns how many went.
 */
const FORGET_IDLE_CONSUMERS = `
local gone = 0
for _, info in ipairs(redis.call("XINFO", "CONSUMERS", KEYS[1], ARGV[1])) do
  local c = {}
  for i = 1, #info, 2 do c[info[i]] = info[i + 1] end
  if c.name ~= ARGV[2] and c.pending == 0 and c.idle >= tonumber(ARGV[3]) then
    redis.call("XGROUP", "DELCONSUMER", KEYS[1], ARGV[1], c.name)
    gone = gone + 1
  end
end
return gone`;

/**
 * Trims the log up to what every group has read and acknowledged, never further: with the recorder (or a
 * notifier) down, its events wait in the log until it is back. One script, so that no read or acknowledgement
 * slips between the look at the groups and the trim. KEYS[1] the stream. Returns how many events went.
 */
const TRIM_READ_EVENTS = `
if redis.call("EXISTS", KEYS[1]) == 0 then return 0 end
local groups = redis.call("XINFO", "GROUPS", KEYS[1])
if #groups == 0 then return 0 end
local function parts(id)
  local ms, seq = string.match(id, "^(%d+)-(%d+)$")
  return tonumber(ms), tonumber(seq)
end
local function older(a, b)
  local am, as = parts(a)
  local bm, bs = parts(b)
  return am < bm or (am == bm and as < bs)
end
local keep = nil
for _, info in ipairs(groups) do
  local g = {}
  for i = 1, #info, 2 do g[info[i]] = info[i + 1] end
  local oldest = g["last-delivered-id"]
  if g.pending > 0 then oldest = redis.call("XPENDING", KEYS[1], g.name)[2] end
  if keep == nil or older(oldest, keep) then keep = oldest end
end
return redis.call("XTRIM", KEYS[1], "MINID", keep)`;

export async function trimEventLog(redis: Redis, keys: Keys): Promise<number> {
  return Number(await redis.eval(TRIM_READ_EVENTS, 1, keys.events()));
}

export function parseEvent(fields: string[]): CtiEvent {
  const type = fields[fields.indexOf("type") + 1]!;
  const data = JSON.parse(fields[fields.indexOf("data") + 1]!) as Record<string, unknown>;
  const e: Record<string, unknown> = { ...data, type, at: Number(data.at) };
  if ("queuedAt" in data) e.queuedAt = Number(data.queuedAt);
  if ("plain" in data) e.plain = data.plain === "1";
  if ("paused" in data) e.paused = data.paused === "1";
  for (const k of ["agents", "rang"]) if (k in data) e[k] = data[k] ? String(data[k]).split(",") : [];
  if ("timeout" in data) e.timeout = Number(data.timeout);
  if ("form" in data) e.form = typeof data.form === "string" && data.form ? JSON.parse(data.form) : {};
  if ("seat" in data) e.seat = data.seat || null;
  return e as unknown as CtiEvent;
}

/**
 * A reader of the CTI's event log (the default), or of another stream read the same way (`stream`, with
 * its own `parse`): the soft switch's reports.
 */
export class EventReader<T = CtiEvent> {
  private readonly stream: string;
  private readonly parse: (fields: string[]) => T;
  /** When this reader last found no more stale events to claim. */
  private claimedAt = 0;

  /** `redis` must be a connection of its own: XREADGROUP BLOCK holds it. */
  constructor(private readonly redis: Redis, keys: Keys, private readonly group: string, private readonly consumer: string,
    other?: { stream: string; parse: (fields: string[]) => T }) {
    this.stream = other?.stream ?? keys.events();
    this.parse = other?.parse ?? (parseEvent as unknown as (fields: string[]) => T);
  }

  /**
   * ensureGroup, tried again every half second while Redis is away (it may be restarting: a rejection
   * would end the reader's loop, and the process) until it works or `stopped()`.
   */
  async ensureGroupPatiently(stopped: () => boolean, onError: (err: Error) => void): Promise<void> {
    while (!stopped()) {
      try {
        return await this.ensureGroup();
      } catch (err) {
        onError(err as Error);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async ensureGroup(): Promise<void> {
    try {
      // "$": a new group starts at the end; older events were acted on before groups existed.
      await this.redis.xgroup("CREATE", this.stream, this.group, "$", "MKSTREAM");
    } catch (err) {
      if (!String(err).includes("BUSYGROUP")) throw err;
    }
    await this.forgetIdleConsumers();
  }

  /**
   * Every instance reads under a name of its own, and a killed one leaves its name behind: without this,
   * the group's consumers grow by one per restart (375 after a 1,000-cycle chaos run). A consumer with
   * nothing pending owns nothing, so removing it loses nothing; a live one that was only idle (a standby)
   * is created again by its next read.
   */
  async forgetIdleConsumers(minIdleMs = IDLE_CONSUMER_MS): Promise<number> {
    return Number(await this.redis.eval(FORGET_IDLE_CONSUMERS, 1, this.stream, this.group, this.consumer, minIdleMs));
  }

  /** Events of dead readers first (looked for every CLAIM_EVERY_MS), then new ones, waiting up to blockMs for some. */
  async read(blockMs: number, count = 100): Promise<Array<LoggedEvent<T>>> {
    const toLogged = ([id, fields]: [string, string[]]): LoggedEvent<T> => ({ id, event: this.parse(fields) });
    if (Date.now() - this.claimedAt >= CLAIM_EVERY_MS) {
      const [, stale] = (await this.redis.xautoclaim(this.stream, this.group, this.consumer, STALE_MS, "0-0", "COUNT", count)) as [string, Array<[string, string[]] | null>];
      if (stale.length < count) this.claimedAt = Date.now(); // else more may be stale: claim again at the next read
      const claimed = stale.filter((e): e is [string, string[]] => e !== null);
      if (claimed.length > 0) return claimed.map((e) => ({ ...toLogged(e), redelivered: true }));
    }
    const reply = (await this.redis.xreadgroup("GROUP", this.group, this.consumer, "COUNT", count, "BLOCK", blockMs, "STREAMS", this.stream, ">")) as Array<[string, Array<[string, string[]]>]> | null;
    return (reply?.[0]?.[1] ?? []).map(toLogged);
  }

  async ack(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.redis.xack(this.stream, this.group, ...ids);
  }
}
