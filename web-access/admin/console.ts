/**
 * The signed-in console: wires a Backend (the supervisor's XMPP account, supervisor.ts, or an admin API
 * token alone, api-backend.ts) to the wallboard, the agents and the live sessions, plus the history and
 * the audit log when a token was given. The backend says when things move (pushes, or its polling); each
 * time the agents and the sessions are read again, one request at a time.
 */
import { fill, h } from "../agent/dom.js";
import { errorText } from "../lib/connect.js";
import { Agents } from "./agents.js";
import { isUnauthorized, realtimeSince, type StateSince } from "./api.js";
import { Audit } from "./audit.js";
import type { Backend, Live, QueueFigures } from "./backend.js";
import { History } from "./history.js";
import { Sessions } from "./sessions.js";
import { Wallboard } from "./wallboard.js";

/** Runs `task` now, or once more after the current run if asked meanwhile (never two at once). */
function serial(task: () => Promise<void>): () => void {
  let running = false, again = false;
  const run = async (): Promise<void> => {
    if (running) { again = true; return; }
    running = true;
    try { await task(); } catch { /* shown by the task */ } finally {
      running = false;
      if (again) { again = false; void run(); }
    }
  };
  return () => void run();
}

/** How long the agents' times in state (/api/stats/realtime, a read of the history) are kept before reading them again. */
const SINCE_MS = 10000;

const stateWords = (state: string) => (state === "offline" ? "logged out" : state === "ready" ? "ready" : "not ready");

export class Console {
  readonly root: HTMLElement;
  private readonly wallboard = new Wallboard();
  private readonly agents: Agents;
  private readonly sessions: Sessions;
  private readonly alert: HTMLElement;
  /** With an admin API token only. */
  private readonly history: History | null;
  private readonly audit: Audit | null;
  private readonly notice: HTMLElement;
  private stopped = false;
  private queues: QueueFigures[] = [];
  private since: { at: number; map: Map<string, StateSince> } = { at: 0, map: new Map() };
  readonly refreshAgents: () => void;
  readonly refreshSessions: () => void;

  /** `token`: the admin API token ("" when none was given); `tokenOnly`: signed in with it alone. */
  constructor(private readonly backend: Backend, token: string, private readonly tokenOnly: boolean, private readonly onSignOut: (message?: string) => void) {
    this.alert = h("p", { class: "alert", attrs: { role: "alert" } });
    this.notice = h("p", { class: "notice", attrs: { role: "status" } });
    this.refreshAgents = serial(async () => {
      try {
        const [rows, since] = await Promise.all([backend.agents(), this.stateSince(token)]);
        this.agents.render(rows, since);
      } catch (err) { this.fail("Listing the agents failed", err); }
    });
    this.refreshSessions = serial(async () => {
      try { this.sessions.render(await backend.sessions()); } catch (err) { this.fail("Listing the sessions failed", err); }
    });
    this.agents = new Agents({
      setState: (jid, state, reason) => this.run(`${jid}: ${stateWords(state)}.`, () => backend.setAgentState(jid, state, reason)),
      adjust: (jid, change) => this.run(`${jid}: ${[change.skills && `skills ${change.skills.join(", ")}`, change.maxChats !== undefined && `${change.maxChats} chats at once`].filter(Boolean).join(", ")} until midnight.`,
        () => backend.adjustAgent(jid, change)),
      refresh: this.refreshAgents,
    });
    const mon = backend.monitoring;
    this.sessions = new Sessions({
      monitoring: mon && {
        monitor: (s) => this.run(`Monitoring session ${s}.`, () => mon.monitor(s)),
        unmonitor: (s) => this.run(`Stopped monitoring session ${s}.`, () => mon.unmonitor(s)),
        whisper: (s, text) => this.run(`Whispered to the agent of session ${s}.`, () => mon.whisper(s, text)),
        barge: (s, text) => this.run(text ? `Said to the customer of session ${s}.` : `Joined session ${s}.`, () => mon.barge(s, text)),
      },
      transfer: (s, to, note) => this.run(`Session ${s} transferred to ${"agent" in to ? to.agent : `the queue ${to.queue}`}.`, () => backend.transfer(s, to, note)),
      end: (s) => this.run(`Ended session ${s}.`, () => backend.endSession(s)),
      targets: () => ({ agents: this.agents.list, queues: this.queues }),
      refresh: this.refreshSessions,
    });
    this.history = token ? new History(token) : null;
    this.audit = token ? new Audit(token) : null;
    const signOut = h("button", { class: "btn btn-small", text: "Sign out", attrs: { type: "button" }, on: { click: () => void this.stop() } });
    this.root = h("div", { class: "console" },
      h("header", { class: "topbar" },
        h("div", { class: "brand" }, h("span", { class: "logo", attrs: { "aria-hidden": "true" } }, "SB"), h("span", {}, h("strong", { text: "Switchboard" }), h("span", { class: "brand-sub", text: "Supervisor console" }))),
        h("span", { class: "muted small", text: backend.who }), signOut),
      h("main", { class: "console-main" }, this.alert, this.notice, this.wallboard.root,
        h("div", { class: "columns" }, h("div", {}, this.agents.root, this.history?.root), h("div", {}, this.sessions.root, this.sessions.monitoring)),
        this.audit?.root));
  }

  /** The agents' times in state with a token (none without), read again at most every SINCE_MS. */
  private async stateSince(token: string): Promise<Map<string, StateSince>> {
    if (token && Date.now() - this.since.at >= SINCE_MS) {
      this.since = { at: Date.now(), map: await realtimeSince(token).catch(() => this.since.map) };
    }
    return this.since.map;
  }

  async start(): Promise<void> {
    const live: Live = {
      wallboard: (queues) => { this.queues = queues; this.wallboard.render(queues); void this.history?.refreshToday(); },
      changed: () => { this.refreshAgents(); this.refreshSessions(); },
      copy: (c) => this.sessions.copy(c),
      unmonitored: (session, text) => this.sessions.close(session, text),
      end: (message) => void this.stop(message),
      fail: (what, err) => this.fail(what, err),
    };
    void this.history?.refreshToday(true);
    void this.audit?.refresh();
    await this.backend.start(live);
  }

  /** Runs an action; says what happened (status) or why it failed (alert). */
  private async run(done: string, action: () => Promise<void>): Promise<boolean> {
    this.alert.textContent = "";
    try {
      await action();
      this.notice.textContent = done;
      return true;
    } catch (err) {
      this.fail("The action failed", err);
      return false;
    }
  }

  private fail(what: string, err: unknown): void {
    // Signed in with the token alone, a refused token leaves nothing to show: back to the sign-in.
    if (this.tokenOnly && isUnauthorized(err)) { void this.stop("The admin token was refused (it is unknown or was withdrawn). Sign in again."); return; }
    this.alert.textContent = `${what}: ${errorText(err)}`;
  }

  async stop(message?: string): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.backend.stop();
    this.wallboard.stop();
    this.agents.stop();
    this.sessions.stop();
    fill(this.root);
    this.onSignOut(message);
  }
}
