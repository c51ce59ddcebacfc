/**
 * Prosody alone, for a container (docker/compose.yaml): renders Prosody's config
 * from the Switchboard config, makes sure there is a certificate, runs Prosody in
 * the foreground listening on every interface, registers the configured agents
 * and customers, and stops Prosody on SIGTERM/SIGINT. Redis and the component run
 * in their own containers. Exits with 1 if Prosody dies on its own.
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { accountsOf, ConfigError, loadConfig } from "../component/config.js";
import { describeExit } from "./child.js";
import { ensureCertificates } from "./certificates.js";
import { registerAccount, startProsody, type LogLevel, type RunningProsody } from "./prosody.js";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const say = (line: string) => console.log(`[prosody-only] ${line}`);

let prosody: RunningProsody | undefined;
let stopping = false;

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await prosody?.stop().catch((err: Error) => say(`stopping prosody: ${err.message}`));
  }
  process.exit(code);
}

async function main(): Promise<void> {
  const config = loadConfig(); // SWITCHBOARD_CONFIG or the demo config
  const runDir = resolve(REPO_ROOT, config.runDir);
  const logLevel = (process.env.PROSODY_LOG_LEVEL || "info") as LogLevel;
  if (!["debug", "info", "warn", "error"].includes(logLevel)) throw new Error(`PROSODY_LOG_LEVEL must be debug, info, warn or error, not "${logLevel}"`);
  await ensureCertificates(runDir, config.domain);
  prosody = await startProsody({ config, runDir, insecure: false, logLevel, interfaces: ["*"], onLine: (line) => console.log(line) });
  void prosody.exited.then((exit) => {
    if (stopping) return;
    say(`prosody exited unexpectedly (${describeExit(exit)})`);
    void stop(1);
  });
  for (const a of accountsOf(config)) await registerAccount(prosody.configFile, a.jid, a.password);
  say(`prosody is up (${join(runDir, "prosody.cfg.lua")}); ${config.agents.length} agent and ${config.customers.length} customer accounts registered`);
}

// As PID 1 in a container, a signal without a handler is ignored: handle them.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (!stopping) say(`${signal}: stopping`);
    void stop(0);
  });
}

main().catch((err: Error) => {
  if (stopping) return;
  say(err instanceof ConfigError ? err.message : `cannot start: ${err.message}`);
  void stop(1);
});
