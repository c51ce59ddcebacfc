/**
 * XEP-0050 ad-hoc commands on the component's domain, for plain XMPP
 * clients: agents end, transfer and pause; supervisors list queues, agents and
 * sessions, force an agent's state, change its skills or capacity for the day,
 * and move or end any session in their queues. Stateless between steps: every
 * form carries what the next step needs.
 */
import { xml } from "@xmpp/component";
import type { Element } from "@xmpp/xml";
import { CtiError } from "../../cti/errors.js";
import { bareOf } from "../../cti/policy.js";
import type { AgentState } from "../../cti/types.js";
import { COMMAND, NS } from "../../protocol/names.js";
import { auditor, dayChangeWords, supervisorScope } from "../authz.js";
import type { Addr, HandlerDeps } from "./context.js";
import { nextMidnight } from "../../cti/hours.js";
import { duration } from "./stanzas.js";

/** Who may run a command: agents, supervisors, or both ("staff": inviting an expert, issue 15). */
type Role = "agent" | "supervisor" | "staff";
export interface Command { name: string; role: Role; run: (el: Element, addr: Addr, reply: Reply) => Promise<Element> }
export type Reply = (status: "completed" | "executing" | "canceled", ...children: Element[]) => Element;

export const note = (text: string) => xml("note", { type: "info" }, text);
export const submitted = (el: Element, field: string) =>
  el.getChild("x", NS.DATA)?.getChildren("field").find((f) => f.attrs.var === field)?.getChildText("value") ?? undefined;
export const form = (title: string, ...fields: Element[]) =>
  [xml("actions", { execute: "complete" }, xml("complete")), xml("x", { xmlns: NS.DATA, type: "form" }, xml("title", {}, title), ...fields)];
export const listSingle = (name: string, label: string, options: Array<[value: string, label: string]>) =>
  xml("field", { var: name, type: "list-single", label }, xml("required"),
    ...options.map(([value, text]) => xml("option", { label: text }, xml("value", {}, value))));
/** A result table (XEP-0004 reported + items), for clients that show forms; the note says the same in words. */
const table = (columns: Array<[name: string, label: string]>, rows: string[][]) =>
  xml("x", { xmlns: NS.DATA, type: "result" },
    xml("reported", {}, ...columns.map(([name, label]) => xml("field", { var: name, label }))),
    ...rows.map((row) => xml("item", {}, ...row.map((v, i) => xml("field", { var: columns[i]![0] }, xml("value", {}, v))))));

const STATES: AgentState[] = ["ready", "not-ready", "offline"];

/** A transfer's target as the forms give it: "agent:JID" or "queue:NAME". */
function transferTarget(target: string): { agent: string } | { queue: string } {
  const [kind, name] = [target.slice(0, target.indexOf(":")), target.slice(target.indexOf(":") + 1)];
  if ((kind !== "agent" && kind !== "queue") || !name) throw new CtiError("bad-request", 'The target must be "agent:JID" or "queue:NAME".');
  return kind === "agent" ? { agent: name } : { queue: name };
}

/** A comma (or space) separated list of skills as a form gives it. */
const skillList = (text: string) => text.split(/[\s,]+/).filter(Boolean);
/** XEP-0050 actions: our commands have one step, so "prev" (or anything else) is a bad action. */
const ACTIONS = new Set(["execute", "next", "complete", "cancel"]);

