/**
 * The recorder's process (npm start runs it beside the component): follows the event log into the history
 * database, and applies each queue's retention at start and every hour. Stops cleanly on SIGINT/SIGTERM; a
 * SIGKILL loses nothing either (recorder.ts).
 */
import { Redis } from "ioredis";
import { pino } from "pino";
import { ConfigError, loadConfig } from "../component/config.js";
import { keysFor } from "../cti/redis/keys.js";
import { openHistory, sqliteFile } from "./db.js";
import { startRecorder } from "./recorder.js";
import { applyRetention } from "./retention.js";

const log = pino({ level: process.env.LOG_LEVEL ?? "info" });
const RETENTION_EVERY_MS = 3600_000;

async function main() {
  const config = loadConfig();
  const redisUrl = process.env.SWITCHBOARD_REDIS_URL ?? config.redis.url ?? `redis://127.0.0.1:${config.ports.redis}`;
  const history = await openHistory({ url: config.database.url, file: sqliteFile(config.runDir) });
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  redis.on("error", (err: Error) => log.warn({ err: err.message }, "redis connection error; reconnecting"));
  // LOG_LEVEL=debug: a line per committed batch with its transaction's time (the bench reads them: bench/records.ts).
  const onBatch = log.isLevelEnabled("debug")
    ? (events: number, applied: number, commitMs: number) => log.debug({ events, applied, commitMs: Math.round(commitMs * 100) / 100 }, "batch committed")
    : undefined;
  const recorder = startRecorder({ redis, keys: keysFor(config.redis.prefix), history, log, onBatch });
  const retentionDays = Object.fromEntries(config.queues.map((q) => [q.name, q.retentionDays]));
  const retention = () => applyRetention(history, retentionDays, Date.now(), config.audit.retentionDays)
    .then((removed) => { if (removed.sessions || removed.events) log.info(removed, "retention: old history deleted"); })
    .catch((err: Error) => log.warn({ err: err.message }, "retention failed; trying again in an hour"));
  void retention();
  const timer = setInterval(() => void retention(), RETENTION_EVERY_MS);
  log.info({ database: history.dialect === "sqlite" ? sqliteFile(config.runDir) : "postgresql (database.url)" }, "recorder running");

  const stop = () => {
    clearInterval(timer);
    recorder.stop().then(() => history.close()).then(() => process.exit(0), () => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err) => {
  if (err instanceof ConfigError) console.error(err.message);
  else log.fatal({ err }, "the recorder could not start");
  process.exit(1);
});
