/**
 * A throw-away PostgreSQL cluster on loopback, as a child: for the tests of the PostgreSQL history (npm start
 * uses SQLite unless database.url names a server of the operator's). PostgreSQL refuses to run as root, so as
 * root the cluster is made and run as the `postgres` user; otherwise as the current user.
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeExit, spawnChild, type ChildExit } from "./child.js";
import { freePort } from "./ports.js";

export interface RunningPostgres {
  url: string;
  port: number;
  exited: Promise<ChildExit>;
  /** Stops the server (fast shutdown); the data stays, for start() again. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data (after stop()). */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  remove(): Promise<void>;
}

/** Debian's binaries (/usr/lib/postgresql/<version>/bin), newest version first. */
function binDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "postgres"))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error("PostgreSQL is not installed (apt-get install postgresql; launcher/ensure-deps.sh does)");
  return join(root, versions[0], "bin");
}

export async function startPostgres({ timeoutMs = 20_000 } = {}): Promise<RunningPostgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), "sb-pg-"));
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? { uid: Number(execFileSync("id", ["-u", "postgres"]).toString()), gid: Number(execFileSync("id", ["-g", "postgres"]).toString()) } : undefined;
  if (ids) chownSync(dir, ids.uid, ids.gid);
  // setpriv drops to the postgres user for initdb and the server alike.
  const as = (command: string, args: string[]): [string, string[]] => (ids
    ? ["setpriv", ["--reuid", String(ids.uid), "--regid", String(ids.gid), "--clear-groups", command, ...args]]
    : [command, args]);
  const [initCmd, initArgs] = as(join(bin, "initdb"), ["-D", join(dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  execFileSync(initCmd, initArgs, { stdio: "pipe" });
  const port = await freePort();
  let child: ReturnType<typeof spawnChild> | undefined;

  async function start(): Promise<void> {
    let ready!: () => void;
    const readyLine = new Promise<void>((r) => (ready = r));
    // fsync off: a test cluster needs no durability, and fsyncs would slow every commit.
    const [cmd, args] = as(join(bin, "postgres"), ["-D", join(dir, "data"), "-k", dir, "-p", String(port), "-h", "127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off"]);
    child = spawnChild("postgres", cmd, args, { onLine: (line) => { if (line.includes("ready to accept connections")) ready(); } });
    let timer: NodeJS.Timeout | undefined;
    const failure = await Promise.race([
      readyLine.then(() => undefined),
      child.exited.then((exit) => `postgres stopped during startup (${describeExit(exit)})`),
      new Promise<string>((r) => (timer = setTimeout(() => r(`postgres not ready after ${timeoutMs} ms`), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (failure) {
      await child.stop(10_000, "SIGINT");
      throw new Error(`${failure}\n${child.output()}`);
    }
  }
  await start();
  // SIGINT, PostgreSQL's fast shutdown: SIGTERM (smart) waits for every client to leave, and a recorder
  // keeps its pool's connections, so the SIGKILL that followed 5 s later left the server's backends
  // holding its shared memory, and the next start() failed ("pre-existing shared memory block").
  const stop = async () => { await child?.stop(10_000, "SIGINT"); };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, exited: child!.exited, stop, start,
    async remove() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
