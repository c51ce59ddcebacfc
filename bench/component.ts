/** The Switchboard component in a process of its own, as in production, so its CPU is measured apart from the bench's clients. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../component/config.js";
import { spawnChild, type Child } from "../launcher/child.js";
import { freePort } from "../launcher/ports.js";
import { sleep } from "./stats.js";

const COMPONENT_MAIN = fileURLToPath(new URL("../component/main.js", import.meta.url));

/** Starts it on `config` (its web port a free one) and resolves once it answers /healthz. */
export async function startComponent(config: Config, redisUrl: string, runDir: string): Promise<Child> {
  const configFile = join(runDir, "bench-component.json");
  const webPort = await freePort();
  writeFileSync(configFile, JSON.stringify({ ...config, ports: { ...config.ports, web: webPort } }));
  // BENCH_PROFILE_DIR: a V8 CPU profile of the component, written there when it stops (where its CPU goes).
  const profile = process.env.BENCH_PROFILE_DIR ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_PROFILE_DIR] : [];
  const component = spawnChild("component", process.execPath, [...profile, COMPONENT_MAIN], {
    env: { ...process.env, SWITCHBOARD_CONFIG: configFile, SWITCHBOARD_REDIS_URL: redisUrl, LOG_LEVEL: "warn" },
  });
  const healthDeadline = Date.now() + 15_000;
  while ((await fetch(`http://127.0.0.1:${webPort}/healthz`).then((r) => r.status, () => 0)) !== 200) {
    if (Date.now() > healthDeadline) { await component.stop(); throw new Error(`the component did not become healthy:\n${component.output()}`); }
    await sleep(100);
  }
  return component;
}
