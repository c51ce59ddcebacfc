/**
 * Issue 13, authority control: the one table of route scopes (every route of the OpenAPI document is in it,
 * and the document says the scope the server checks), scope logic, token identification by sha256, and the
 * config's roles and tokens.
 */
import { describe, expect, it } from "@jest/globals";
import { createHash } from "node:crypto";
import { auditor, supervisorScope } from "../../component/authz.js";
import { validateConfig } from "../../component/config.js";
import { openApiDocument } from "../../component/http/openapi.js";
import { ROUTE_SCOPES, allows, guarded, identify, scopeFor, tokenTable } from "../../component/http/scopes.js";

const hex = (t: string) => createHash("sha256").update(t).digest("hex");
const base = {
  domain: "acme.test", guestDomain: "guest.acme.test", component: { domain: "cc.acme.test", secret: "s" },
  ports: { c2s: 5222, http: 5280, component: 5347, redis: 6379, web: 8080 }, admin: { token: "long-enough" },
  queues: [{ name: "billing", skills: ["billing"] }, { name: "sales", skills: ["sales"] }],
};
const problem = (doc: unknown) => { try { validateConfig(doc); return ""; } catch (e) { return (e as Error).message; } };

describe("the route scope table", () => {
  const operations = Object.entries(openApiDocument.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((method) => [method.toUpperCase(), path.replace(/\{(\w+)\}/g, ":$1")] as const));

  it("names every operation of the OpenAPI document, and nothing else but /metrics", () => {
    const table = ROUTE_SCOPES.map(([m, p]) => `${m} ${p}`).sort();
    expect(table).toEqual([...operations.map(([m, p]) => `${m} ${p}`), "GET /metrics"].sort());
  });

  it("is what the document says each operation needs", () => {
    for (const [path, ops] of Object.entries(openApiDocument.paths)) {
      for (const [method, op] of Object.entries(ops as Record<string, { security?: Array<{ admin: string[] }>; responses: Record<string, unknown> }>)) {
        const scope = scopeFor(method, path.replace(/\{(\w+)\}/g, "x"));
        if (scope === "public") { expect(op.security).toEqual([]); continue; }
        expect(op.security).toEqual([{ admin: [scope] }]);
        expect(op.responses["403"]).toBeDefined();
      }
    }
  });

  it("gives reads read, ending supervise, erasure and the audit admin; an unlisted /api route admin", () => {
    expect(scopeFor("GET", "/api/agents")).toBe("read");
    expect(scopeFor("HEAD", "/api/agents/")).toBe("read");
    expect(scopeFor("get", "/API/Queues")).toBe("read");
    expect(scopeFor("GET", "/metrics")).toBe("read");
    expect(scopeFor("GET", "/api/sessions/s1/transcript")).toBe("read");
    expect(scopeFor("POST", "/api/sessions/s1/end")).toBe("supervise");
    expect(scopeFor("DELETE", "/api/customers/ann@example.test")).toBe("admin");
    expect(scopeFor("GET", "/api/audit")).toBe("admin");
    expect(scopeFor("GET", "/api/openapi.json")).toBe("public");
    expect(scopeFor("POST", "/api/agents")).toBe("admin");
    expect(scopeFor("GET", "/api/sessions/s1/end")).toBe("admin");
    expect(scopeFor("GET", "/api/whatever")).toBe("admin");
    expect(scopeFor("POST", "/api/sessions//end")).toBe("admin");
  });

  it("guards /api and /metrics only", () => {
    expect(["/api", "/api/", "/api/agents", "/metrics", "/METRICS/"].every(guarded)).toBe(true);
    expect(["/", "/api-docs", "/healthz", "/metrics2", "/desk/"].some(guarded)).toBe(false);
  });

  it("lets admin hold every scope, and the others only their own", () => {
    expect(allows(["admin"], "read") && allows(["admin"], "supervise") && allows(["admin"], "admin")).toBe(true);
    expect(allows(["read"], "read")).toBe(true);
    expect(allows(["read"], "supervise")).toBe(false);
    expect(allows(["supervise"], "read")).toBe(false);
    expect(allows(["read", "supervise"], "admin")).toBe(false);
  });
});

describe("tokens", () => {
  const tokens = tokenTable({ token: "the-full-power-token", tokens: [{ name: "wall", sha256: hex("wall-secret"), scopes: ["read"] }] });
  it("are known by their sha256; admin.token is the full-power 'admin'", () => {
    expect(identify(tokens, "the-full-power-token")).toMatchObject({ name: "admin", scopes: ["admin"] });
    expect(identify(tokens, "wall-secret")).toMatchObject({ name: "wall", scopes: ["read"] });
    expect(identify(tokens, hex("wall-secret"))).toBeUndefined(); // the digest itself is no token
    expect(identify(tokens, "wall-secre")).toBeUndefined();
    expect(identify(tokens, "")).toBeUndefined();
  });
});

