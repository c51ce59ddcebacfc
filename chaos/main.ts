/**
 * npm run chaos: fault cycles against a real stack; writes bench/results/chaos.json; non-zero exit on a broken
 * invariant (chats: lost, duplicated, over capacity, crashes; calls: lost, duplicated, voice sessions left
 * live, seats not freed, sessions queued again for an ended call).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { FAULT_KINDS, type FaultKind } from "./faults.js";
import { runChaos } from "./run.js";

const cycles = Number(process.env.CHAOS_CYCLES ?? 32);
const cycleSeconds = process.env.CHAOS_CYCLE_SECONDS ? Number(process.env.CHAOS_CYCLE_SECONDS) : undefined;
const foldEvery = process.env.CHAOS_FOLD_EVERY ? Number(process.env.CHAOS_FOLD_EVERY) : undefined;
/** CHAOS_KINDS=kamailio-kill9,redis-kill9: only these faults, in this rotation. */
const kinds = process.env.CHAOS_KINDS?.split(",").map((k) => k.trim()).filter(Boolean) as FaultKind[] | undefined;
const unknown = kinds?.filter((k) => !FAULT_KINDS.includes(k));
if (unknown?.length) {
  console.error(`chaos: unknown fault kinds ${unknown.join(", ")} (known: ${FAULT_KINDS.join(", ")})`);
  process.exit(2);
}
/** CHAOS_CALLS_DURING_REDIS=0: no call in flight during the Redis faults (the runner lets them end first). */
const callsDuringRedisFaults = process.env.CHAOS_CALLS_DURING_REDIS !== "0";
const started = Date.now();
const report = await runChaos({ cycles, cycleSeconds, foldEvery, kinds, callsDuringRedisFaults, log: (line) => console.log(`${((Date.now() - started) / 1000).toFixed(0).padStart(5)}s ${line}`) })
  .catch((err: Error) => {
    console.error(`chaos: the run could not go on: ${err.stack ?? err.message}`);
    process.exit(2);
  });
const out = fileURLToPath(new URL("../../bench/results/chaos.json", import.meta.url));
mkdirSync(fileURLToPath(new URL("../../bench/results/", import.meta.url)), { recursive: true });
const { componentLogs: _logs, ...saved } = report;
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), ...saved }, null, 2) + "\n");
console.log(JSON.stringify(saved, null, 2));
console.log(`wrote ${out}`);
const v = report.voice;
console.log(`calls: ${v.callsAcknowledged} acknowledged: ${v.callsServed} served, ${v.callsToldWhy} told why, ${v.callsCancelled} cancelled by the caller, ` +
  `${v.callsStillQueued} still queued, ${v.callsLostWithSwitch} lost with the switch (the documented limit; ${v.callsLostWithSwitchRinging} of them ringing a seat), ${v.callsLost} lost, ${v.callsDuplicated} duplicated; ` +
  `${v.voiceSessionsLeftLive} voice sessions left live, ${v.seatsNotFreed} seats not freed; ${v.callSessionsReplayed} sessions queued again for calls already ended`);
for (const line of v.lostWithSwitchDetails) console.log(`  lost with the switch: ${line}`);
for (const line of v.callSessionsReplayedDetails) console.log(`  queued again after its end: ${line}`);
const ok = report.lost === 0 && report.duplicated === 0 && report.overCapacity === 0 && report.crashes === 0 &&
  v.callsLost === 0 && v.callsDuplicated === 0 && v.voiceSessionsLeftLive === 0 && v.seatsNotFreed === 0 && v.callSessionsReplayed === 0;
console.log(ok ? "chaos: invariants hold" : "chaos: INVARIANT BROKEN");
process.exit(ok ? 0 : 1);
