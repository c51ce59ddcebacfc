import { describe, expect, it } from "@jest/globals";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { parse } from "yaml";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig, validateConfig } from "../../component/config.js";
import { renderProsodyConfig } from "../../launcher/prosody.js";

const base = {
  domain: "acme.test", guestDomain: "guest.acme.test", component: { domain: "cc.acme.test", secret: "s" },
  ports: { c2s: 5222, http: 5280, component: 5347, redis: 6379, web: 8080 }, admin: { token: "long-enough" },
  queues: [{ name: "billing", skills: ["billing"] }],
  agents: [{ jid: "alice@acme.test", password: "pw", skills: ["billing"], maxChats: 1 }],
};
const message = (doc: unknown) => { try { validateConfig(doc); return ""; } catch (e) { return (e as ConfigError).message; } };

describe("configuration", () => {
  it("loads the demo config", () => {
    const c = loadConfig(DEFAULT_CONFIG_PATH);
    expect(c.queues.map((q) => q.name)).toContain("billing");
    expect(c.agents[0]).toMatchObject({ jid: "alice@acme.test" });
  });

  it("loads JSON too, and fills defaults", () => {
    const file = join(mkdtempSync(join(tmpdir(), "sb-config-")), "config.json");
    writeFileSync(file, JSON.stringify(base));
    const c = loadConfig(file);
    expect(c.queues[0]).toMatchObject({ allowGuests: true, deny: [], open: true });
    expect(c.redis.prefix).toBe("sb:");
  });

  it("keeps unknown keys, for later features", () => {
    expect((validateConfig({ ...base, futureFeature: { x: 1 } }) as Record<string, unknown>).futureFeature).toEqual({ x: 1 });
  });

  it("names the bad key and what is wrong", () => {
    expect(message({ ...base, queues: [{ name: "billing", skills: "billing" }] })).toMatch(/queues\[0\]\.skills: must be a list of skills/);
    expect(message({ ...base, ports: { ...base.ports, web: "8080" } })).toMatch(/ports\.web: .*number/);
    expect(message({ ...base, agents: [{ ...base.agents[0], maxChats: 0 }] })).toMatch(/agents\[0\]\.maxChats/);
    const { domain: _d, ...noDomain } = base;
    expect(message(noDomain)).toMatch(/^\s+domain: /m);
    expect(message({ ...base, agents: [{ ...base.agents[0], jid: "alice@elsewhere.test" }] })).toMatch(/agents\[0\]\.jid: must be on the domain acme.test/);
    expect(message({ ...base, queues: [{ name: "a" }, { name: "a" }] })).toMatch(/"a" is used twice/);
  });

  it("checks routing settings: hours, overflow", () => {
    const q = (over: Record<string, unknown>) => ({ ...base, queues: [{ name: "billing", skills: ["billing"], ...over }] });
    expect(message(q({ hours: { timezone: "Mars/Olympus", weekly: {} } }))).toMatch(/queues\[0\]\.hours\.timezone: must be an IANA time zone/);
    expect(message(q({ hours: { timezone: "UTC", weekly: { mon: ["17:00-09:00"] } } }))).toMatch(/queues\[0\]\.hours\.weekly\.mon\[0\]: must be a range/);
    expect(message(q({ overflowAfter: 60 }))).toMatch(/overflowAfter and overflowTo go together/);
    expect(message(q({ overflowAfter: 60, overflowTo: { queue: "nope" } }))).toMatch(/overflowTo\.queue: there is no queue "nope"/);
    expect(message(q({ overflowAfter: 60, overflowTo: { skills: ["fr"] }, hours: { timezone: "Europe/Paris", weekly: { mon: ["09:00-17:00"] } } }))).toBe("");
  });

  it("accepts the example of docs/routing.md", () => {
    const doc = readFileSync(new URL("../../../docs/routing.md", import.meta.url), "utf8");
    const example = parse(/```yaml\n([\s\S]*?)```/.exec(doc)![1]!) as { queues: Array<Record<string, unknown>> };
    const queues = [...example.queues, { name: "support", skills: ["support"] }];
    expect(message({ ...base, queues })).toBe("");
  });

  it("says when the file is missing or not YAML", () => {
    expect(() => loadConfig("/nonexistent/switchboard.yaml")).toThrow(/cannot read the configuration/);
    const file = join(mkdtempSync(join(tmpdir(), "sb-config-")), "bad.yaml");
    writeFileSync(file, "queues: [unclosed");
    expect(() => loadConfig(file)).toThrow(/not valid YAML/);
  });
});

describe("Prosody's configuration", () => {
  it("loads mod_switchboard_link on the component's host only, so Prosody reads that one connection whole", () => {
    const rendered = renderProsodyConfig(loadConfig(DEFAULT_CONFIG_PATH), { runDir: tmpdir(), insecure: true, logLevel: "warn" });
    const hosts = rendered.split(/\n(?=(?:VirtualHost|Component) )/);
    const ours = hosts.filter((h) => h.includes('"switchboard_link"'));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(/^Component "cc\.acme\.test"\n/);
    expect(readFileSync(new URL("../../../prosody/mod_switchboard_link.lua", import.meta.url), "utf8")).toMatch(/conn:set_mode\(read_size\)/);
  });
});
