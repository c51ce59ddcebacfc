/**
 * The admin API's actions on live work (scope supervise, issue 13): end or transfer a session, force an
 * agent's state, change its skills or capacity for the day. What a supervisor does with ad-hoc commands,
 * for the console signed in with a token and for scripts. Every action is audited as "token:<name>".
 * Bodies are small JSON objects, read strictly: unknown or repeated fields are refused.
 */
import express, { type Router } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import type { Cti } from "../../cti/cti.js";
import { CtiError, refuse } from "../../cti/errors.js";
import { nextMidnight } from "../../cti/hours.js";
import { LIMITS } from "../../cti/policy.js";
import { auditor, dayChangeWords } from "../authz.js";
import { actorOf, sessionJson } from "./views.js";

export interface SuperviseDeps {
  cti: Cti;
  /** config.timezone: "for the day" ends at midnight there. */
  timezone: string;
  log?: Logger;
  now?: () => number;
}

const BODIES = {
  state: z.strictObject({ state: z.enum(["ready", "not-ready", "offline"]), reason: z.string().max(200).optional() }),
  adjust: z.strictObject({
    skills: z.array(z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,31}$/i)).max(LIMITS.extraSkills * 5).optional(),
    maxChats: z.number().int().min(1).max(LIMITS.maxChats).optional(),
  }),
  transfer: z.union([
    z.strictObject({ agent: z.string().min(3).max(320), note: z.string().max(1000).optional() }),
    z.strictObject({ queue: z.string().min(1).max(64), note: z.string().max(1000).optional() }),
  ]),
};

/** Each body's shape in words: a refusal says what is expected, never what was sent. */
const EXPECTED: Record<keyof typeof BODIES, string> = {
  state: 'The body must be JSON {"state": "ready" | "not-ready" | "offline", "reason"?: text of at most 200 characters}.',
  adjust: `The body must be JSON {"skills"?: [skill names], "maxChats"?: 1-${LIMITS.maxChats}}, with at least one of them.`,
  transfer: 'The body must be JSON {"agent": "<bare JID>"} or {"queue": "<name>"}, with an optional "note" of at most 1000 characters.',
};

function body<K extends keyof typeof BODIES>(kind: K, raw: unknown): z.infer<(typeof BODIES)[K]> {
  const parsed = BODIES[kind].safeParse(raw);
  if (!parsed.success) throw new CtiError("bad-request", EXPECTED[kind]);
  return parsed.data as z.infer<(typeof BODIES)[K]>;
}

export function superviseRoutes(api: Router, { cti, timezone, log, now = Date.now }: SuperviseDeps) {
  const audit = auditor(cti, log);
  const json = express.json({ limit: "4kb" });
  const agentNamed = async (jid: string) => {
    const known = (await cti.agents()).find((a) => a.jid === jid.toLowerCase());
    if (!known) throw new CtiError("not-found", "There is no such agent.");
    return known;
  };

  // Ends a chat or a call (the soft switch hangs it up); answers with the session as it ended.
  api.post("/sessions/:id/end", async (req, res) => {
    const ended = await cti.forceEnd(String(req.params.id));
    await audit(actorOf(res), "end-session", ended.id, `queue ${ended.queue}, ${ended.media}`);
    res.json(sessionJson((await cti.session(ended.id))!));
  });

  // Moves a served chat to another agent (ready, with room) or back to a queue; answers with the session.
  api.post("/sessions/:id/transfer", json, async (req, res) => {
    const b = body("transfer", req.body);
    const s = await cti.session(String(req.params.id));
    if (!s) throw refuse.unknownSession();
    const to = "agent" in b ? { agent: b.agent } : { queue: b.queue };
    await cti.transfer(s.id, "", to, b.note ?? "", actorOf(res));
    await audit(actorOf(res), "transfer", s.id, `from ${s.seat ?? "?"} to ${"agent" in to ? to.agent : `the queue ${to.queue}`}`);
    res.json(sessionJson((await cti.session(s.id))!));
  });

  // Forces an agent's state (until its own presence changes it); answers with the agent.
  api.post("/agents/:jid/state", json, async (req, res) => {
    const b = body("state", req.body);
    const agent = await agentNamed(String(req.params.jid));
    const reason = b.reason || `set by ${actorOf(res)}`;
    await cti.agentState(agent.jid, b.state, reason);
    await audit(actorOf(res), "set-agent-state", agent.jid, `${b.state}: ${reason}`);
    res.json(await agentNamed(agent.jid));
  });

  // Changes an agent's skills and/or capacity until midnight (config.timezone); answers with the agent.
  api.post("/agents/:jid/adjust", json, async (req, res) => {
    const b = body("adjust", req.body);
    if (b.skills === undefined && b.maxChats === undefined) throw new CtiError("bad-request", EXPECTED.adjust);
    const agent = await agentNamed(String(req.params.jid));
    const applied = await cti.adjustAgent(agent.jid, b, nextMidnight(timezone, now()));
    if (!applied) throw new CtiError("not-found", "There is no such agent.");
    await audit(actorOf(res), "adjust-agent", agent.jid, dayChangeWords(applied, timezone));
    res.json(await agentNamed(agent.jid));
  });
}
