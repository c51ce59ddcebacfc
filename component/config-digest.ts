/**
 * What "the configuration changed" means for the audit log (issue 13): a digest per item, so a restart
 * with an edited file is audited as "queues: changed billing; agents: added dave@acme.test". Lists of
 * named things (queues, agents, supervisors, API tokens) are itemised by name; any other setting is one
 * item. Digests only: secrets (passwords, tokens) never leave the process in clear.
 */
import { createHash } from "node:crypto";
import type { Config } from "./config.js";

const digest = (value: unknown) => createHash("sha256").update(JSON.stringify(value) ?? "null").digest("hex").slice(0, 32);

/** The name an item of a configured list goes by, if it has one. */
const nameOf = (item: unknown): string | undefined => {
  if (typeof item !== "object" || item === null) return undefined;
  const { name, jid } = item as { name?: unknown; jid?: unknown };
  return typeof jid === "string" ? jid : typeof name === "string" ? name : undefined;
};

/** "section" or "section/name" -> digest, for every setting (admin.tokens itemised as "admin.tokens/<name>"). */
export function configDigests(config: Config): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (section: string, value: unknown) => {
    const named = Array.isArray(value) && value.length > 0 && value.every((v) => nameOf(v) !== undefined);
    if (!named) { out[section] = digest(value); return; }
    for (const item of value) out[`${section}/${nameOf(item)}`] = digest(item);
  };
  for (const [section, value] of Object.entries(config)) {
    if (section === "admin") {
      const { tokens, ...rest } = value as Config["admin"];
      add("admin", rest);
      add("admin.tokens", tokens);
    } else add(section, value);
  }
  return out;
}
