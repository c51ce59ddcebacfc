/** The OpenAPI document itself: well formed enough for Ajv to compile every response, and complete. */
import { describe, expect, it } from "@jest/globals";
import { openApiDocument } from "../../component/http/openapi.js";
import { ROUTE_SCOPES } from "../../component/http/scopes.js";
import { checkResponse, compileAllResponses } from "../helpers/openapi.js";

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1 and every response schema compiles", () => {
    expect(openApiDocument.openapi).toBe("3.1.0");
    expect(compileAllResponses()).toBeGreaterThan(20);
  });
  it("describes every admin route of the scope table, each operation with its method", () => {
    const routes = ROUTE_SCOPES.filter(([, path]) => path.startsWith("/api/")).map(([method, path]) => `${method} ${path.replace(/:(\w+)/g, "{$1}")}`);
    const documented = Object.entries(openApiDocument.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(routes.sort());
    expect(routes).toEqual(expect.arrayContaining(["POST /api/sessions/{id}/transfer", "POST /api/agents/{jid}/state", "POST /api/agents/{jid}/adjust"]));
  });
  it("refuses a response that is not as described", () => {
    const error = { error: { code: "not-authorized", message: "x" } };
    expect(() => checkResponse("GET", "/api/agents", 401, "application/json", error)).not.toThrow();
    expect(() => checkResponse("GET", "/api/agents", 401, "application/json", { error: { code: "x" } })).toThrow(/does not match/);
    expect(() => checkResponse("GET", "/api/agents", 418, "application/json", error)).toThrow(/does not describe/);
    expect(() => checkResponse("GET", "/api/agents", 200, "text/html", "")).toThrow(/not described/);
    expect(() => checkResponse("GET", "/api/nothing", 200, "application/json", [])).toThrow(/no path/);
    expect(() => checkResponse("GET", "/api/erasure", 200, "application/json", {})).toThrow(/no path/);
    expect(() => checkResponse("DELETE", "/api/customers/ann%40example.test", 200, "application/json", { erased: { sessions: 1, transcriptLines: 4, events: 9 } })).not.toThrow();
  });
});
