/** Small text helpers of the console: durations and state names. */

/** 75 -> "1:15", 3725 -> "1:02:05". */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  return hh ? `${hh}:${two(mm)}:${two(ss)}` : `${mm}:${two(ss)}`;
}

const STATE_NAMES: Record<string, string> = {
  ready: "Ready", busy: "Busy", "wrap-up": "Wrap-up", "not-ready": "Not ready", offline: "Offline",
};
export const stateName = (state: string) => STATE_NAMES[state] ?? state;
