/**
 * The voice bench's ceiling: Kamailio alone (bench/switch-alone.cfg), relaying every call straight to the
 * bench's phones, with the same workers, memory and allocator as the real switch (launcher/softswitch.ts).
 * The calls through the CTI are measured against it in the same run, as the chat phases are against plain
 * round trips through Prosody: the machine's speed changes by the hour, the ratio much less.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnChild } from "../launcher/child.js";
import { freePort, waitForPorts } from "../launcher/ports.js";
import { kamailioArgs, substValue } from "../launcher/softswitch.js";
import { findPids } from "./stats.js";

const CFG = fileURLToPath(new URL("../../bench/switch-alone.cfg", import.meta.url)); // from dist/bench

export interface SwitchAlone {
  port: number;
  /** Every Kamailio process (the main one and its workers), for CPU readings. */
  pids: number[];
  stop(): Promise<void>;
}

/** Starts it in `dir`, relaying to the phones at 127.0.0.1:`phonesPort`. */
export async function startSwitchAlone(dir: string, phonesPort: number): Promise<SwitchAlone> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort({ udp: true });
  const file = join(dir, "switch-alone.cfg");
  writeFileSync(file, ["#!KAMAILIO", ...Object.entries({ SB_HOST: "127.0.0.1", SB_PORT: port, SB_PHONES: `127.0.0.1:${phonesPort}` })
    .map(([k, v]) => substValue(k, v)), `include_file "${CFG}"`, ""].join("\n"));
  execFileSync("kamailio", ["-c", "-f", file], { stdio: "ignore" });
  const child = spawnChild("switch alone", "kamailio", kamailioArgs(file, dir));
  try {
    await waitForPorts([port], { timeoutMs: 15_000, abort: () => (child.hasExited() ? `kamailio (switch alone) stopped during startup:\n${child.output()}` : undefined) });
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { port, pids: findPids(file), stop: () => child.stop() };
}
