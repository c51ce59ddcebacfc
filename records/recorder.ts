/**
 * The recorder: follows the event log in its own consumer group and writes history, acknowledging a batch
 * only after its transaction committed. Killed at any moment, it loses nothing (unacknowledged events are
 * read again) and writes nothing twice (apply.ts skips events it has). With the database away it retries the
 * same batch until it is back, and never reads past it: events of one session are applied in log order.
 *
 * One recorder runs per deployment, under one consumer name, so that after a restart it first reads back
 * its own unacknowledged events (XREADGROUP id 0), in order, before any new one.
 */
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { parseEvent, RECORDER_GROUP, type LoggedEvent } from "../cti/redis/events.js";
import type { Keys } from "../cti/redis/keys.js";
import type { History } from "./db.js";
import { applyEvents } from "./apply.js";

export const RECORDER_CONSUMER = "recorder";
/** Events per transaction: large enough to keep up with the routing peak, small enough to commit quickly. */
export const BATCH = 500;
const RETRY_MS = 1000;

export interface RecorderOptions {
  /** A connection of its own: XREADGROUP BLOCK holds it. */
  redis: Redis;
  keys: Keys;
  history: History;
  log: Logger;
  blockMs?: number;
  /** Called after each committed batch (benchmarks, tests): its events, the new ones, and its transaction's ms. */
  onBatch?: (events: number, applied: number, commitMs: number) => void;
}

export interface Recorder {
  /** Events committed (new ones) since start. */
  applied(): number;
  stop(): Promise<void>;
}

type Entry = [string, string[] | null];

export async function ensureRecorderGroup(redis: Redis, keys: Keys): Promise<void> {
  try {
    // "0": a recorder that starts after the component still records what the log holds (apply.ts skips repeats).
    await redis.xgroup("CREATE", keys.events(), RECORDER_GROUP, "0", "MKSTREAM");
  } catch (err) {
    if (!String(err).includes("BUSYGROUP")) throw err;
  }
}

export function startRecorder({ redis, keys, history, log, blockMs = 1000, onBatch }: RecorderOptions): Recorder {
  let stopped = false;
  let applied = 0;
  // stop() ends any wait at once: a command to a Redis that is away can sit in ioredis's offline queue for good.
  let halt!: () => void;
  const halted = new Promise<"halted">((r) => (halt = () => r("halted")));
  const unlessHalted = async <T>(p: Promise<T>): Promise<T> => {
    const v = await Promise.race([p, halted]);
    if (v === "halted") throw new Error("recorder stopped");
    return v as T;
  };
  const pause = (ms: number) => unlessHalted(new Promise((r) => setTimeout(r, ms)));

  async function read(id: "0" | ">"): Promise<Entry[]> {
    const reply = (await unlessHalted(id === ">"
      ? redis.xreadgroup("GROUP", RECORDER_GROUP, RECORDER_CONSUMER, "COUNT", BATCH, "BLOCK", blockMs, "STREAMS", keys.events(), id)
      : redis.xreadgroup("GROUP", RECORDER_GROUP, RECORDER_CONSUMER, "COUNT", BATCH, "STREAMS", keys.events(), id))) as Array<[string, Entry[]]> | null;
    return reply?.[0]?.[1] ?? [];
  }

  /** Commits the batch, trying again until it works (the database may be restarting) or the recorder stops. */
  async function commit(events: LoggedEvent[]): Promise<boolean> {
    for (let failures = 0; !stopped; failures++) {
      try {
        const started = performance.now();
        const n = await applyEvents(history, events);
        const commitMs = performance.now() - started;
        applied += n;
        if (failures > 0) log.info({ failures }, "history database reachable again; recording resumes");
        onBatch?.(events.length, n, commitMs);
        return true;
      } catch (err) {
        if (failures === 0) log.warn({ err: (err as Error).message }, "history database write failed; retrying the same batch");
        await pause(RETRY_MS).catch(() => undefined);
      }
    }
    return false;
  }

  const loop = (async () => {
    let backlog = true; // our own unacknowledged events first (a restart after a crash), then new ones
    let grouped = false; // again after an error: Redis may have restarted without the group
    while (!stopped) {
      try {
        if (!grouped) grouped = (await unlessHalted(ensureRecorderGroup(redis, keys)), true);
        const entries = await read(backlog ? "0" : ">");
        if (backlog && entries.length === 0) { backlog = false; continue; }
        // A pending entry trimmed from the log comes back without fields: nothing to record.
        const events = entries.filter((e): e is [string, string[]] => e[1] !== null).map(([id, fields]) => ({ id, event: parseEvent(fields) }));
        if (!(await commit(events))) break;
        if (entries.length > 0) await unlessHalted(redis.xack(keys.events(), RECORDER_GROUP, ...entries.map(([id]) => id)));
      } catch (err) {
        if (stopped) break;
        grouped = false;
        backlog = true;
        log.warn({ err: (err as Error).message }, "recorder: reading the event log failed; retrying");
        await pause(RETRY_MS / 2).catch(() => undefined);
      }
    }
  })();

  return {
    applied: () => applied,
    async stop() {
      stopped = true;
      halt();
      redis.disconnect();
      await loop;
    },
  };
}
