/**
 * The customer page's state, kept in sessionStorage so a reload (or the
 * widget's iframe being reloaded) continues the same conversation: the
 * transcript, the phase, and the session id and token to resume with.
 */

export type Phase =
  | "form" // pre-chat form
  | "waiting" // in the queue
  | "chatting" // assigned to a seat
  | "ended" // the session ended: rating, transcript
  | "unavailable"; // nobody can serve the queue: leave a message

export interface Line {
  id: string;
  who: "me" | "agent" | "system";
  text: string;
  /** ms since epoch */
  at: number;
  /** For "me": the seat's client acknowledged it (XEP-0184). */
  delivered?: boolean;
  /** For "me": it bounced; the error text. */
  failed?: string;
}

export interface ChatState {
  v: 1;
  queue: string;
  phase: Phase;
  /** From the join result (<session id token/>) or from <assigned session/>. */
  session?: string;
  token?: string;
  /** The seat's bare JID while assigned. */
  seat?: string;
  agentName?: string;
  /** The pre-chat answers, to join again when a queued place was lost (e.g. reloaded while waiting). */
  form?: Record<string, string>;
  /** Last queue-status. */
  position?: number;
  waitSeconds?: number;
  lines: Line[];
  endedText?: string;
  rated?: boolean;
  unavailableText?: string;
  messageSent?: boolean;
}

const key = (queue: string) => `switchboard.chat.${queue}`;

export function freshState(queue: string): ChatState {
  return { v: 1, queue, phase: "form", lines: [] };
}

export function loadState(queue: string): ChatState {
  try {
    const raw = sessionStorage.getItem(key(queue));
    const s = raw ? (JSON.parse(raw) as ChatState) : null;
    if (s && s.v === 1 && s.queue === queue && Array.isArray(s.lines)) return s;
  } catch {
    // storage disabled or corrupt: start over
  }
  return freshState(queue);
}

export function saveState(s: ChatState): void {
  try {
    sessionStorage.setItem(key(s.queue), JSON.stringify(s));
  } catch {
    // storage full or disabled: the page still works, it just cannot survive a reload
  }
}

/** The conversation as a plain-text file's contents. */
export function transcriptText(s: ChatState, queueTitle: string, agentFallback = "Agent"): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const stamp = (ms: number) => {
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  };
  const out = [`Chat transcript: ${queueTitle}`];
  if (s.session) out.push(`Session: ${s.session}`);
  if (s.lines[0]) out.push(`Started: ${stamp(s.lines[0].at)}`);
  out.push("");
  for (const l of s.lines) {
    const who = l.who === "me" ? "You" : l.who === "agent" ? s.agentName ?? agentFallback : "*";
    out.push(`[${stamp(l.at)}] ${who}: ${l.text.replace(/\r?\n/g, "\n    ")}`);
  }
  return out.join("\n") + "\n";
}