export function commandHandlers({ cti, config, log, isAgent, isSupervisor }: HandlerDeps, more: Record<string, Command> = {}) {
  // Authority (issue 13): a queue-limited supervisor acts on its queues only (scope.mayQueue, scope.mayAgent);
  // every supervisor action is audited once it is done.
  const scope = supervisorScope(config, cti);
  const audit = auditor(cti, log);
  const agentsOf = async (jid: string) => (await cti.agents()).filter((a) => scope.mayAgent(jid, a.skills));
  type AgentRow = Awaited<ReturnType<typeof cti.agents>>[number];
  /** A transfer form's choices: agents, then queues ("agent:JID", "queue:NAME"). */
  const targets = async (agent: (a: AgentRow) => boolean, queue: (name: string) => boolean) => [
    ...(await cti.agents()).filter(agent).map((a): [string, string] => [`agent:${a.jid}`, `${a.name ?? a.jid} (${a.state})`]),
    ...cti.queues.filter((q) => queue(q.name)).map((q): [string, string] => [`queue:${q.name}`, `Queue ${q.title ?? q.name}`]),
  ];
  /** A live session a supervisor may act on (its queues only), or a refusal. */
  const sessionInScope = async (supervisor: string, id: string) => {
    const session = await cti.session(id);
    if (!session || session.state === "ended") throw new CtiError("not-found", "There is no such live session.");
    if (!scope.mayQueue(supervisor, session.queue)) throw new CtiError("forbidden", "This session is not in your queues.");
    return session;
  };
  /** An agent a supervisor may act on (by the JID the CTI will act on: a resource or another spelling must not slip past), or a refusal. */
  const agentInScope = async (supervisor: string, jid: string) => {
    const known = (await cti.agents()).find((a) => a.jid === bareOf(jid).toLowerCase());
    if (!known) throw new CtiError("not-found", "There is no such agent.");
    if (!scope.mayAgent(supervisor, known.skills)) throw new CtiError("forbidden", "This agent is not in your queues.");
    return known;
  };
  const commands: Record<string, Command> = {
    [COMMAND.endSession]: {
      name: "End a customer session", role: "agent",
      async run(el, addr, reply) {
        const mine = await cti.liveSessionsOf(addr.fromBare);
        const target = submitted(el, "session") ?? (mine.length === 1 ? mine[0]!.id : undefined);
        if (target) return reply("completed", note(`The session with ${(await cti.end(target, addr.fromBare)).customer} has ended.`));
        if (mine.length === 0) return reply("completed", note("You have no active session."));
        return reply("executing", ...form("End a session",
          listSingle("session", "Session", mine.map((s) => [s.id, `${s.customer} (${s.queue})`]))));
      },
    },
    [COMMAND.endWrapUp]: {
      name: "End my wrap-up (ready for the next customer)", role: "agent",
      async run(_el, addr, reply) {
        const ended = await cti.endWrapUp(addr.fromBare);
        return reply("completed", note(ended ? "Wrap-up ended: you are ready for the next customer." : "You are not wrapping up."));
      },
    },
    [COMMAND.transfer]: {
      name: "Transfer a customer to another agent or queue", role: "agent",
      async run(el, addr, reply) {
        const mine = await cti.liveSessionsOf(addr.fromBare);
        const session = submitted(el, "session") ?? (mine.length === 1 ? mine[0]!.id : undefined);
        const target = submitted(el, "target");
        if (!session || !target) {
          if (mine.length === 0) return reply("completed", note("You have no active session."));
          return reply("executing", ...form("Transfer a customer",
            listSingle("session", "Customer", mine.map((s) => [s.id, `${s.customer} (${s.queue})`])),
            listSingle("target", "To", await targets((a) => a.jid !== addr.fromBare, () => true)),
            xml("field", { var: "note", type: "text-single", label: "Note for the next agent" })));
        }
        const to = transferTarget(target);
        await cti.transfer(session, addr.fromBare, to, submitted(el, "note") ?? "");
        return reply("completed", note(`Transferred to ${"agent" in to ? to.agent : to.queue}.`));
      },
    },
    [COMMAND.pause]: {
      name: "Pause (not ready, with a reason)", role: "agent",
      async run(el, addr, reply) {
        const reason = submitted(el, "other")?.trim() || submitted(el, "reason");
        if (!reason) {
          return reply("executing", ...form("Pause",
            listSingle("reason", "Reason", config.pauseReasons.map((r) => [r, r])),
            xml("field", { var: "other", type: "text-single", label: "Or another reason" })));
        }
        await cti.agentState(addr.fromBare, "not-ready", reason);
        // The client's own status is not ours to change: it still shows available, and choosing Available
        // again sends nothing. So the way back is said plainly (and Away pauses from the client itself).
        return reply("completed", note(`You are paused (${reason}). When you are back, run "ready" or write "ready" to ${config.component.domain}. `
          + "Your client still shows you available (choosing Available again changes nothing); to pause from your client instead, set your status to Away."));
      },
    },
    [COMMAND.ready]: {
      name: "Ready for customers", role: "agent",
      async run(_el, addr, reply) {
        await cti.endWrapUp(addr.fromBare);
        await cti.agentState(addr.fromBare, "ready");
        return reply("completed", note("You are ready for the next customer."));
      },
    },
    [COMMAND.listQueues]: {
      name: "List queues", role: "supervisor",
      async run(_el, addr, reply) {
        const queues = (await cti.queueStats()).filter((q) => scope.mayQueue(addr.fromBare, q.name));
        return reply("completed",
          note(queues.map((q) => `${q.name}: ${q.waiting} waiting${q.waiting ? `, the longest for ${duration(q.oldestWaitSeconds)}` : ""}`).join("\n")),
          table([["queue", "Queue"], ["waiting", "Waiting"], ["oldest", "Longest wait (s)"]],
            queues.map((q) => [q.name, String(q.waiting), String(q.oldestWaitSeconds)])));
      },
    },
    [COMMAND.listAgents]: {
      name: "List agents", role: "supervisor",
      async run(_el, addr, reply) {
        const agents = await agentsOf(addr.fromBare);
        return reply("completed",
          note(agents.map((a) => `${a.jid}: ${a.state}${a.reason ? ` (${a.reason})` : ""}, ${a.activeSessions} of ${a.maxChats} chats, skills ${a.skills.join(", ") || "none"}`).join("\n")),
          table([["jid", "Agent"], ["name", "Name"], ["state", "State"], ["reason", "Reason"], ["active", "Chats"], ["maxChats", "Capacity"], ["skills", "Skills"]],
            agents.map((a) => [a.jid, a.name ?? "", a.state, a.reason, String(a.activeSessions), String(a.maxChats), a.skills.join(",")])));
      },
    },
    [COMMAND.setAgentState]: {
      name: "Set an agent's state", role: "supervisor",
      async run(el, addr, reply) {
        const agent = submitted(el, "agent");
        const state = submitted(el, "state") as AgentState | undefined;
        if (!agent || !state) {
          const agents = await agentsOf(addr.fromBare);
          return reply("executing", ...form("Set an agent's state",
            listSingle("agent", "Agent", agents.map((a) => [a.jid, `${a.name ?? a.jid} (${a.state})`])),
            listSingle("state", "State", STATES.map((s) => [s, s])),
            xml("field", { var: "reason", type: "text-single", label: "Reason (for not-ready)" })));
        }
        if (!STATES.includes(state)) throw new CtiError("bad-request", `The state must be one of ${STATES.join(", ")}.`);
        const reason = submitted(el, "reason") || `set by ${addr.fromBare}`;
        const known = await agentInScope(addr.fromBare, agent);
        if (!(await cti.agentState(known.jid, state, reason))) throw new CtiError("not-found", "There is no such agent.");
        await audit(addr.fromBare, "set-agent-state", known.jid, `${state}: ${reason}`);
        return reply("completed", note(`${agent} is now ${state}, until the agent's own presence changes it.`));
      },
    },
    [COMMAND.endAnySession]: {
      name: "End a session or call (any agent's)", role: "supervisor",
      async run(el, addr, reply) {
        const target = submitted(el, "session");
        if (target) {
          await sessionInScope(addr.fromBare, target);
          const ended = await cti.forceEnd(target);
          await audit(addr.fromBare, "end-session", target, `queue ${ended.queue}, ${ended.media}`);
          return reply("completed", note(`The ${ended.media === "voice" ? "call" : "session"} of ${ended.customer} has ended.`));
        }
        const live = (await cti.sessions(0)).filter((s) => s.state !== "ended" && scope.mayQueue(addr.fromBare, s.queue));
        if (live.length === 0) return reply("completed", note("No session is live."));
        return reply("executing", ...form("End a session",
          listSingle("session", "Session", live.slice(0, 200).map((s) => [s.id, `${s.customer} (${s.queue}, ${s.media}, ${s.state}${s.seat ? `, ${s.seat}` : ""})`]))));
      },
    },
    [COMMAND.listSessions]: {
      name: "List live sessions", role: "supervisor",
      async run(_el, addr, reply) {
        const live = (await cti.sessions(0)).filter((s) => s.state !== "ended" && scope.mayQueue(addr.fromBare, s.queue)).slice(0, 500);
        return reply("completed",
          note(live.length ? live.map((s) => `${s.id}: ${s.customer} (${s.queue}, ${s.media}, ${s.state}${s.seat ? `, ${s.seat}` : ""})`).join("\n") : "No session is live."),
          table([["id", "Session"], ["customer", "Customer"], ["queue", "Queue"], ["media", "Media"], ["state", "State"], ["seat", "Agent"], ["queuedAt", "Joined"]],
            live.map((s) => [s.id, s.customer, s.queue, s.media, s.state, s.seat ?? "", new Date(s.queuedAt).toISOString()])));
      },
    },
    [COMMAND.transferSession]: {
      name: "Transfer a customer (any agent's) to another agent or queue", role: "supervisor",
      async run(el, addr, reply) {
        const session = submitted(el, "session");
        const target = submitted(el, "target");
        if (!session || !target) {
          const live = (await cti.sessions(0)).filter((s) => s.seat && s.media === "chat" && (s.state === "assigned" || s.state === "in-service") && scope.mayQueue(addr.fromBare, s.queue));
          if (live.length === 0) return reply("completed", note("No chat is being served."));
          return reply("executing", ...form("Transfer a customer",
            listSingle("session", "Customer", live.slice(0, 200).map((s) => [s.id, `${s.customer} (${s.queue}, ${s.seat})`])),
            listSingle("target", "To", await targets((a) => scope.mayAgent(addr.fromBare, a.skills), (q) => scope.mayQueue(addr.fromBare, q))),
            xml("field", { var: "note", type: "text-single", label: "Note for the next agent" })));
        }
        const s = await sessionInScope(addr.fromBare, session);
        const to = transferTarget(target);
        // Scoped both ways: a queue-limited supervisor moves customers only into its queues and agents.
        if ("queue" in to && !scope.mayQueue(addr.fromBare, to.queue)) throw new CtiError("forbidden", "That queue is not one of yours.");
        if ("agent" in to) await agentInScope(addr.fromBare, to.agent);
        await cti.transfer(s.id, "", to, submitted(el, "note") ?? "", addr.fromBare);
        const where = "agent" in to ? to.agent : `the queue ${to.queue}`;
        await audit(addr.fromBare, "transfer", s.id, `from ${s.seat ?? "?"} to ${where}`);
        return reply("completed", note(`${s.customer} is transferred to ${where}.`));
      },
    },
    [COMMAND.adjustAgent]: {
      name: "Change an agent's skills or capacity for today", role: "supervisor",
      async run(el, addr, reply) {
        const agent = submitted(el, "agent");
        const skills = submitted(el, "skills");
        const capacity = submitted(el, "maxChats");
        if (!agent) {
          const agents = await agentsOf(addr.fromBare);
          return reply("executing", ...form("Change an agent's skills or capacity for today",
            listSingle("agent", "Agent", agents.map((a) => [a.jid, `${a.name ?? a.jid} (${a.skills.join(", ") || "no skills"}; ${a.maxChats} chats)`])),
            xml("field", { var: "skills", type: "text-single", label: "Skills, comma separated (empty: keep)" }),
            xml("field", { var: "maxChats", type: "text-single", label: "Chats at once (empty: keep)" })));
        }
        const known = await agentInScope(addr.fromBare, agent);
        if (capacity && !/^\d{1,3}$/.test(capacity.trim())) throw new CtiError("bad-request", "The capacity must be a whole number of chats.");
        const change = { ...(skills?.trim() && { skills: skillList(skills) }), ...(capacity?.trim() && { maxChats: Number(capacity.trim()) }) };
        const applied = await cti.adjustAgent(known.jid, change, nextMidnight(config.timezone, Date.now()));
        if (!applied) throw new CtiError("not-found", "There is no such agent.");
        const said = dayChangeWords(applied, config.timezone);
        await audit(addr.fromBare, "adjust-agent", known.jid, said);
        return reply("completed", note(`${known.name ?? known.jid} now has ${said}.`));
      },
    },
    ...more, // quality monitoring (monitoring.ts), experts (expert.ts)
  };

  const allowed = (role: Role, jid: string) => (role === "agent" ? isAgent(jid) : role === "supervisor" ? isSupervisor(jid) : isAgent(jid) || isSupervisor(jid));

  /** The commands this requester may run (XEP-0050 lets the list depend on who asks). */
  function available(jid: string): Array<{ node: string; name: string }> {
    return Object.entries(commands).filter(([, c]) => allowed(c.role, jid)).map(([node, c]) => ({ node, name: c.name }));
  }

  /** The command at a node; hasOwn, so "__proto__" or "toString" name no command. */
  const commandAt = (node: string | undefined) => (node && Object.hasOwn(commands, node) ? commands[node] : undefined);

  async function execute(el: Element, addr: Addr): Promise<Element> {
    const node = el.attrs.node ?? "";
    const command = commandAt(node);
    if (!command) throw new CtiError("not-found", "There is no such command: list them with service discovery (node http://jabber.org/protocol/commands).");
    if (!allowed(command.role, addr.fromBare)) throw new CtiError("forbidden", `Only ${command.role === "staff" ? "agents and supervisor" : command.role}s may run ${node}.`);
    const action = el.attrs.action ?? "execute";
    if (!ACTIONS.has(action)) throw new CtiError("bad-action", "The action must be execute, next, complete or cancel.");
    const sessionid = /^[\w-]{1,64}$/.test(el.attrs.sessionid ?? "") ? el.attrs.sessionid! : `c${Date.now().toString(36)}`;
    const reply: Reply = (status, ...children) => xml("command", { xmlns: NS.COMMANDS, node, sessionid, status }, ...children);
    const data = el.getChild("x", NS.DATA);
    // XEP-0004: a form of type cancel withdraws the submission; only a submitted form is applied.
    if (action === "cancel" || data?.attrs.type === "cancel") return reply("canceled");
    if (data && data.attrs.type !== "submit") throw new CtiError("bad-request", "A command's form must be of type submit (or cancel).");
    return command.run(el, addr, reply);
  }

  return { available, execute };
}
