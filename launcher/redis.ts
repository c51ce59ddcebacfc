/** A private Redis in the foreground, as a child of the launcher. */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { describeExit, spawnChild, type ChildExit } from "./child.js";
import { assertPortsFree } from "./ports.js";

export interface RedisOptions {
  port: number;
  /** Working directory (the AOF file lives here when persist is on). */
  dir: string;
  /** Append-only file on (npm start) or no persistence at all (tests). */
  persist: boolean;
  onLine?: (line: string) => void;
  timeoutMs?: number;
}

export interface RunningRedis {
  url: string;
  pid: number;
  exited: Promise<ChildExit>;
  output(): string;
  stop(): Promise<void>;
}

export async function startRedis({ port, dir, persist, onLine, timeoutMs = 10_000 }: RedisOptions): Promise<RunningRedis> {
  await assertPortsFree({ "ports.redis": port });
  const absDir = resolve(dir);
  mkdirSync(absDir, { recursive: true });
  let ready!: () => void;
  const readyLine = new Promise<void>((r) => (ready = r));
  const child = spawnChild(
    "redis",
    "redis-server",
    // appendfsync always: a join is acknowledged only after its write reached the disk, so even a kill -9 of
    // Redis (or a power cut) loses no acknowledged customer; everysec could lose up to a second of them.
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", absDir, "--save", "", "--appendonly", persist ? "yes" : "no",
      ...(persist ? ["--appendfsync", "always"] : []), "--daemonize", "no"],
    {
      onLine: (line) => {
        if (line.includes("Ready to accept connections")) ready();
        onLine?.(line);
      },
    },
  );
  let timer: NodeJS.Timeout | undefined;
  const failure = await Promise.race([
    readyLine.then(() => undefined),
    child.exited.then((exit) => `redis-server stopped during startup (${describeExit(exit)})`),
    new Promise<string>((r) => (timer = setTimeout(() => r(`redis-server not ready after ${timeoutMs} ms`), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (failure) {
    await child.stop();
    const hint = /address already in use/i.test(child.output()) ? `\nports.redis ${port} is in use` : "";
    throw new Error(`${failure}${hint}\n${child.output()}`);
  }
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid, exited: child.exited, output: child.output, stop: () => child.stop() };
}
