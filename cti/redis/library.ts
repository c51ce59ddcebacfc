/**
 * The store's transitions (cti/redis/lua, one file each) as one Redis function library (Redis 7: FUNCTION
 * LOAD, FCALL). A script sent with EVALSHA runs its whole text on every call, so each transition also
 * defined the shared helpers and the key functions again: about 8 µs of Redis's single thread per call
 * (measured: 8.8 µs for the helpers alone against 1 µs for an empty script), 7 calls per routed call. A
 * library runs that text once, when it is loaded.
 *
 * The library's name carries a hash of its text, so two instances of different versions sharing a Redis
 * (a rolling upgrade) each call their own. A Redis that lost its functions (restarted without persistence,
 * FUNCTION FLUSH) answers "Function not found": the library is loaded again and the call sent once more.
 * Libraries of earlier versions stay in Redis (about 50 KB each) until FUNCTION DELETE: an instance does not
 * delete them, since one of that version may still be running.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import { luaKeyFunctions } from "./keys.js";

const LUA_DIR = new URL("../../../cti/redis/lua/", import.meta.url);

const SCRIPTS = [
  "enqueue", "claim", "in-service", "end", "end-by", "agent-state", "upsert-agent", "away", "expire-away", "resume", "feedback", "leave-message",
  "end-wrap-up", "answered", "requeue", "transfer", "offer", "withdraw-offer", "offer-target", "heads", "reindex", "phone", "session-call",
  "record-message", "record-board", "audit", "adjust-agent", "config-seen", "status", "position", "expert", "free-seats", "free-agents", "answer-call", "end-call",
] as const;
export type ScriptName = (typeof SCRIPTS)[number];

/**
 * The library's source (the key functions and the helpers once, then each script's text as
 * the body of a function of (KEYS, ARGV), as EVAL ran it; every script takes the key prefix as ARGV[1]),
 * and each script's function name (the library's name, a hash of its text, then the script's).
 */
function library(): { code: string; functions: Record<ScriptName, string> } {
  const lua = (file: string) => readFileSync(new URL(file, LUA_DIR), "utf8");
  const shared = ["local P, rcall", luaKeyFunctions(), lua("includes.lua")].join("\n");
  const scripts = SCRIPTS.map((s) => [s, lua(`${s}.lua`)] as const);
  const fn = (name: string, s: ScriptName) => `${name}_${s.replaceAll("-", "_")}`;
  const source = (name: string) => [`#!lua name=${name}`, shared, ...scripts.map(([s, text]) =>
    `redis.register_function('${fn(name, s)}', function(KEYS, ARGV)\nP, rcall = ARGV[1], redis.call\n${text}\nend)`)].join("\n");
  const name = `sb_${createHash("sha1").update(source("")).digest("hex").slice(0, 12)}`;
  return { code: source(name), functions: Object.fromEntries(SCRIPTS.map((s) => [s, fn(name, s)])) as Record<ScriptName, string> };
}

export class FunctionLibrary {
  private readonly code: string;
  private readonly functions: Record<ScriptName, string>;
  private loading: Promise<unknown> | undefined;

  constructor(private readonly redis: Redis) {
    ({ code: this.code, functions: this.functions } = library());
    // Sent ahead of any call on this connection (commands keep their order), so the first calls find it.
    this.load().catch(() => undefined);
  }

  /** FUNCTION LOAD REPLACE: the same text again changes nothing. Concurrent callers share one load. */
  private load(): Promise<unknown> {
    return (this.loading ??= this.redis.function("LOAD", "REPLACE", this.code).finally(() => { this.loading = undefined; }));
  }

  call<T>(script: ScriptName, args: Array<string | number>): Promise<T> {
    const fn = this.functions[script];
    return (this.redis.fcall(fn, 0, ...args) as Promise<T>).catch(async (err: Error) => {
      if (!err.message.includes("Function not found")) throw err;
      await this.load();
      return this.redis.fcall(fn, 0, ...args) as Promise<T>;
    });
  }
}
