/**
 * Crashes, an invariant of the run (0): unhandled rejections and uncaught exceptions in the runner, runner
 * tasks that nobody awaits and that failed, and what processes.ts sees of the component processes. They are
 * recorded rather than thrown, so the run carries on and still ends with a report.
 */

export const errorText = (err: unknown) => (err instanceof Error ? (err.stack ?? err.message) : String(err)).split("\n").slice(0, 6).join(" | ");

export interface Crashes {
  record(what: string): void;
  /** A task nobody awaits: its failure is a bug of the runner, recorded as a crash. */
  background(p: Promise<unknown>, what: string): void;
  count(): number;
  /** The first 199 crashes, then the last one (a copy). */
  details(): string[];
  /** Removes the process-level handlers. */
  stop(): void;
}

export function watchCrashes(log: (line: string) => void): Crashes {
  const details: string[] = [];
  let count = 0;
  const record = (what: string) => {
    count++;
    if (details.length < 200) details.push(`${new Date().toISOString()} ${what}`);
    else details[199] = `... and more (the last: ${what})`;
    log(`  CRASH: ${what}`);
  };
  const onRejection = (reason: unknown) => record(`runner: unhandled rejection: ${errorText(reason)}`);
  const onException = (err: unknown) => record(`runner: uncaught exception: ${errorText(err)}`);
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onException);
  return {
    record,
    background: (p, what) => void p.catch((err) => record(`runner: ${what} failed: ${errorText(err)}`)),
    count: () => count,
    details: () => [...details],
    stop() {
      process.off("unhandledRejection", onRejection);
      process.off("uncaughtException", onException);
    },
  };
}
