/**
 * Business hours of a queue, in its own time zone, with holidays. Pure: the
 * caller passes the time. Days without hours, and holidays, are closed.
 */
export const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Day = (typeof DAYS)[number];
const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

export interface Hours {
  /** IANA time zone, e.g. "Europe/Paris". */
  timezone: string;
  /** Opening ranges per day, "09:00-17:00"; a day that is missing is closed. */
  weekly: Partial<Record<Day, string[]>>;
  /** Closed dates, "YYYY-MM-DD" in the queue's time zone. */
  holidays: string[];
}

/** "09:00-17:30" -> [540, 1050] minutes after midnight; null when malformed or empty. */
export function parseRange(range: string): [number, number] | null {
  const m = /^(\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(range);
  if (!m) return null;
  const [from, to] = [Number(m[1]) * 60 + Number(m[2]), Number(m[3]) * 60 + Number(m[4])];
  return from < to && to <= 24 * 60 ? [from, to] : null;
}

/** The wall clock in a time zone: date "YYYY-MM-DD", weekday index (0 = Sunday) and minutes after midnight. */
function wallClock(timezone: string, now: number): { date: string; weekday: number; minutes: number } {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
    timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(now)).map((p) => [p.type, p.value]));
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  return { date, weekday: new Date(`${date}T12:00:00Z`).getUTCDay(), minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

const ranges = (hours: Hours, weekday: number) => (hours.weekly[DAYS[weekday]!] ?? []).map(parseRange).filter((r): r is [number, number] => r !== null);
const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;

export function isOpen(hours: Hours, now: number): boolean {
  const { date, weekday, minutes } = wallClock(hours.timezone, now);
  return !hours.holidays.includes(date) && ranges(hours, weekday).some(([from, to]) => minutes >= from && minutes < to);
}

/** When the queue opens next, in words ("Monday 30 November at 09:00 (Europe/Paris)"), within two weeks; else null. */
export function nextOpening(hours: Hours, now: number): string | null {
  const today = wallClock(hours.timezone, now);
  for (let offset = 0; offset < 14; offset++) {
    const day = new Date(Date.parse(`${today.date}T12:00:00Z`) + offset * 86_400_000);
    const date = day.toISOString().slice(0, 10);
    if (hours.holidays.includes(date)) continue;
    const start = ranges(hours, day.getUTCDay()).map(([from]) => from).sort((a, b) => a - b).find((from) => offset > 0 || from > today.minutes);
    if (start === undefined) continue;
    const when = offset === 0 ? "today" : offset === 1 ? "tomorrow" : `${DAY_NAMES[day.getUTCDay()]} ${day.getUTCDate()} ${day.toLocaleString("en-GB", { month: "long", timeZone: "UTC" })}`;
    return `${when} at ${hhmm(start)} (${hours.timezone})`;
  }
  return null;
}

/**
 * The next midnight in a time zone (ms): when "for the day" ends. A day of 23 or 25 hours (a DST change)
 * is corrected by looking at the wall clock at the first guess.
 */
export function nextMidnight(timezone: string, now: number): number {
  const guess = now - wallClock(timezone, now).minutes * 60_000 - (now % 60_000) + 86_400_000;
  const off = wallClock(timezone, guess).minutes; // 0, or an hour either side
  return off === 0 ? guess : off < 720 ? guess - off * 60_000 : guess + (1440 - off) * 60_000;
}