describe("the config's roles and tokens", () => {
  it("keeps configs without them valid, with defaults", () => {
    const c = validateConfig({ ...base, supervisors: [{ jid: "sam@acme.test", password: "pw" }] });
    expect(c.admin.tokens).toEqual([]);
    expect(c.audit.retentionDays).toBe(730);
    expect(c.supervisors[0]).toMatchObject({ role: "supervisor" });
    expect(c.supervisors[0]!.queues).toBeUndefined();
  });
  it("takes queue-limited supervisors, admins and hashed tokens", () => {
    const c = validateConfig({
      ...base, admin: { token: "long-enough", tokens: [{ name: "lead", sha256: hex("x").toUpperCase(), scopes: ["read", "supervise"] }] },
      supervisors: [{ jid: "tess@acme.test", password: "pw", queues: ["sales"] }, { jid: "ada@acme.test", password: "pw", role: "admin" }],
      audit: { retentionDays: 3650 },
    });
    expect(c.admin.tokens[0]).toEqual({ name: "lead", sha256: hex("x"), scopes: ["read", "supervise"] });
    expect(c.supervisors.map((s) => [s.role, s.queues])).toEqual([["supervisor", ["sales"]], ["admin", undefined]]);
    expect(c.audit.retentionDays).toBe(3650);
  });
  it("names the bad key", () => {
    expect(problem({ ...base, supervisors: [{ jid: "tess@acme.test", password: "pw", queues: ["nope"] }] })).toMatch(/supervisors\[0\]\.queues: there is no queue "nope"/);
    expect(problem({ ...base, supervisors: [{ jid: "ada@acme.test", password: "pw", role: "admin", queues: ["sales"] }] })).toMatch(/supervisors\[0\]: an admin has every queue/);
    expect(problem({ ...base, admin: { token: "long-enough", tokens: [{ name: "t", sha256: "abc", scopes: ["read"] }] } })).toMatch(/admin\.tokens\[0\]\.sha256/);
    expect(problem({ ...base, admin: { token: "long-enough", tokens: [{ name: "t", sha256: hex("t"), scopes: ["root"] }] } })).toMatch(/admin\.tokens\[0\]\.scopes\[0\]/);
    expect(problem({ ...base, admin: { token: "long-enough", tokens: [{ name: "t", sha256: hex("t"), scopes: [] }] } })).toMatch(/admin\.tokens\[0\]\.scopes/);
    expect(problem({ ...base, admin: { token: "long-enough", tokens: [{ name: "admin", sha256: hex("t"), scopes: ["read"] }] } })).toMatch(/admin\.tokens: the name "admin"/);
    const twice = { name: "t", sha256: hex("t"), scopes: ["read"] };
    expect(problem({ ...base, admin: { token: "long-enough", tokens: [twice, twice] } })).toMatch(/admin\.tokens: the name "t" is used twice/);
  });
});

describe("supervisors' authority and the audit (component/authz.ts)", () => {
  const config = validateConfig({ ...base, supervisors: [{ jid: "sam@acme.test", password: "pw" }, { jid: "tess@acme.test", password: "pw", queues: ["sales"] }] });
  const cti = { queues: [{ name: "billing", skills: ["billing"] }, { name: "sales", skills: ["sales"] }] } as never;
  const scope = supervisorScope(config, cti);

  it("limits a queue-limited supervisor to its queues and the agents with their skills", () => {
    expect(scope.mayQueue("tess@acme.test", "sales")).toBe(true);
    expect(scope.mayQueue("tess@acme.test", "billing")).toBe(false);
    expect(scope.mayAgent("tess@acme.test", ["sales", "fr"])).toBe(true);
    expect(scope.mayAgent("tess@acme.test", ["billing"])).toBe(false);
    expect(scope.mayAgent("tess@acme.test", [])).toBe(false);
    expect(scope.mayQueue("sam@acme.test", "billing") && scope.mayAgent("sam@acme.test", [])).toBe(true);
  });

  it("lets an action stand when it cannot be audited, with a warning", async () => {
    const warnings: unknown[] = [];
    const audit = auditor({ audit: () => Promise.reject(new Error("redis away")) } as never, { warn: (...a: unknown[]) => warnings.push(a) } as never);
    await expect(audit("token:lead", "end-session", "s1")).resolves.toBeUndefined();
    expect(warnings).toEqual([[{ err: "redis away", actor: "token:lead", action: "end-session", target: "s1" }, "an action could not be written to the audit log"]]);
  });
});
