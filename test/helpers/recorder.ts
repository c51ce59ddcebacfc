/** A recorder in the test process (jest hooks: test files only; the bench imports history.ts, not this). */
import { afterAll, beforeAll } from "@jest/globals";
import { Redis } from "ioredis";
import { pino } from "pino";
import { keysFor } from "../../cti/redis/keys.js";
import { openHistory, sqliteFile, type History } from "../../records/db.js";
import { startRecorder, type Recorder } from "../../records/recorder.js";

/** A recorder in this process for the whole test file, on the running stack's Redis and SQLite history (the admin API reads it). */
export function useRecorder(running: () => { config: { runDir: string }; stack: { redisUrl: string } }): void {
  let history: History | undefined;
  let recorder: Recorder | undefined;
  beforeAll(async () => {
    history = await openHistory({ file: sqliteFile(running().config.runDir) });
    recorder = startRecorder({ redis: new Redis(running().stack.redisUrl), keys: keysFor("sb:"), history, log: pino({ level: "silent" }) });
  });
  afterAll(async () => { await recorder?.stop(); await history?.close(); });
}
