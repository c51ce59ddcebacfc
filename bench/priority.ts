/**
 * The bench's load generators (its own process while it holds the chat and surge phases' XMPP clients, and
 * the SIPp callers and phones) stand in for customers' and agents' machines, which in production are not
 * the server. On this 2-core machine they compete with Prosody, the component, Redis and Kamailio for the
 * same CPUs; at a lower priority they take what the servers leave, as if they were elsewhere
 * (docs/benchmarks.md, "Where the time goes (2026-12-04 afternoon ...)").
 *
 * Linux shares the CPU between sessions first ("autogroups", kernel.sched_autogroup_enabled), and only then
 * between the processes of a session by their nice: launcher/child.ts starts every child in a session of its
 * own, so a plain nice would change nothing. A session's nice is /proc/<pid>/autogroup; raising it, and
 * lowering it back to 0, needs no privilege. Not the process's own nice: the servers the bench starts
 * would inherit it.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";

const LOAD_GENERATOR_NICE = 10;
const OWN_SESSION = "SWITCHBOARD_BENCH_OWN_SESSION";

/** Sets the nice of a process's session; on a kernel without autogroups it runs as it is. */
export function setSessionNice(pid: number, nice: number): void {
  try { writeFileSync(`/proc/${pid}/autogroup`, String(nice)); } catch { /* no autogroups, or gone */ }
}

/** Lowers the CPU priority of a load generator's session. */
export const asLoadGenerator = (pid: number) => setSessionNice(pid, LOAD_GENERATOR_NICE);

/**
 * Runs this script again in a session of its own, so that lowering its session's priority does not lower
 * the terminal's (the shell that ran `npm run bench` is in the caller's session). Returns true in the
 * launching process, which only passes signals on and exits with the re-run's code.
 */
export function rerunInOwnSession(): boolean {
  if (process.env[OWN_SESSION]) return false;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true, stdio: "inherit", env: { ...process.env, [OWN_SESSION]: "1" },
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return true;
}
