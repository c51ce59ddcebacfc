/**
 * The signed-in console: wires the supervisor's XMPP session (supervisor.ts)
 * to the wallboard, the agents and the live sessions. Everything moves on
 * pushes: each wallboard notification (at most once a second per node) also
 * refreshes the agents and the sessions, one request at a time.
 */
import { xml, type Client } from "@xmpp/client";
import type { Element } from "@xmpp/xml";
import { fill, h } from "../agent/dom.js";
import { errorCondition, errorText } from "../lib/connect.js";
import { Agents } from "./agents.js";
import { realtimeSince } from "./api.js";
import { History } from "./history.js";
import { Sessions } from "./sessions.js";
import { Supervisor, parseCopy, parseQueues, parseUnmonitored, queuesItem } from "./supervisor.js";
import { Wallboard } from "./wallboard.js";

/** How often the agents and sessions are read besides the pushes (never faster than once a second). */
const POLL_MS = 5000;

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

export class Console {
  readonly root: HTMLElement;
  private readonly sup: Supervisor;
  private readonly wallboard = new Wallboard();
  private readonly agents: Agents;
  private readonly sessions: Sessions;
  private readonly alert: HTMLElement;
  /** With an admin API token only. */
  private readonly history: History | null;
  private readonly notice: HTMLElement;
  private stopped = false;
  private poll: ReturnType<typeof setInterval> | undefined;
  readonly refreshAgents: () => void;
  readonly refreshSessions: () => void;

  constructor(private readonly xmpp: Client, cc: string, private readonly token: string, private readonly onSignOut: (message?: string) => void) {
    this.sup = new Supervisor(xmpp, cc);
    this.alert = h("p", { class: "alert", attrs: { role: "alert" } });
    this.notice = h("p", { class: "notice", attrs: { role: "status" } });
    this.refreshAgents = serial(async () => {
      try {
        const [rows, since] = await Promise.all([this.sup.agents(), this.token ? realtimeSince(this.token).catch(() => new Map<string, number>()) : Promise.resolve(new Map<string, number>())]);
        this.agents.render(rows, since);
      } catch (err) { this.fail("Listing the agents failed", err); }
    });
    this.refreshSessions = serial(async () => {
      try { this.sessions.render(await this.sup.sessions()); } catch (err) { this.fail("Listing the sessions failed", err); }
    });
    this.agents = new Agents({
      setState: async (jid, state, reason) => { await this.run(`${jid}: ${state === "offline" ? "logged out" : state === "ready" ? "ready" : "not ready"}.`, () => this.sup.setAgentState(jid, state, reason)); },
      refresh: this.refreshAgents,
    });
    this.sessions = new Sessions({
      monitor: (s) => this.run(`Monitoring session ${s}.`, () => this.sup.monitor(s)),
      unmonitor: (s) => this.run(`Stopped monitoring session ${s}.`, () => this.sup.unmonitor(s)),
      whisper: (s, text) => this.run(`Whispered to the agent of session ${s}.`, () => this.sup.whisper(s, text)),
      barge: (s, text) => this.run(text ? `Said to the customer of session ${s}.` : `Joined session ${s}.`, () => this.sup.barge(s, text)),
      end: (s) => this.run(`Ended session ${s}.`, () => this.sup.endSession(s)),
      refresh: this.refreshSessions,
    });
    this.history = token ? new History(token) : null;
    const signOut = h("button", { class: "btn btn-small", text: "Sign out", attrs: { type: "button" }, on: { click: () => void this.stop() } });
    this.root = h("div", { class: "console" },
      h("header", { class: "topbar" },
        h("div", { class: "brand" }, h("span", { class: "logo", attrs: { "aria-hidden": "true" } }, "SB"), h("span", {}, h("strong", { text: "Switchboard" }), h("span", { class: "brand-sub", text: "Supervisor console" }))),
        h("span", { class: "muted small", text: this.sup.jid }), signOut),
      h("main", { class: "console-main" }, this.alert, this.notice, this.wallboard.root,
        h("div", { class: "columns" }, h("div", {}, this.agents.root, this.history?.root), h("div", {}, this.sessions.root, this.sessions.monitoring))));
  }

  async start(): Promise<void> {
    this.xmpp.on("stanza", (s: Element) => this.stanza(s));
    this.xmpp.on("offline", () => { if (!this.stopped) this.end("The connection to the chat server was lost. Sign in again."); });
    try {
      // First, before any presence: an agent who signs in here must not become available to customers.
      await this.sup.subscribeWallboard();
    } catch (err) {
      if (errorCondition(err) === "forbidden") { // only configured supervisors may subscribe
        await this.stop(`${this.sup.jid} is not a supervisor here: the console is for supervisors.`);
        return;
      }
      this.fail("The wallboard is not available", err);
    }
    // Available: copies and notifications go to available resources only.
    await this.xmpp.send(xml("presence"));
    try {
      this.wallboard.render(await this.sup.wallboardNow());
    } catch (err) {
      this.fail("The wallboard is not available", err);
    }
    this.refreshAgents();
    this.refreshSessions();
    void this.history?.refreshToday(true);
    // A chat assigned to an agent with room left changes no wallboard figure (nothing is pushed): the agents'
    // chats and the live sessions are also read every POLL_MS (one ad-hoc command each), besides every push.
    this.poll = setInterval(() => { this.refreshAgents(); this.refreshSessions(); }, POLL_MS);
  }

  private stanza(s: Element): void {
    if (!s.is("message")) return;
    const item = queuesItem(s);
    if (item) {
      this.wallboard.render(parseQueues(item));
      void this.history?.refreshToday();
      this.refreshAgents();
      this.refreshSessions();
      return;
    }
    const copy = parseCopy(s);
    if (copy) { this.sessions.copy(copy); return; }
    const gone = parseUnmonitored(s);
    if (gone) { this.sessions.close(gone.session, gone.text); this.refreshSessions(); }
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
    this.alert.textContent = `${what}: ${errorText(err)}`;
  }

  private end(message?: string): void {
    this.stopped = true;
    clearInterval(this.poll);
    this.wallboard.stop();
    this.agents.stop();
    fill(this.root);
    this.onSignOut(message);
  }

  async stop(message?: string): Promise<void> {
    this.stopped = true;
    await this.xmpp.stop().catch(() => undefined);
    this.end(message);
  }
}
