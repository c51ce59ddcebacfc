/** npm run chaos: fault cycles against a real stack; writes bench/results/chaos.json; non-zero exit on a broken invariant. */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runChaos } from "./run.js";

const cycles = Number(process.env.CHAOS_CYCLES ?? 32);
const cycleSeconds = process.env.CHAOS_CYCLE_SECONDS ? Number(process.env.CHAOS_CYCLE_SECONDS) : undefined;
const foldEvery = process.env.CHAOS_FOLD_EVERY ? Number(process.env.CHAOS_FOLD_EVERY) : undefined;
const started = Date.now();
const report = await runChaos({ cycles, cycleSeconds, foldEvery, log: (line) => console.log(`${((Date.now() - started) / 1000).toFixed(0).padStart(5)}s ${line}`) })
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
const ok = report.lost === 0 && report.duplicated === 0 && report.overCapacity === 0 && report.crashes === 0;
console.log(ok ? "chaos: invariants hold" : "chaos: INVARIANT BROKEN");
process.exit(ok ? 0 : 1);
