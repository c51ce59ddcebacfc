/**
 * A Redis of the test file's own for store and CTI tests: started before its tests, stopped after, with a
 * fresh key prefix per test, and CTI instances on it (two of them are two component instances sharing
 * the state).
 */
import { afterAll, beforeAll, beforeEach } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createCti } from "../../cti/cti.js";
import { RedisStore } from "../../cti/redis/store.js";
import type { Queue } from "../../cti/types.js";
import { freePort } from "../../launcher/ports.js";
import { startRedis, type RunningRedis } from "../../launcher/redis.js";

export function useRedis(queues: Queue[]) {
  let server: RunningRedis;
  let dir: string;
  const connections: Redis[] = [];
  let prefix = "";
  let n = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sb-redis-"));
    server = await startRedis({ port: await freePort(), dir, persist: false });
  });
  afterAll(async () => {
    for (const c of connections) c.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => { prefix = `t${++n}:${Date.now()}:`; }); // a fresh key space per test

  /** A connection closed after the file's tests (a blocking reader needs its own). */
  const connect = (): Redis => {
    const redis = new Redis(server.url);
    connections.push(redis);
    return redis;
  };
  /** A CTI on a connection of its own, with the test's key prefix. */
  const instance = (now: () => number = Date.now) => {
    const redis = connect();
    const store = new RedisStore(redis, prefix);
    return { redis, store, cti: createCti({ store, queues, guestDomain: "guest.acme.test", now }) };
  };
  return { connect, instance };
}
