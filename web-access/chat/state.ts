/**
 * The customer page's state, kept in sessionStorage so a reload (or the
 * widget's iframe being reloaded) continues the same conversation: the
 * transcript, the phase, and the session id and token to resume with.
 * Inside the widget, when the browser denies the iframe its own storage, the
 * widget keeps it in the embedding page's sessionStorage: that page then
 * holds the resume token, which is fine since it runs the widget's script
 * and so controls the chat anyway.
 */
import type { SharedFile } from "../../protocol/files.js";

export type Phase =
  | "form" // pre-chat form
  | "waiting" // in the queue
  | "chatting" // assigned to a seat
  | "ended" // the session ended: rating, transcript
  | "unavailable" // nobody can serve the queue: leave a message
  | "call"; // a call from the page (not resumable: a reload ends it)

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
  /** For "agent": an expert the agent invited wrote it (issue 15), by this name; else the agent did. */
  expert?: string;
  /** A shared file (issue 15): the line shows it as a link with name and size. */
  file?: SharedFile;
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
  /** What was refused when nobody could serve: a chat (default) or a call. */
  unavailableFor?: "chat" | "call";
  messageSent?: boolean;
}

const key = (queue: string) => `switchboard.chat.${queue}`;

/**
 * Where the state is kept: the page's sessionStorage; or, inside the widget's
 * iframe on a site whose browser blocks third-party storage (Chrome with
 * third-party cookies blocked, incognito), the embedding page's
 * sessionStorage through the widget (postMessage, see ../widget/main.ts);
 * or only memory.
 */
interface KeyValue { get(k: string): string | null; set(k: string, v: string): void }
function memoryStorage(): KeyValue {
  const m = new Map<string, string>();
  return { get: (k) => m.get(k) ?? null, set: (k, v) => { m.set(k, v); } };
}
let storage: KeyValue = memoryStorage();

function ownSessionStorage(): KeyValue | null {
  try {
    const probe = "switchboard.probe";
    sessionStorage.setItem(probe, "1");
    sessionStorage.removeItem(probe);
    return { get: (k) => sessionStorage.getItem(k), set: (k, v) => sessionStorage.setItem(k, v) };
  } catch {
    return null;
  }
}

/** The embedding page's origin, as far as the browser tells: where state messages may go. */
function parentOrigin(): string {
  const ancestors = (location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins;
  if (ancestors && ancestors.length > 0) return ancestors[0]!;
  try {
    if (document.referrer) return new URL(document.referrer).origin;
  } catch {
    // no usable referrer
  }
  return "*";
}

/** Message types between the chat page in the widget's iframe and the widget. */
export const EMBED_MESSAGES = { hello: "switchboard:hello", state: "switchboard:state", save: "switchboard:save", close: "switchboard:close" } as const;

/**
 * Chooses the storage; call once before loadState. `embedded`: in the
 * widget's iframe, where the widget answers a hello with what it kept for us
 * (waits up to `waitMs` for it: a page framed without the widget never answers).
 */
export async function initStorage(embedded: boolean, waitMs = 1500): Promise<"session" | "parent" | "memory"> {
  const own = ownSessionStorage();
  if (own) {
    storage = own;
    return "session";
  }
  if (!embedded || parent === window) return "memory";
  const target = parentOrigin();
  const entries = await new Promise<Record<string, string> | null>((resolve) => {
    const timer = setTimeout(() => { removeEventListener("message", on); resolve(null); }, waitMs);
    function on(e: MessageEvent) {
      const d = e.data as { type?: string; entries?: unknown } | null;
      if (e.source !== parent || d?.type !== EMBED_MESSAGES.state || (target !== "*" && e.origin !== target)) return;
      clearTimeout(timer);
      removeEventListener("message", on);
      resolve(d.entries && typeof d.entries === "object" ? (d.entries as Record<string, string>) : {});
    }
    addEventListener("message", on);
    parent.postMessage({ type: EMBED_MESSAGES.hello }, target);
  });
  if (!entries) return "memory";
  const copy = new Map(Object.entries(entries).filter(([, v]) => typeof v === "string"));
  storage = {
    get: (k) => copy.get(k) ?? null,
    set: (k, v) => {
      copy.set(k, v);
      parent.postMessage({ type: EMBED_MESSAGES.save, key: k, value: v }, target);
    },
  };
  return "parent";
}

export function freshState(queue: string): ChatState {
  return { v: 1, queue, phase: "form", lines: [] };
}

export function loadState(queue: string): ChatState {
  try {
    const raw = storage.get(key(queue));
    const s = raw ? (JSON.parse(raw) as ChatState) : null;
    if (s && s.v === 1 && s.queue === queue && Array.isArray(s.lines)) return s;
  } catch {
    // corrupt: start over
  }
  return freshState(queue);
}

export function saveState(s: ChatState): void {
  try {
    storage.set(key(s.queue), JSON.stringify(s));
  } catch {
    // storage full: the page still works, it just cannot survive a reload
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
    const who = l.who === "me" ? "You" : l.who === "agent" ? (l.expert ? `${l.expert} (expert)` : s.agentName ?? agentFallback) : "*";
    out.push(`[${stamp(l.at)}] ${who}: ${l.text.replace(/\r?\n/g, "\n    ")}`);
  }
  return out.join("\n") + "\n";
}
