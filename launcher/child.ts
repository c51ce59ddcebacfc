/** Child processes (Prosody, Redis, the component) that live and die with the launcher. */
import type { Readable } from "node:stream";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Child {
  name: string;
  pid: number;
  /** Resolves when the process has exited (never rejects). */
  exited: Promise<ChildExit>;
  hasExited(): boolean;
  /** The last lines it printed, for error messages. */
  output(): string;
  /** `signal` (SIGTERM unless given), then SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number, signal?: NodeJS.Signals): Promise<void>;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Called with every line of stdout and stderr. */
  onLine?: (line: string) => void;
}

const TAIL_LINES = 200;

function onPath(command: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => dir && existsSync(join(dir, command)));
}
const setpriv = onPath("setpriv");

export function spawnChild(name: string, command: string, args: string[], options: SpawnOptions = {}): Child {
  // setpriv --pdeathsig: the kernel sends SIGTERM when the launcher dies, even by SIGKILL.
  // detached: own process group, so a terminal's Ctrl-C reaches only the launcher,
  // which then stops the children in order.
  const [file, argv] = setpriv ? ["setpriv", ["--pdeathsig", "SIGTERM", "--", command, ...args]] : [command, args];
  const proc: ChildProcess = spawn(file, argv, { env: options.env ?? process.env, cwd: options.cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const tail: string[] = [];
  const line = (l: string) => {
    tail.push(l);
    if (tail.length > TAIL_LINES) tail.shift();
    options.onLine?.(l);
  };
  for (const stream of [proc.stdout!, proc.stderr!]) {
    eachLine(stream, line, (err) => line(`(${name}'s output: ${err.message})`)); // a pipe error is not the launcher's crash
  }
  let exit: ChildExit | undefined;
  const exited = new Promise<ChildExit>((resolve) => {
    proc.on("exit", (code, signal) => resolve((exit = { code, signal })));
    proc.on("error", (err) => {
      line(`cannot run ${command}: ${err.message}`);
      resolve((exit = { code: -1, signal: null }));
    });
  });
  return {
    name,
    pid: proc.pid ?? -1,
    exited,
    hasExited: () => exit !== undefined,
    output: () => tail.join("\n"),
    async stop(graceMs = 5000, signal: NodeJS.Signals = "SIGTERM") {
      if (exit) return;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function describeExit({ code, signal }: ChildExit): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

/** Calls `onLine` for each line a child writes to `stream` (the last one even without a newline); a pipe error is an event, not a crash. */
export function eachLine(stream: Readable, onLine: (line: string) => void, onError: (err: Error) => void = () => undefined): void {
  let partial = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    lines.forEach(onLine);
  });
  stream.on("end", () => partial && onLine(partial));
  stream.on("error", onError);
}
