/**
 * Routing lines, as pure functions. A line holds the waiting customers of one queue with the same needs
 * and base priority. Within a line every customer ages alike, so arrival order is routing order and only
 * a line's first customers need comparing with other lines'. Both stores keep lines (the Redis scripts
 * build the same key: reline in cti/redis/lua/includes.lua).
 */
import { canServe } from "./allocation.js";
import type { Agent, Queue, Session } from "./types.js";

export const lineKey = (s: Pick<Session, "queue" | "needs" | "priority">) => `${s.queue}|${s.needs.join(",")}|${s.priority}`;

export interface Line {
  key: string;
  queue: string;
  needs: string[];
  priority: number;
  rules?: Queue;
  /** The skills that may also serve the line's customers once they waited the queue's overflowAfter (extras kept). */
  overflow?: string[];
}

export function parseLine(key: string, rules?: Queue): Line {
  const [queue = "", needs = "", priority = "0"] = key.split("|");
  const line: Line = { key, queue, needs: needs ? needs.split(",") : [], priority: Number(priority), rules };
  if (rules?.overflowSkills) line.overflow = [...new Set([...rules.overflowSkills, ...line.needs.filter((s) => !rules.skills.includes(s))])].sort();
  return line;
}

/**
 * Finds the lines a set of seats can serve without looking at every line: lines are indexed by the first
 * skill they need and the first they may overflow to ("*": none), and a seat must have all of one or the
 * other. Parsed lines are kept (their number is bounded by the configuration, not by the customers), and
 * the index is rebuilt only when the store hands out another list of lines.
 */
export function createLineIndex(queueOf: (name: string) => Queue | undefined) {
  const parsed = new Map<string, Line>();
  let index: { of: readonly string[]; bySkill: Map<string, Line[]> } | undefined;

  function line(key: string): Line {
    let found = parsed.get(key);
    if (!found) parsed.set(key, (found = parseLine(key, queueOf(key.slice(0, key.indexOf("|"))))));
    return found;
  }

  /** Could any of these seats (`skills`: all of theirs) serve this line, by its needs or its overflow? */
  function servable(seats: Agent[], skills: Set<string>, l: Line): boolean {
    for (const needs of l.overflow ? [l.needs, l.overflow] : [l.needs]) {
      // The set rules most lines out at the cost of a lookup; levels are checked only for the rest.
      if (needs.every((s) => skills.has(s)) && seats.some((a) => canServe(a, needs, l.rules?.minLevels))) return true;
    }
    return false;
  }

  /** The lines among `keys` that any of these seats can serve. */
  function servableBy(keys: readonly string[], seats: Agent[]): Line[] {
    if (index?.of !== keys) {
      const bySkill = new Map<string, Line[]>();
      for (const l of keys.map(line)) {
        for (const skill of new Set([l.needs[0] ?? "*", ...(l.overflow ? [l.overflow[0] ?? "*"] : [])])) {
          const list = bySkill.get(skill);
          if (list) list.push(l); else bySkill.set(skill, [l]);
        }
      }
      index = { of: keys, bySkill };
    }
    const skills = new Set(seats.flatMap((a) => a.skills));
    const found = new Set(index.bySkill.get("*"));
    for (const skill of skills) for (const l of index.bySkill.get(skill) ?? []) found.add(l);
    return [...found].filter((l) => servable(seats, skills, l));
  }

  return { line, servableBy };
}
